"""Inbound messages: from any channel to a ticket, idempotently.

Same (store, external id) twice = one message. A new message threads into an existing ticket of
the same conversation, then of the same order, then an unresolved ticket of the same customer on
the same store; otherwise it opens a new ticket.

The customer acts: the audit rows, the reopening of a waiting or solved ticket (through the
transition table) and the published events carry the customer as their actor, whoever delivered
the message (a connector, the e-mail gateway, an integration's API token)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from aftersales.catalog.models import Customer, CustomerIdentity, Order, Store, normalise_email
from aftersales.core import events
from aftersales.core.actors import Actor
from aftersales.core.clock import now
from aftersales.core.errors import ValidationFailed
from aftersales.core.validation import check_instant

from ..events import MessageReceived, TicketCreated
from ..models import DeliveryStatus, Message, MessageDirection, Ticket, TicketEvent, TicketEventType
from ..search import tokens
from ..workflow import ON_CUSTOMER_MESSAGE, STATUS_CATEGORY, StatusCategory, TicketCategory, TicketStatus
from .common import (
    AttachmentInput,
    audit_row,
    check_attachments,
    check_store_active,
    record_event,
    sanitise_html,
    save_attachments,
    stored_files_removed_on_error,
)
from .search import customer_search_refresh, new_ticket_search_create, ticket_search_refresh
from .threading import find_reply_thread, organization_duplicate_locked, subject_reference
from .transition import ticket_transition

MAX_BODY_CHARS = 100_000


@dataclass(frozen=True)
class InboundMessage:
    store: Store
    external_id: str
    body: str
    customer_external_id: str
    body_html: str = ""
    subject: str = ""
    customer_name: str = ""
    customer_email: str = ""
    customer_country: str = ""
    customer_language: str = ""
    order_external_id: str | None = None
    conversation_id: str = ""
    sent_at: datetime | None = None
    category: str = ""
    attachments: list[AttachmentInput] = field(default_factory=list)
    via: str = ""  # how it arrived ("api", "email", a connector's platform), kept in the audit row
    # E-mail (services/threading.py): the Message-ID (also the external id; deduplicated across the
    # organization's stores), In-Reply-To + References (nearest first), the display text.
    message_id_header: str = ""
    references: list[str] = field(default_factory=list)
    body_display: str = ""


@dataclass(frozen=True)
class IngestResult:
    message: Message
    ticket: Ticket
    created: bool  # False: this (store, external id) was already ingested
    ticket_created: bool


def check_inbound(inbound: InboundMessage) -> list[str]:
    """Validate an inbound message; returns the sniffed attachment types."""
    if not inbound.external_id or len(inbound.external_id) > 200:
        raise ValidationFailed(_("external_id is required (at most 200 characters)"), field="external_id")
    if not inbound.customer_external_id or len(inbound.customer_external_id) > 200:
        raise ValidationFailed(
            _("customer_external_id is required (at most 200 characters)"), field="customer_external_id"
        )
    if not inbound.body.strip() and not inbound.attachments:
        raise ValidationFailed(_("a message needs a body or an attachment"), field="body")
    if len(inbound.body) > MAX_BODY_CHARS:
        raise ValidationFailed(
            _("body is longer than %(max_body_chars)s characters") % {"max_body_chars": MAX_BODY_CHARS}, field="body"
        )
    if inbound.category and inbound.category not in TicketCategory.values:
        raise ValidationFailed(_("unknown category %(category)r") % {"category": inbound.category}, field="category")
    if inbound.sent_at is not None:  # the API checks at its edge too; connectors and imports rely on this one
        check_instant(inbound.sent_at, field="sent_at")
    return check_attachments(inbound.attachments)


@dataclass(frozen=True)
class _Prepared:
    """What ingest computes from the message alone, before its write transaction opens (the
    transaction holds the ticket's row lock and, on SQLite, the database's write lock: only reads
    and writes that need them run inside)."""

    types: list[str]  # sniffed attachment types
    body_html: str  # sanitised
    subject: str  # of a new ticket
    at: datetime
    subject_tokens: list[str]  # search.tokens(subject): a new ticket's search document is built from
    body_tokens: list[str]  # these, without reading the ticket back (services.search.new_ticket_search_create)


def message_ingest(*, inbound: InboundMessage) -> IngestResult:
    """Store an inbound customer message and attach it to a ticket. Safe to call twice.

    Validation, attachment sniffing, HTML sanitising and the new ticket's subject happen before the
    transaction; inside it: the customer (upsert), the thread (locked with select_for_update), the
    rows, the search document. Statements for a new buyer's first message: see
    inbox/tests/test_ingest_queries.py."""
    existing = _existing(inbound)
    if existing is not None:
        return existing
    types = check_inbound(inbound)
    check_store_active(inbound.store.pk, field="store_id")  # a replay above still answers
    subject = (inbound.subject.strip() or _subject_from(inbound.body))[:300]
    prepared = _Prepared(
        types=types,
        body_html=sanitise_html(inbound.body_html),
        subject=subject,
        at=inbound.sent_at or now(),
        subject_tokens=tokens(subject),
        body_tokens=tokens(inbound.body),
    )
    for attempt in (1, 2):
        try:
            with stored_files_removed_on_error(), transaction.atomic():
                return _ingest(inbound, prepared)
        except IntegrityError:
            # A concurrent ingest of the same message won the race: return its result.
            existing = _existing(inbound)
            if existing is not None:
                return existing
            if attempt == 2:
                raise
            # Another message of the same new buyer id, ingested at the same moment, created the
            # buyer's identity first: once more, and this time the identity is found.
    raise AssertionError("unreachable")


def _existing(inbound: InboundMessage) -> IngestResult | None:
    # A probe of the (store, external id) index for the id alone (a third of the time of loading
    # the message and its ticket in one query, which only a replay needs).
    pk = (
        Message.objects.filter(store=inbound.store, external_id=inbound.external_id)
        .values_list("pk", flat=True)
        .first()
    )
    message = Message.objects.select_related("ticket").get(pk=pk) if pk is not None else None
    if message is None:
        return None
    return IngestResult(message=message, ticket=message.ticket, created=False, ticket_created=False)


def _ingest(inbound: InboundMessage, prepared: _Prepared) -> IngestResult:
    store = inbound.store
    if inbound.message_id_header:  # e-mail: the same mail received by another of the organization's mailboxes
        first = organization_duplicate_locked(
            organization_id=store.organization_id, message_id_header=inbound.message_id_header
        )
        if first is not None:
            return IngestResult(message=first, ticket=first.ticket, created=False, ticket_created=False)
    customer, new_customer = _upsert_customer(inbound)
    order = _find_order(store, inbound.order_external_id, customer)
    ticket = None
    if inbound.references or subject_reference(inbound.subject) is not None:
        ticket = find_reply_thread(
            organization_id=store.organization_id,
            customer=customer,
            references=inbound.references,
            subject=inbound.subject,
        )
    if ticket is None and not (new_customer and order is None and not inbound.conversation_id):
        # (A customer created just now has no ticket to thread into: no query needed.)
        ticket = _find_thread(store, customer, order, inbound.conversation_id)
    at = prepared.at
    ticket_created = ticket is None
    actor = Actor.customer(customer)
    if ticket is None:
        ticket = _open_ticket(inbound, prepared, customer, order)
    message = Message.objects.create(
        ticket=ticket,
        store=store,
        direction=MessageDirection.INBOUND,
        channel=store.platform,
        external_id=inbound.external_id,
        author_name=inbound.customer_name or customer.name,
        body=inbound.body,
        body_html=prepared.body_html,
        body_display=inbound.body_display if inbound.body_display != inbound.body else "",
        language=inbound.customer_language,
        delivery_status=DeliveryStatus.NOT_APPLICABLE,
        sent_at=at,
    )
    save_attachments(message, inbound.attachments, prepared.types)
    received = {"message_id": message.pk, "external_id": inbound.external_id}
    if inbound.via:
        received["via"] = inbound.via
    if ticket_created:
        # Created with its message times and unreplied flag: no UPDATE; both audit rows in one INSERT.
        TicketEvent.objects.bulk_create(
            [
                audit_row(ticket, TicketEventType.CREATED, actor, source=store.platform, store_id=store.pk),
                audit_row(ticket, TicketEventType.MESSAGE_RECEIVED, actor, **received),
            ]
        )
    else:
        target = ON_CUSTOMER_MESSAGE.get(ticket.status, ticket.status)
        ticket_transition(ticket, target, actor=actor, reason="customer_message")
        ticket.last_message_at = at
        ticket.last_customer_message_at = at
        ticket.is_unreplied = True
        ticket.save()
        record_event(ticket, TicketEventType.MESSAGE_RECEIVED, actor, **received)
    if ticket_created:
        customer_parts = [tokens(customer.name or ""), tokens(customer.email or "")]
        parts = [prepared.subject_tokens, *customer_parts, prepared.body_tokens]
        new_ticket_search_create(ticket_id=ticket.pk, parts=parts)
    else:
        ticket_search_refresh(ticket_ids=[ticket.pk])
    org_id = store.organization_id
    events.publish(MessageReceived(message_id=message.pk, ticket_id=ticket.pk, organization_id=org_id, actor=actor))
    if ticket_created:
        events.publish(TicketCreated(ticket_id=ticket.pk, organization_id=org_id, actor=actor))
    return IngestResult(message=message, ticket=ticket, created=True, ticket_created=ticket_created)


def _upsert_customer(inbound: InboundMessage) -> tuple[Customer, bool]:
    """The buyer of this store id (filling in what they had not told before), else the
    organization's customer with this e-mail address (one customer, one history across stores),
    else a new customer. Returns (customer, whether the customer row is new)."""
    known = _identity(inbound)
    if known is not None:
        changed = []
        for attr, value in (
            ("name", inbound.customer_name),
            ("email", inbound.customer_email),
            ("country", inbound.customer_country),
            ("preferred_language", inbound.customer_language),
        ):
            if value and not getattr(known, attr):
                setattr(known, attr, value)
                changed.append(attr)
        if changed:
            known.save()
        if {"name", "email"} & set(changed):
            customer_search_refresh(customer_id=known.pk)  # their tickets' documents hold both
        return known, False
    customer: Customer | None = None
    new_customer = False
    if inbound.customer_email:
        # The same buyer writing from another store: one customer, one history.
        customer = customers_by_email(inbound.store.organization_id, inbound.customer_email).first()
    if customer is None:
        customer = Customer.objects.create(
            organization_id=inbound.store.organization_id,
            name=inbound.customer_name,
            email=inbound.customer_email,
            country=inbound.customer_country,
            preferred_language=inbound.customer_language,
        )
        new_customer = True
    CustomerIdentity.objects.create(customer=customer, store=inbound.store, external_id=inbound.customer_external_id)
    return customer, new_customer


def _identity(inbound: InboundMessage) -> Customer | None:
    """The customer of this buyer id on this store, if known. A probe of the unique (store, external
    id) index for the customer id first: a new buyer's message (every new ticket) costs that alone,
    about 60% of the time of the joined query; a known buyer, one more primary-key read."""
    customer_id = (
        CustomerIdentity.objects.filter(store=inbound.store, external_id=inbound.customer_external_id)
        .values_list("customer_id", flat=True)
        .first()
    )
    return Customer.objects.get(pk=customer_id) if customer_id is not None else None


def customers_by_email(organization_id: int, email: str) -> QuerySet[Customer]:
    """The organization's customers with this e-mail address, case-insensitively (see
    catalog.models.normalise_email): an equality probe on the index customer_org_email_norm."""
    return Customer.objects.filter(organization_id=organization_id, email_normalized=normalise_email(email))


def _find_order(store: Store, external_id: str | None, customer: Customer) -> Order | None:
    if not external_id:
        return None
    order = Order.objects.filter(store=store, external_id=external_id).first()
    if order is not None and order.customer_id is None:
        order.customer = customer
        order.save(update_fields=["customer", "updated_at"])
    return order


def live_tickets() -> QuerySet[Ticket]:
    """Tickets a message can thread into (not merged, not closed), locked. Written as exclude(): as
    `merged_into IS NULL`, SQLite (no statistics) probed the merged_into index, i.e. walked nearly
    every ticket, instead of the customer's; `NOT (merged_into IS NOT NULL)` is not indexable."""
    return Ticket.objects.select_for_update().exclude(merged_into__isnull=False).exclude(status=TicketStatus.CLOSED)


