"""A marketplace account deletion: the buyer's data that came from that marketplace is erased.

eBay sends MARKETPLACE_ACCOUNT_DELETION to every application that holds a user's data and requires
it to delete that data (https://developer.ebay.com/marketplace-account-deletion). The notice names
the user by username and immutable user id; our identities of eBay buyers are their usernames.

`buyer_erase` runs in one transaction, under row locks on the identities it finds, on every store
the notice covers (the same platform in the receiving store's organization, and stores of other
organizations of this installation that use the same platform application, i.e. the same client id):

- the buyer's identities on those stores are deleted;
- the messages of the buyer's tickets on those stores (both directions: a reply names the buyer
  too) are redacted: text, HTML, display text, translations and the author's name; attachments are
  deleted with their files (after commit); occurrences of the identifiers in the ticket subject go;
- marketplace requests (returns, cases) keep their facts but lose the buyer's comment;
- a customer left with no identity anywhere is anonymised (name, e-mail); a customer who still has
  identities elsewhere (the same person known from another marketplace or by e-mail) keeps them, and
  the covered stores' tickets, orders and requests move to a new empty customer (unlinked);
- the search documents of the touched tickets are rebuilt;
- after commit, the raw copies of received records (RawEvent) of those stores that name the buyer as
  a JSON string (the notice included) are redacted: payload and raw bytes replaced, a quarantined one
  set aside as ignored. The rows stay (their platform event ids are not personal data) so that a
  redelivery is still recognised as a duplicate.

Kept, as the seller's own business records without the buyer's personal data: tickets (status,
category, timestamps), orders and their lines, refunds and RMAs, the agents' internal notes. Erasing
twice finds nothing the second time. The log line names the number of rows, never the identifiers."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.db import transaction

from aftersales.catalog.models import Customer, CustomerIdentity, Order, Store
from aftersales.core.actors import Actor
from aftersales.inbox.models import Attachment, Message, Ticket
from aftersales.inbox.services.search import customer_search_refresh, ticket_search_refresh
from aftersales.returns.models import ReturnRequest

from .marketplace_apps import effective_credentials
from .models import RawEvent, RawEventStatus

logger = logging.getLogger(__name__)

ERASED_TEXT = "[erased: the buyer closed their marketplace account]"
ERASED_NAME = ""


@dataclass(frozen=True)
class ErasureResult:
    stores: int
    identities: int
    customers_anonymised: int
    customers_unlinked: int
    tickets: int
    messages: int
    attachments: int
    return_requests: int

    def summary(self) -> str:
        return (
            f"buyer data erased: {self.identities} identities, {self.messages} messages, "
            f"{self.attachments} attachments, {self.return_requests} marketplace requests, "
            f"{self.customers_anonymised} customers anonymised, {self.customers_unlinked} unlinked"
        )


def _client_id(store: Store) -> str:
    try:
        return str(effective_credentials(store).get("client_id") or "")
    except Exception:  # undecryptable credentials: this store cannot be matched by application
        return ""


def covered_stores(store: Store) -> list[Store]:
    """The stores a deletion notice received by `store` covers: the same platform in its
    organization, plus other organizations' stores of the same platform application."""
    same_platform = list(Store.objects.filter(platform=store.platform).order_by("pk"))
    client_id = _client_id(store)
    return [
        s
        for s in same_platform
        if s.organization_id == store.organization_id or (client_id and _client_id(s) == client_id)
    ]


