"""Inbound messages: from any channel to a ticket, idempotently.

Same (store, external id) twice = one message. A new message threads into an existing ticket of
the same conversation, then of the same order, then an unresolved ticket of the same customer on
the same store; otherwise it opens a new ticket.

The customer acts: the audit rows, the reopening of a waiting or solved ticket (through the
transition table) and the published events carry the customer as their actor, whoever delivered
the message (a connector, the e-mail gateway, an integration's API token)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import cast

from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from aftersales.catalog.models import Customer, CustomerIdentity, Order, Store, normalise_email
from aftersales.core import events
from aftersales.core.actors import Actor
from aftersales.core.clock import now
from aftersales.core.errors import ValidationFailed
from aftersales.core.inserts import insert_rows
from aftersales.core.rows import RowShape, row_shape
from aftersales.core.validation import check_instant

from ..events import MessageReceived, TicketCreated
from ..models import DeliveryStatus, Message, MessageDirection, Ticket, TicketEvent, TicketEventType, TicketSearch
from ..search import joined_tokens, tokens
from ..workflow import ON_CUSTOMER_MESSAGE, STATUS_CATEGORY, TicketCategory, TicketStatus
from .common import (
    AttachmentInput,
    audit_row,
    check_attachments,
    record_event,
    sanitise_html,
    save_attachments,
    store_deactivated,
    stored_files_removed_on_error,
)
from .search import customer_search_refresh, ticket_search_refresh
from .threading import (
    ThreadKey,
    find_reply_thread,
    find_thread,
    newest_live,
    organization_duplicate_locked,
    subject_reference,
)
from .threading import live_tickets as live_tickets  # (re-exported: seller_messages, tests)
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


def message_ingest(*, inbound: InboundMessage, probe: IngestProbe | None = None) -> IngestResult:
    """Store an inbound customer message and attach it to a ticket. Safe to call twice.

    One read before the transaction (a replay? the store deactivated? the buyer known?; `probe`: that
    read already made with the store's, by `inbound_store_probe`, for this store, external id and buyer id), then
    validation, attachment sniffing, HTML sanitising, the new ticket's subject and the search tokens;
    inside the transaction: the customer (upsert), the thread (locked with select_for_update), the
    rows (INSERTs prepared once per model: core/inserts.py), the search document. Statements for a new
    buyer's first message: see inbox/tests/test_ingest_queries.py."""
    if probe is None or not probe.answers(inbound):
        probe = _probe(inbound)
    if probe.message_id is not None:
        return _replayed(probe.message_id)
    types = check_inbound(inbound)
    if probe.store_name is not None and not probe.store_active:  # (a replay above still answers)
        raise store_deactivated(probe.store_name, field="store_id")
    prepared = prepare(inbound, types)
    # A buyer id unknown before the transaction is not looked up again inside it: the identity's
    # INSERT meets the unique (store, external id) if another message created it meanwhile, and the
    # second attempt below looks it up.
    buyer_known: bool | None = probe.customer_id is not None
    for attempt in (1, 2):
        try:
            with stored_files_removed_on_error(), transaction.atomic():
                return _ingest(inbound, prepared, buyer_known=buyer_known)
        except IntegrityError:
            buyer_known = None
            # A concurrent ingest of the same message won the race: return its result.
            existing = _existing(inbound)
            if existing is not None:
                return existing
            if attempt == 2:
                raise
            # Another message of the same new buyer id, ingested at the same moment, created the
            # buyer's identity first: once more, and this time the identity is found.
    raise AssertionError("unreachable")


def prepare(inbound: InboundMessage, types: list[str]) -> _Prepared:
    """What ingest computes from a valid message alone (before any transaction)."""
    subject = (inbound.subject.strip() or _subject_from(inbound.body))[:300]
    return _Prepared(
        types=types,
        body_html=sanitise_html(inbound.body_html),
        subject=subject,
        at=inbound.sent_at or now(),
        subject_tokens=tokens(subject),
        body_tokens=tokens(inbound.body),
    )


def needs_email_threading(inbound: InboundMessage) -> bool:
    """An e-mail with a Message-ID, references or a ticket reference in its subject: the rules of
    services/threading.py before the generic ones (message_ingest_many hands these to message_ingest)."""
    return bool(inbound.message_id_header or inbound.references or subject_reference(inbound.subject) is not None)


@dataclass(frozen=True)
class IngestProbe:
    """What message_ingest reads before its transaction, for one (store, external id, buyer id)."""

    store_id: int
    external_id: str
    customer_external_id: str
    message_id: int | None  # this (store, external id) already stored: a replay
    store_name: str | None  # None: no such store
    store_active: bool
    customer_id: int | None  # the buyer of this store id, if known
    store: Store | None = None  # the store's row (inbound_store_probe; message_ingest's own probe reads none)

    def answers(self, inbound: InboundMessage) -> bool:
        """Made for this message's store, external id and buyer id."""
        return (self.store_id, self.external_id, self.customer_external_id) == (
            inbound.store.pk,
            inbound.external_id,
            inbound.customer_external_id,
        )


def _probe_columns(q: Callable[[str], str]) -> str:
    """The probes of the unique (store, external id) indexes of messages and buyer identities, for ids
    alone, as two columns of a SELECT over the store `s`. Names from the models' _meta."""
    store, msg, ident = Store._meta, Message._meta, CustomerIdentity._meta
    col = {m: {f.name: q(str(f.column)) for f in m.concrete_fields} for m in (store, msg, ident)}
    return (
        f"(SELECT m.{col[msg]['id']} FROM {q(msg.db_table)} m"  # noqa: S608
        f" WHERE m.{col[msg]['store']} = s.{col[store]['id']} AND m.{col[msg]['external_id']} = %s LIMIT 1),"
        f" (SELECT i.{col[ident]['customer']} FROM {q(ident.db_table)} i"
        f" WHERE i.{col[ident]['store']} = s.{col[store]['id']} AND i.{col[ident]['external_id']} = %s LIMIT 1)"
    )


@cache
def _probe_sql(vendor: str) -> str:
    """One SELECT for what message_ingest asks before its transaction: the probes and the store's state."""
    q = connection.ops.quote_name
    meta = Store._meta
    col = {f.name: q(str(f.column)) for f in meta.concrete_fields}
    name, active, pk = col["name"], col["is_active"], col["id"]
    return f"SELECT s.{name}, s.{active}, {_probe_columns(q)} FROM {q(meta.db_table)} s WHERE s.{pk} = %s"  # noqa: S608


def _probe(inbound: InboundMessage) -> IngestProbe:
    with connection.cursor() as cursor:
        cursor.execute(
            _probe_sql(connection.vendor), [inbound.external_id, inbound.customer_external_id, inbound.store.pk]
        )
        row = cursor.fetchone()
    if row is None:
        row = (None, False, None, None)
    return IngestProbe(
        store_id=inbound.store.pk,
        external_id=inbound.external_id,
        customer_external_id=inbound.customer_external_id,
        message_id=row[2],
        store_name=row[0],
        store_active=bool(row[1]),
        customer_id=row[3],
    )


@cache
def _store_probe_sql(vendor: str) -> tuple[str, RowShape]:
    q = connection.ops.quote_name
    shape = row_shape(Store, "s", defer=("credentials",))  # (catalog.selectors.store_of_organization's columns)
    meta = Store._meta
    col = {f.name: q(str(f.column)) for f in meta.concrete_fields}
    pk, org = col["id"], col["organization"]
    sql = f"SELECT {shape.columns}, {_probe_columns(q)} FROM {q(meta.db_table)} s WHERE s.{pk} = %s AND s.{org} = %s"  # noqa: S608
    return sql, shape


def inbound_store_probe(
    *, organization_id: int | None, store_id: int, external_id: str, customer_external_id: str
) -> IngestProbe | None:
    """The organization's store `store_id` (without its credentials: as catalog.selectors.
    store_of_organization reads it) and message_ingest's probe for this external id and buyer id, in one
    SELECT; None: no such store in the organization. For the ingestion API, which looks the store up
    before it builds the message (issue 13: one statement per request fewer); pass the result to
    message_ingest as `probe`."""
    sql, shape = _store_probe_sql(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [external_id, customer_external_id, store_id, organization_id])
        row = cursor.fetchone()
    if row is None:
        return None
    store = cast(Store, shape.instance(row, 0))
    return IngestProbe(
        store_id=store.pk,
        external_id=external_id,
        customer_external_id=customer_external_id,
        message_id=row[shape.width],
        store_name=store.name,
        store_active=store.is_active,
        customer_id=row[shape.width + 1],
        store=store,
    )


def _replayed(message_id: int) -> IngestResult:
    message = Message.objects.select_related("ticket").get(pk=message_id)
    return IngestResult(message=message, ticket=message.ticket, created=False, ticket_created=False)


def _existing(inbound: InboundMessage) -> IngestResult | None:
    # A probe of the (store, external id) index for the id alone (a third of the time of loading
    # the message and its ticket in one query, which only a replay needs).
    pk = (
        Message.objects.filter(store=inbound.store, external_id=inbound.external_id)
        .values_list("pk", flat=True)
        .first()
    )
    return _replayed(pk) if pk is not None else None


def _ingest(inbound: InboundMessage, prepared: _Prepared, *, buyer_known: bool | None = None) -> IngestResult:
    store = inbound.store
    if inbound.message_id_header:  # e-mail: the same mail received by another of the organization's mailboxes
        first = organization_duplicate_locked(
            organization_id=store.organization_id, message_id_header=inbound.message_id_header
        )
        if first is not None:
            return IngestResult(message=first, ticket=first.ticket, created=False, ticket_created=False)
    customer, new_customer = _upsert_customer(inbound, buyer_known=buyer_known)
    order = _find_order(store, inbound.order_external_id, customer)
    ticket = None
    if inbound.references or subject_reference(inbound.subject) is not None:
        ticket = find_reply_thread(
            organization_id=store.organization_id,
            customer=customer,
            references=inbound.references,
            subject=inbound.subject,
        )
    if ticket is None:
        # (A customer created just now has no ticket to thread into: the customer rule is skipped.)
        key = ThreadKey(
            store_id=store.pk,
            customer_id=None if new_customer else customer.pk,
            order_id=order.pk if order is not None else None,
            conversation_id=inbound.conversation_id,
        )
        ticket = find_thread(key, newest_live)
    at = prepared.at
    ticket_created = ticket is None
    actor = Actor.customer(customer)
    if ticket is None:
        ticket = _open_ticket(inbound, prepared, customer, order)
    message = new_message(inbound, prepared, ticket, customer_name=customer.name)
    insert_rows([message])
    save_attachments(message, inbound.attachments, prepared.types)
    received = received_payload(inbound, message.pk)
    if ticket_created:
        # Created with its message times and unreplied flag: no UPDATE; both audit rows in one INSERT.
        insert_rows(
            [
                audit_row(ticket, TicketEventType.CREATED, actor, source=store.platform, store_id=store.pk),
                audit_row(ticket, TicketEventType.MESSAGE_RECEIVED, actor, **received),
            ]
        )
    else:
        ticket_take_message(ticket, at, actor)
        ticket.save()
        record_event(ticket, TicketEventType.MESSAGE_RECEIVED, actor, **received)
    if ticket_created:
        # new_ticket_search_create's row (services/search.py), through the prepared INSERT
        parts = new_ticket_document_parts(prepared, customer)
        insert_rows([TicketSearch(ticket_id=ticket.pk, document=joined_tokens(parts))])
    else:
        ticket_search_refresh(ticket_ids=[ticket.pk])
    org_id = store.organization_id
    # One batch: the worker's follow-up jobs of both events go in one fan-out task (core/events.py).
    published: list[object] = [
        MessageReceived(message_id=message.pk, ticket_id=ticket.pk, organization_id=org_id, actor=actor)
    ]
    if ticket_created:
        published.append(TicketCreated(ticket_id=ticket.pk, organization_id=org_id, actor=actor))
    events.publish_many(published)
    return IngestResult(message=message, ticket=ticket, created=True, ticket_created=ticket_created)


def new_message(inbound: InboundMessage, prepared: _Prepared, ticket: Ticket, *, customer_name: str) -> Message:
    """The inbound Message row (unsaved); `customer_name`: the customer's name at this message."""
    return Message(
        ticket=ticket,
        store=inbound.store,
        direction=MessageDirection.INBOUND,
        channel=inbound.store.platform,
        external_id=inbound.external_id,
        author_name=inbound.customer_name or customer_name,
        body=inbound.body,
        body_html=prepared.body_html,
        body_display=inbound.body_display if inbound.body_display != inbound.body else "",
        language=inbound.customer_language,
        delivery_status=DeliveryStatus.NOT_APPLICABLE,
        sent_at=prepared.at,
    )


def received_payload(inbound: InboundMessage, message_id: int | None) -> dict[str, object]:
    """The payload of the `message_received` audit row."""
    received: dict[str, object] = {"message_id": message_id, "external_id": inbound.external_id}
    if inbound.via:
        received["via"] = inbound.via
    return received


def ticket_take_message(ticket: Ticket, at: datetime, actor: Actor) -> None:
    """An existing ticket takes a customer message: reopened through the transition table where
    ON_CUSTOMER_MESSAGE says so, its message times and unreplied flag set (the caller saves it)."""
    target = ON_CUSTOMER_MESSAGE.get(ticket.status, ticket.status)
    ticket_transition(ticket, target, actor=actor, reason="customer_message")
    ticket.last_message_at = at
    ticket.last_customer_message_at = at
    ticket.is_unreplied = True


def new_ticket_document_parts(prepared: _Prepared, customer: Customer) -> list[list[str]]:
    """A new ticket's search document parts (new_ticket_search_create's order)."""
    customer_parts = [tokens(customer.name or ""), tokens(customer.email or "")]
    return [prepared.subject_tokens, *customer_parts, prepared.body_tokens]


def fill_in_customer(known: Customer, inbound: InboundMessage) -> list[str]:
    """A known buyer's message fills in what they had not told before; returns the fields changed
    (the caller saves; a changed name or e-mail changes their tickets' search documents)."""
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
    return changed


def new_customer_for(inbound: InboundMessage) -> Customer:
    """The Customer row (unsaved) a new buyer's message creates."""
    return Customer(
        organization_id=inbound.store.organization_id,
        name=inbound.customer_name,
        email=inbound.customer_email,
        country=inbound.customer_country,
        preferred_language=inbound.customer_language,
    )


def _upsert_customer(inbound: InboundMessage, *, buyer_known: bool | None = None) -> tuple[Customer, bool]:
    """The buyer of this store id (filling in what they had not told before), else the
    organization's customer with this e-mail address (one customer, one history across stores),
    else a new customer. Returns (customer, whether the customer row is new). `buyer_known` False:
    the caller's probe found no identity for this buyer id, it is not looked up again (the
    identity's INSERT fails on the unique (store, external id) if one was created since)."""
    known = _identity(inbound) if buyer_known is not False else None
    if known is not None:
        changed = fill_in_customer(known, inbound)
        if changed:
            known.save()
        if {"name", "email"} & set(changed):
            customer_search_refresh(customer_id=known.pk)  # their tickets' documents hold both
        return known, False
    customer: Customer | None = None
    new_customer = False
    if inbound.customer_email:
        # The same buyer writing from another store: one customer, one history.
        customer_id = _customer_id_by_email(inbound.store.organization_id, inbound.customer_email)
        customer = Customer.objects.get(pk=customer_id) if customer_id is not None else None
    if customer is None:
        customer = new_customer_for(inbound)
        customer.email_normalized = normalise_email(customer.email)  # (what Customer.save() does)
        insert_rows([customer])
        new_customer = True
    insert_rows([CustomerIdentity(customer=customer, store=inbound.store, external_id=inbound.customer_external_id)])
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


@cache
def _customer_by_email_sql(vendor: str) -> str:
    q = connection.ops.quote_name
    meta = Customer._meta
    col = {f.name: q(str(f.column)) for f in meta.concrete_fields}
    return (
        f"SELECT {col['id']} FROM {q(meta.db_table)}"  # noqa: S608
        f" WHERE {col['organization']} = %s AND {col['email_normalized']} = %s ORDER BY {col['id']} LIMIT 1"
    )


def _customer_id_by_email(organization_id: int, email: str) -> int | None:
    """customers_by_email(...).first()'s id, without the ORM's query building."""
    with connection.cursor() as cursor:
        cursor.execute(_customer_by_email_sql(connection.vendor), [organization_id, normalise_email(email)])
        row = cursor.fetchone()
    return row[0] if row is not None else None


def _find_order(store: Store, external_id: str | None, customer: Customer) -> Order | None:
    if not external_id:
        return None
    order = Order.objects.filter(store=store, external_id=external_id).first()
    if order is not None and order.customer_id is None:
        order.customer = customer
        order.save(update_fields=["customer", "updated_at"])
    return order


def _open_ticket(inbound: InboundMessage, prepared: _Prepared, customer: Customer, order: Order | None) -> Ticket:
    """A new ticket, already carrying its first message's times (the caller writes its audit rows)."""
    sku_category = ""
    if order is not None:
        first_line = order.lines.select_related("product").order_by("id").first()
        if first_line is not None and first_line.product is not None:
            sku_category = first_line.product.category
    ticket = new_ticket(
        inbound,
        prepared,
        customer,
        order,
        sku_category=sku_category,
        customer_language=customer.preferred_language,
    )
    insert_rows([ticket])
    return ticket


def new_ticket(
    inbound: InboundMessage,
    prepared: _Prepared,
    customer: Customer,
    order: Order | None,
    *,
    sku_category: str,
    customer_language: str,
) -> Ticket:
    """The Ticket row (unsaved) a message opens: its first message's times, the order's first line's
    product category (`sku_category`, read by the caller) and high-value flag; `customer_language`:
    the customer's preferred language at this message."""
    store = inbound.store
    high_value = False
    if order is not None:
        threshold = store.organization.high_value_threshold  # (read only when there is an order)
        high_value = order.total_amount >= threshold if threshold else False
    return Ticket(
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
        language=inbound.customer_language or customer_language or store.default_language,
        is_high_priority=customer.tier == "vip" or high_value,
        status=TicketStatus.NEW,
        status_category=STATUS_CATEGORY[TicketStatus.NEW],
        last_message_at=prepared.at,
        last_customer_message_at=prepared.at,
        is_unreplied=True,
    )


def ticket_record_marketplace_return(*, ticket_id: int, event_type: str, actor: Actor, **payload: object) -> None:
    """A marketplace return / refund request / case linked to the ticket was received, or its
    status changed on the platform: one audit row on the ticket's timeline, with the actor (the
    store's connector) and the platform's own words in the payload (kind, external id, statuses).
    Runs inside the caller's transaction (returns.services.return_request_upsert); it changes no
    ticket field, so it takes no ticket lock."""
    marketplace_return_row(ticket_id=ticket_id, event_type=event_type, actor=actor, **payload).save(force_insert=True)


def marketplace_return_row(*, ticket_id: int, event_type: str, actor: Actor, **payload: object) -> TicketEvent:
    """The unsaved audit row ticket_record_marketplace_return writes (the sync engine's page path
    writes a page's rows with one INSERT)."""
    if event_type not in (TicketEventType.RETURN_REQUEST_RECEIVED, TicketEventType.RETURN_REQUEST_STATUS_CHANGED):
        raise ValueError(f"not a marketplace return event: {event_type!r}")
    return TicketEvent(
        ticket_id=ticket_id,
        type=event_type,
        actor_id=actor.user_id,
        actor_kind=actor.kind,
        actor_ref=actor.id,
        payload=payload,
        at=now(),
    )


def _subject_from(body: str) -> str:
    line = " ".join(body.split())
    return (line[:77] + "...") if len(line) > 80 else (line or "(no subject)")