def _find_thread(store: Store, customer: Customer, order: Order | None, conversation_id: str) -> Ticket | None:
    live = live_tickets()
    if conversation_id:
        ticket = live.filter(store=store, conversation_id=conversation_id).order_by("-id").first()
        if ticket is not None:
            return ticket
    if order is not None:
        ticket = live.filter(order=order).order_by("-id").first()
        if ticket is not None:
            return ticket
    return (
        live.filter(store=store, customer=customer, status_category__in=[StatusCategory.OPEN, StatusCategory.WAITING])
        .order_by("-id")
        .first()
    )


def _open_ticket(inbound: InboundMessage, prepared: _Prepared, customer: Customer, order: Order | None) -> Ticket:
    """A new ticket, already carrying its first message's times (the caller writes its audit rows)."""
    store = inbound.store
    sku_category = ""
    high_value = False
    if order is not None:
        first_line = order.lines.select_related("product").order_by("id").first()
        if first_line is not None and first_line.product is not None:
            sku_category = first_line.product.category
        threshold = store.organization.high_value_threshold  # (read only when there is an order)
        high_value = order.total_amount >= threshold if threshold else False
    ticket = Ticket.objects.create(
        organization_id=store.organization_id,
        subject=prepared.subject,
        store=store,
        platform=store.platform,
        customer=customer,
        customer_tier=customer.tier,
        order=order,
        sku_category=sku_category,
        conversation_id=inbound.conversation_id,
        category=inbound.category or TicketCategory.OTHER,
        language=inbound.customer_language or customer.preferred_language or store.default_language,
        is_high_priority=customer.tier == "vip" or high_value,
        status=TicketStatus.NEW,
        status_category=STATUS_CATEGORY[TicketStatus.NEW],
        last_message_at=prepared.at,
        last_customer_message_at=prepared.at,
        is_unreplied=True,
    )
    return ticket


def _subject_from(body: str) -> str:
    line = " ".join(body.split())
    return (line[:77] + "...") if len(line) > 80 else (line or "(no subject)")