def buyer_erase(*, store: Store, external_ids: Iterable[str], actor: Actor) -> ErasureResult:
    """Erase what the covered stores hold about the buyer known there by any of `external_ids`
    (see the module docstring). Runs in the caller's transaction when there is one."""
    ids = sorted({i.strip() for i in external_ids if i and i.strip()})
    stores = covered_stores(store)
    store_ids = [s.pk for s in stores]
    if not ids or not store_ids:
        return ErasureResult(len(stores), 0, 0, 0, 0, 0, 0, 0)
    with transaction.atomic():
        identities = list(
            CustomerIdentity.objects.select_for_update()
            .filter(store_id__in=store_ids, external_id__in=ids)
            .order_by("pk")
        )
        customer_ids = sorted({i.customer_id for i in identities})
        tickets = list(
            Ticket.objects.select_for_update()
            .filter(store_id__in=store_ids, customer_id__in=customer_ids)
            .order_by("pk")
        )
        ticket_ids = [t.pk for t in tickets]
        attachments = list(Attachment.objects.filter(message__ticket_id__in=ticket_ids).values_list("pk", "file"))
        files = [name for _pk, name in attachments if name]
        Attachment.objects.filter(pk__in=[pk for pk, _name in attachments]).delete()
        messages = Message.objects.filter(ticket_id__in=ticket_ids).update(
            body=ERASED_TEXT, body_html="", body_display="", translations={}, author_name=ERASED_NAME
        )
        for ticket in tickets:
            subject = ticket.subject
            for value in ids:
                subject = subject.replace(value, "[erased]")
            if subject != ticket.subject:
                ticket.subject = subject
                ticket.save(update_fields=["subject"])
        requests = ReturnRequest.objects.filter(store_id__in=store_ids, customer_id__in=customer_ids).update(
            buyer_comment=""
        )
        CustomerIdentity.objects.filter(pk__in=[i.pk for i in identities]).delete()
        remaining = set(
            CustomerIdentity.objects.filter(customer_id__in=customer_ids).values_list("customer_id", flat=True)
        )
        anonymised = [c for c in customer_ids if c not in remaining]
        kept = [c for c in customer_ids if c in remaining]
        if anonymised:
            for customer in Customer.objects.select_for_update().filter(pk__in=anonymised).order_by("pk"):
                customer.name = ""
                customer.email = ""
                customer.save(update_fields=["name", "email", "email_normalized", "updated_at"])
        for customer in Customer.objects.filter(pk__in=kept).order_by("pk"):
            # The same person is known elsewhere: the covered stores' records move to a new, empty
            # customer (a ticket needs one), so that nothing links them to that person any more.
            blank = Customer.objects.create(organization_id=customer.organization_id, name="", email="")
            Ticket.objects.filter(pk__in=ticket_ids, customer=customer).update(customer=blank)
            Order.objects.filter(store_id__in=store_ids, customer=customer).update(customer=blank)
            ReturnRequest.objects.filter(store_id__in=store_ids, customer=customer).update(customer=blank)
        ticket_search_refresh(ticket_ids=ticket_ids)
        for customer_id in anonymised:
            customer_search_refresh(customer_id=customer_id)
        transaction.on_commit(lambda: _after_commit(store_ids, ids, files))
    result = ErasureResult(
        stores=len(stores),
        identities=len(identities),
        customers_anonymised=len(anonymised),
        customers_unlinked=len(kept),
        tickets=len(ticket_ids),
        messages=messages,
        attachments=len(attachments),
        return_requests=requests,
    )
    logger.info(
        "marketplace account deletion applied",
        extra={
            "store_id": store.pk,
            "actor": actor.kind,
            "buyer": hashlib.sha256("|".join(ids).encode()).hexdigest()[:12],
            **result.__dict__,
        },
    )
    return result


def _after_commit(store_ids: list[int], ids: list[str], files: list[str]) -> None:
    for name in files:
        try:
            default_storage.delete(name)
        except OSError:
            logger.warning("an erased attachment's file could not be deleted", extra={"file": name})
    raw_events_erase(store_ids=store_ids, external_ids=ids)


def raw_events_erase(*, store_ids: list[int], external_ids: list[str]) -> int:
    """Redact the raw records of these stores whose payload holds one of the identifiers as a JSON
    string (quoted, so that a short username does not match inside other words)."""
    redacted = 0
    for value in external_ids:
        needle = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        rows = RawEvent.objects.filter(store_id__in=store_ids, payload__icontains=needle)
        redacted += rows.filter(status=RawEventStatus.QUARANTINED).update(
            payload={"erased": ERASED_TEXT}, raw=b"", status=RawEventStatus.IGNORED, reason=ERASED_TEXT
        )
        redacted += rows.update(payload={"erased": ERASED_TEXT}, raw=b"")
    return redacted
