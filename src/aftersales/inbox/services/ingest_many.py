"""A page of inbound messages at once: what `message_ingest` does for each, in order, with one query
per kind for the page instead of one per message (issue 9's sync engine ingests pages of 200).

`message_ingest_many(inbounds=[...])` returns, per message and in order, what `message_ingest` would
have returned for it at that point of the sequence (an IngestResult), or the DomainError it would
have raised (nothing written for that one; the others go on). The database ends up as after calling
`message_ingest` once per message in that order: the same customers (created, linked by e-mail,
filled in), tickets (threaded by the same rules: services/threading.find_thread decides for both
paths), messages, audit rows, search documents, reopened statuses and published events. A parity
test (inbox/tests/test_ingest_many.py) compares the two on SQLite and PostgreSQL.

One page, one transaction (the caller's, or its own), in this order:
1. replays: one probe of the page's (store, external id) pairs; a message repeated within the page
   answers its first copy; validation and the store-active check (once per store);
2. customers: one query for the page's buyer identities (with their customers), one for the
   organization's customers with the unknown buyers' e-mail addresses; the buyers are then resolved
   in order in memory exactly as message_ingest does (identity, else e-mail, else new; a known
   buyer's message fills in what they had not told before) and the new customers and identities
   written with one bulk_create each;
3. orders: one query; threads: one query for every live ticket the page's rules could pick
   (locked, in id order), then each message's thread is decided in memory, tickets opened earlier
   in the page included;
4. writes: new tickets, messages, audit rows and the new tickets' search documents with one
   bulk_create each, one UPDATE per touched existing ticket, the new messages' tokens appended to
   the touched tickets' documents (services.search.tickets_search_append: one read, one UPDATE; a
   ticket it cannot append to is rebuilt); events published in message order.

E-mail whose threading needs its headers (a Message-ID, References, a `[#123]` subject) goes through
`message_ingest` itself, between the page's batches, so the order is kept. If a concurrent writer
makes the page's writes fail on a unique constraint, the page is rolled back and each message goes
through `message_ingest` (which retries and finds the other writer's rows)."""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet

from aftersales.catalog.models import Customer, CustomerIdentity, Order, OrderLine, normalise_email
from aftersales.core import events
from aftersales.core import lookups as _lookups  # noqa: F401  (registers `__any_of`)
from aftersales.core.actors import Actor
from aftersales.core.errors import DomainError
from aftersales.core.inserts import insert_rows, update_rows
from aftersales.core.reads import select_rows

from ..events import MessageReceived, TicketCreated
from ..models import Message, Ticket, TicketEvent, TicketEventType
from ..workflow import ON_CUSTOMER_MESSAGE
from .common import audit_row, check_store_active, save_attachments, stored_files_removed_on_error
from .ingest import (
    InboundMessage,
    IngestResult,
    _Prepared,
    check_inbound,
    fill_in_customer,
    message_ingest,
    needs_email_threading,
    new_customer_for,
    new_message,
    new_ticket,
    new_ticket_document_parts,
    prepare,
    received_payload,
    ticket_take_message,
)
from .search import (
    message_document_parts,
    new_tickets_search_create,
    ticket_search_refresh,
    tickets_search_append,
    translation_texts,
)
from .threading import ThreadKey, find_thread, is_live, rule_matches, thread_candidates

Outcome = IngestResult | DomainError


@dataclass
class Trailer:
    """What a caller writes right after one message of a page (message_ingest_many's `trailers`): audit
    rows on tickets (unsaved, in order) and domain events, written and published right after that
    message's own. A row whose `ticket_id` is set when the page is applied (and an event with a
    `ticket_id`) may be written (published) earlier, as the message loop meets a reopening of that
    ticket, whose status_changed row and event are written at once: so a ticket's rows and events keep
    their order. The others, and everything the caller adds in `written`, go with the page's."""

    rows: list[TicketEvent] = field(default_factory=list)
    events: list[object] = field(default_factory=list)


Written = Callable[[dict[int, IngestResult]], None]


def message_ingest_many(
    *,
    inbounds: Sequence[InboundMessage],
    trailers: Mapping[int, Trailer] | None = None,
    written: Written | None = None,
    customers: PageCustomers | None = None,
) -> list[Outcome]:
    """message_ingest for each message, in order, page-wise (see the module docstring).

    `trailers[i]`: rows and events of the caller's that belong right after message i (i = -1: before
    the first one); `written(results by index)` runs once the page's tickets and messages are written
    and before its audit rows, so the caller can write rows that name them and fill in its trailers
    (the sync engine's page of return requests, channels/returns_many.py). With either, the page
    must need no e-mail threading by headers (one batch), and a unique-constraint failure raises
    instead of retrying message by message. `customers`: the page's customers as earlier calls left
    them (PageCustomers: the sync engine's clean pass keeps one per page), else read here."""
    if trailers is not None or written is not None:
        if any(needs_email_threading(inbound) for inbound in inbounds):
            raise ValueError("trailers need a page without e-mail threaded by its headers")
        return _batch(list(inbounds), dict(trailers or {}), written, customers)
    results: list[Outcome] = []
    start = 0
    while start < len(inbounds):
        if needs_email_threading(inbounds[start]):
            if customers is not None:
                customers.forget()  # (message_ingest resolves its customer on its own)
            results.append(_one(inbounds[start]))
            start += 1
            continue
        end = start
        while end < len(inbounds) and not needs_email_threading(inbounds[end]):
            end += 1
        results += _batch(list(inbounds[start:end]), customers=customers)
        start = end
    return results


def _one(inbound: InboundMessage) -> Outcome:
    try:
        return message_ingest(inbound=inbound)
    except DomainError as exc:
        return exc


@dataclass
class _Item:
    index: int
    inbound: InboundMessage
    prepared: _Prepared
    customer: Customer | None = None
    new_customer: bool = False
    customer_name: str = ""  # the customer's name and preferred language at this message
    customer_language: str = ""
    message: Message | None = None
    ticket: Ticket | None = None
    ticket_created: bool = False
    received: TicketEvent | None = None  # its message_received audit row


def _batch(
    inbounds: list[InboundMessage],
    trailers: dict[int, Trailer] | None = None,
    written: Written | None = None,
    customers: PageCustomers | None = None,
) -> list[Outcome]:
    out: list[Outcome | None] = [None] * len(inbounds)
    repeats: dict[int, int] = {}  # index -> index of the page's first copy
    items: list[_Item] = []
    stored = _stored_messages(inbounds)
    first: dict[tuple[int, str], int] = {}
    store_errors: dict[int, DomainError | None] = {}
    for index, inbound in enumerate(inbounds):
        key = (inbound.store.pk, inbound.external_id)
        if key in stored:
            message = stored[key]
            out[index] = IngestResult(message=message, ticket=message.ticket, created=False, ticket_created=False)
            continue
        if key in first:
            repeats[index] = first[key]
            continue
        try:
            types = check_inbound(inbound)
            if inbound.store.pk not in store_errors:
                try:
                    check_store_active(inbound.store.pk, field="store_id")
                    store_errors[inbound.store.pk] = None
                except DomainError as exc:
                    store_errors[inbound.store.pk] = exc
            error = store_errors[inbound.store.pk]
            if error is not None:
                raise error
        except DomainError as exc:
            out[index] = exc
            continue
        first[key] = index
        items.append(_Item(index=index, inbound=inbound, prepared=prepare(inbound, types)))
    hooked = trailers is not None or written is not None
    # Each trailer goes after the last message written at or before its place (a replay or a
    # refused message writes nothing), the ones before any after none ("lead").
    lead: list[Trailer] = []
    after: dict[int, list[Trailer]] = defaultdict(list)
    if trailers:
        written_at = {item.index for item in items}
        last = -1
        for index in range(-1, len(inbounds)):
            if index in written_at:
                last = index
            trailer = trailers.get(index)
            if trailer is not None:
                (after[last] if last >= 0 else lead).append(trailer)
    if items:
        try:
            with stored_files_removed_on_error(), transaction.atomic():
                _write(items, lead, after, written, customers)
        except IntegrityError:
            if customers is not None:
                customers.forget()  # (what the page created was rolled back)
            if hooked:
                raise  # the caller's rows cannot be replayed message by message
            # A concurrent writer stored some of these rows first: nothing of the page was kept;
            # message by message, as message_ingest does it (it retries and finds the other's rows).
            return [_one(inbound) for inbound in inbounds]
    elif hooked:
        if written is not None:
            written({})
        insert_rows([row for trailer in lead for row in trailer.rows])
        events.publish_many([event for trailer in lead for event in trailer.events])
    for item in items:
        assert item.message is not None and item.ticket is not None
        out[item.index] = IngestResult(
            message=item.message, ticket=item.ticket, created=True, ticket_created=item.ticket_created
        )
    for index, original in repeats.items():
        copy = out[original]
        if isinstance(copy, IngestResult):
            out[index] = IngestResult(message=copy.message, ticket=copy.ticket, created=False, ticket_created=False)
    assert all(result is not None for result in out)
    return out  # type: ignore[return-value]


def _stored_messages(inbounds: list[InboundMessage]) -> dict[tuple[int, str | None], Message]:
    """The page's messages already stored (replays): one query per store of the page."""
    by_store: dict[int, set[str]] = defaultdict(set)
    for inbound in inbounds:
        by_store[inbound.store.pk].add(inbound.external_id)
    return {
        (m.store_id, m.external_id): m
        for store_id, external_ids in by_store.items()
        for m in select_rows("ingest_many.stored_messages", _messages_of_store, store_id, sorted(external_ids))
    }


# The page's reads (core/reads.py: built once, run with each page's values).
def _messages_of_store(store_id: int, external_ids: list[str]) -> QuerySet[Message]:
    return (
        Message.objects.filter(store_id=store_id, external_id__any_of=external_ids).select_related("ticket").order_by()
    )


def _identities_of_store(store_id: int, external_ids: list[str]) -> QuerySet[CustomerIdentity]:
    return (
        CustomerIdentity.objects.filter(store_id=store_id, external_id__any_of=external_ids)
        .select_related("customer")
        .order_by()
    )


def _customers_by_address(organization_id: int, addresses: list[str]) -> QuerySet[Customer]:
    return Customer.objects.filter(organization_id=organization_id, email_normalized__any_of=addresses).order_by("pk")


def _other_customers_by_address(organization_id: int, addresses: list[str], held: list[int]) -> QuerySet[Customer]:
    return _customers_by_address(organization_id, addresses).exclude(pk__any_of=held)


def _orders_of_store(store_id: int, external_ids: list[str]) -> QuerySet[Order]:
    return Order.objects.filter(store_id=store_id, external_id__any_of=external_ids).order_by()


def _first_line_categories(order_ids: list[int]) -> QuerySet[Any]:
    return (
        OrderLine.objects.filter(order_id__any_of=order_ids)
        .order_by("order_id", "id")
        .values_list("order_id", "product__category")
    )


def _tickets_of_customers(customer_ids: list[int]) -> QuerySet[Any]:
    return Ticket.objects.filter(customer_id__any_of=customer_ids).values_list("pk", flat=True)


def _write(
    items: list[_Item],
    lead: list[Trailer] | None = None,
    after: dict[int, list[Trailer]] | None = None,
    written: Written | None = None,
    customers: PageCustomers | None = None,
) -> None:
    lead = lead or []
    after = after or {}
    # The trailers' rows on existing tickets, by ticket: written before a message reopens the ticket
    # (its status_changed row is written at once), so that they stay before that row.
    early: dict[int, list[tuple[int, TicketEvent]]] = defaultdict(list)  # ticket -> (place, row)
    flushed: set[int] = set()  # id() of rows written and events published early
    placed = [(-1, trailer) for trailer in lead]
    placed += [(item.index, trailer) for item in items for trailer in after.get(item.index, ())]
    early_events: dict[int, list[tuple[int, object]]] = defaultdict(list)  # the same for events
    for place, trailer in placed:
        for row in trailer.rows:
            if row.ticket_id is not None:
                early[row.ticket_id].append((place, row))
        for event in trailer.events:
            ticket_id = getattr(event, "ticket_id", None)
            if ticket_id is not None:
                early_events[ticket_id].append((place, event))
    changed_customers = _resolve_customers(items, customers)
    orders = _orders(items)
    keys = [_thread_key(item, orders) for item in items]
    candidates = _Candidates(thread_candidates(k for k in keys if k is not None))
    loaded = {ticket.pk: _row_values(ticket) for ticket in candidates.tickets}
    new_tickets: list[Ticket] = []
    touched: dict[int, Ticket] = {}  # existing tickets that took a message, by id
    audit: list[TicketEvent] = []
    item_audit: dict[int, list[TicketEvent]] = defaultdict(list)  # each message's rows, by index
    dirty_orders: dict[int, Order] = {}
    for item, key in zip(items, keys, strict=True):
        first_row = len(audit)
        inbound, customer = item.inbound, item.customer
        assert customer is not None
        order = orders.get((inbound.store.pk, inbound.order_external_id or ""))
        if order is not None and order.customer_id is None:  # (message_ingest's _find_order)
            order.customer = customer
            dirty_orders[order.pk] = order
        ticket = find_thread(key, candidates.newest) if key is not None else None
        actor = Actor.customer(customer)
        at = item.prepared.at
        if ticket is None:
            ticket = new_ticket(
                inbound,
                item.prepared,
                customer,
                order,
                sku_category="",  # set below, from one query for the page
                customer_language=item.customer_language,
            )
            candidates.add(ticket)
            new_tickets.append(ticket)
            item.ticket_created = True
            audit.append(
                audit_row(
                    ticket, TicketEventType.CREATED, actor, source=inbound.store.platform, store_id=inbound.store.pk
                )
            )
        else:
            reopens = ON_CUSTOMER_MESSAGE.get(ticket.status, ticket.status) != ticket.status
            if reopens and ticket.pk in early:
                # Rows placed before this message on a ticket no earlier message of the page took.
                before = [row for place, row in early.pop(ticket.pk) if place < item.index]
                insert_rows(before)
                flushed.update(id(row) for row in before)
            if reopens and ticket.pk in early_events:
                sent = [event for place, event in early_events.pop(ticket.pk) if place < item.index]
                events.publish_many(sent)  # (before the reopening's TicketStatusChanged)
                flushed.update(id(event) for event in sent)
            ticket_take_message(ticket, at, actor)  # (a reopening writes its status_changed row now)
            if ticket.pk is not None:
                touched[ticket.pk] = ticket
        item.ticket = ticket
        item.message = new_message(inbound, item.prepared, ticket, customer_name=item.customer_name)
        item.received = audit_row(ticket, TicketEventType.MESSAGE_RECEIVED, actor, **received_payload(inbound, None))
        audit.append(item.received)
        item_audit[item.index] = audit[first_row:]
    _set_sku_categories(new_tickets)
    insert_rows(new_tickets)
    insert_rows([item.message for item in items if item.message is not None])
    for item in items:
        assert item.message is not None and item.received is not None
        item.received.payload["message_id"] = item.message.pk
        if item.inbound.attachments:
            save_attachments(item.message, item.inbound.attachments, item.prepared.types)
    if written is not None:
        written(
            {
                item.index: IngestResult(
                    message=item.message, ticket=item.ticket, created=True, ticket_created=item.ticket_created
                )
                for item in items
                if item.message is not None and item.ticket is not None
            }
        )
    if lead or after:
        rows = [row for trailer in lead for row in trailer.rows]
        for item in items:
            rows += item_audit[item.index]
            rows += [row for trailer in after.get(item.index, ()) for row in trailer.rows]
        audit = [row for row in rows if id(row) not in flushed]
    insert_rows(audit)
    _save_tickets(list(touched.values()), loaded)
    for order in dirty_orders.values():
        order.save(update_fields=["customer", "updated_at"])
    for customer, fields in changed_customers:
        customer.save(update_fields=[*fields, "updated_at"])
    # Search documents: a ticket opened by this page is written from its parts (the customer as they
    # are at the end of the page: what a refresh would read; its messages in (created_at, id) order,
    # the order build_documents reads them in), an existing ticket that took messages gets their
    # tokens appended (tickets_search_append, which rebuilds where it cannot append), and the tickets
    # of a customer whose name or e-mail this page filled in are rebuilt once.
    renamed = [c.pk for c, fields in changed_customers if {"name", "email"} & set(fields)]
    refresh: set[int] = set()
    if renamed:
        refresh = set(select_rows("ingest_many.tickets_of_customers", _tickets_of_customers, renamed))
    by_ticket: dict[int, list[_Item]] = defaultdict(list)
    for item in items:
        assert item.ticket is not None and item.ticket.pk is not None and item.message is not None
        if translation_texts(item.message.translations):  # (none at ingest: see message_document_parts)
            refresh.add(item.ticket.pk)
    for item in items:
        assert item.ticket is not None and item.ticket.pk is not None
        if item.ticket.pk not in refresh:
            by_ticket[item.ticket.pk].append(item)
    parts: dict[int, list[list[str]]] = {}
    appended: dict[int, list[Message]] = {}
    for ticket_id, ticket_items in by_ticket.items():
        ticket_items.sort(key=lambda i: (i.message.created_at, i.message.pk))  # type: ignore[union-attr]
        creator = next((i for i in ticket_items if i.ticket_created), None)
        if creator is None:
            appended[ticket_id] = [i.message for i in ticket_items]  # type: ignore[misc]
            continue
        assert creator.customer is not None
        parts[ticket_id] = new_ticket_document_parts(creator.prepared, creator.customer)[:-1]  # (without its body)
        for i in ticket_items:
            assert i.message is not None
            parts[ticket_id] += message_document_parts(i.message, i.prepared.body_tokens)
    new_tickets_search_create(parts_by_ticket=parts)
    tickets_search_append(
        messages=appended,
        body_tokens={i.message.pk: i.prepared.body_tokens for i in items},  # type: ignore[union-attr]
    )
    if refresh:
        ticket_search_refresh(ticket_ids=refresh)
    # The page's events in message order, as one batch: its subscribers' work after commit goes out
    # as a few fan-out tasks and batch subscribers see the page at once (one queue insert per message
    # and per-event lookups before; bench/RESULTS.md, ingest ninth session).
    page_events = [event for trailer in lead for event in trailer.events if id(event) not in flushed]
    for item in items:
        assert item.message is not None and item.ticket is not None and item.customer is not None
        actor = Actor.customer(item.customer)
        org_id = item.inbound.store.organization_id
        page_events.append(
            MessageReceived(message_id=item.message.pk, ticket_id=item.ticket.pk, organization_id=org_id, actor=actor)
        )
        if item.ticket_created:
            page_events.append(TicketCreated(ticket_id=item.ticket.pk, organization_id=org_id, actor=actor))
        for trailer in after.get(item.index, ()):
            page_events += [event for event in trailer.events if id(event) not in flushed]
    events.publish_many(page_events)


_ticket_values: Callable[[Ticket], tuple[Any, ...]] | None = None


def _row_values(ticket: Ticket) -> tuple[Any, ...]:
    """Every concrete field's value (attname) of the ticket, in field order (one C-level getter)."""
    global _ticket_values
    if _ticket_values is None:
        _ticket_values = operator.attrgetter(*(f.attname for f in Ticket._meta.concrete_fields))
    return _ticket_values(ticket)


def _save_tickets(tickets: list[Ticket], loaded: dict[int, tuple[Any, ...]]) -> None:
    """What `ticket.save()` writes for each existing ticket the page touched: the columns any of them
    changed since it was read (`updated_at` included), for all of them in one core.inserts.update_rows
    (one statement on PostgreSQL, one executemany elsewhere) instead of a statement per ticket with
    every column."""
    if not tickets:
        return
    fields = Ticket._meta.concrete_fields
    changed: set[int] = set()
    for ticket in tickets:
        before, after = loaded[ticket.pk], _row_values(ticket)
        if before != after:
            changed.update(index for index, (old, new) in enumerate(zip(before, after, strict=True)) if old != new)
    columns = [f for i, f in enumerate(fields) if i in changed and not f.primary_key]
    auto_now = [f for f in fields if getattr(f, "auto_now", False)]
    columns += [f for f in auto_now if f not in columns]
    params = []
    for ticket in tickets:
        values = [f.get_db_prep_save(f.pre_save(ticket, False), connection) for f in columns]
        params.append([*values, ticket.pk])
    update_rows(Ticket, columns, params)


Buyer = tuple[int, int, str, str]  # store id, organization id, buyer id, e-mail address (as given)


def buyer_of(inbound: InboundMessage) -> Buyer:
    return (inbound.store.pk, inbound.store.organization_id, inbound.customer_external_id, inbound.customer_email)


class PageCustomers:
    """The customers a page's buyers reach, as the database has them: one object per customer, the
    buyer ids of the stores (`known`, (store id, buyer id) -> customer) and the customers of each
    e-mail address (`by_email`, (organization id, normalised address) -> customers). `read()` adds
    what more buyers need (one query for their identities, one for the addresses of those without
    one); `_resolve_customers` keeps it current with what it creates and fills in. The sync engine's
    clean pass resolves a page's customers in several calls (each segment's orders and messages:
    channels/sync.py); handing them one PageCustomers reads them once per page instead of once per
    call. Only those calls may change customers or identities while it is used: `forget()` it after
    anything else (a record applied on its own, a rolled-back write)."""

    def __init__(self) -> None:
        self.customers: dict[int, Customer] = {}
        self.known: dict[tuple[int, str], Customer] = {}
        self.by_email: dict[tuple[int, str], list[Customer]] = defaultdict(list)
        self._ids: set[tuple[int, str]] = set()  # buyer ids looked up
        self._emails: set[tuple[int, str]] = set()  # addresses looked up

    def forget(self) -> None:
        """Nothing known any more: the next calls read again what they need."""
        for held in (self.customers, self.known, self.by_email, self._ids, self._emails):
            held.clear()

    def read(self, buyers: Iterable[Buyer], *, every_address: bool = False) -> None:
        """Look up what these buyers need and was not looked up yet: their identities, and the
        customers with the addresses of those without one (`every_address`: of all of them)."""
        buyers = list(buyers)
        by_store: dict[int, set[str]] = defaultdict(set)
        for store_id, _org, external_id, _email in buyers:
            if (store_id, external_id) not in self._ids and (store_id, external_id) not in self.known:
                by_store[store_id].add(external_id)
        for store_id, external_ids in by_store.items():
            self._ids.update((store_id, e) for e in external_ids)
            for identity in select_rows("ingest_many.identities", _identities_of_store, store_id, sorted(external_ids)):
                customer = self.customers.setdefault(identity.customer_id, identity.customer)
                self.known[(identity.store_id, identity.external_id)] = customer
        emails: dict[int, set[str]] = defaultdict(set)  # organization -> addresses
        for store_id, org_id, external_id, email in buyers:
            if email and (every_address or (store_id, external_id) not in self.known):
                address = normalise_email(email)
                if (org_id, address) not in self._emails:
                    emails[org_id].add(address)
        if not emails:
            return
        # Those held already are not read again: what the page changed of them was saved before
        # this read (a call saves its customers before the next one reads), so their address here
        # is the database's.
        held = sorted(self.customers)
        found: list[Customer] = []
        for org_id, addresses in emails.items():
            self._emails.update((org_id, a) for a in addresses)
            if held:
                found += select_rows(
                    "ingest_many.other_customers", _other_customers_by_address, org_id, sorted(addresses), held
                )
            else:
                found += select_rows("ingest_many.customers", _customers_by_address, org_id, sorted(addresses))
        for customer in [*self.customers.values(), *found]:
            if customer.email_normalized in emails.get(customer.organization_id, ()):
                self.customers.setdefault(customer.pk, customer)
                matches = self.by_email[(customer.organization_id, customer.email_normalized)]
                if customer not in matches:  # (the page created it, or filled its address in)
                    matches.append(customer)


def _resolve_customers(items: list[_Item], page: PageCustomers | None = None) -> list[tuple[Customer, list[str]]]:
    """Each message's customer, as message_ingest's _upsert_customer finds or creates it at that
    point of the sequence; new customers and identities written (one INSERT each). Returns the
    existing customers a message filled in, with the fields. `page`: what earlier calls of the page
    read and wrote (PageCustomers), else read here."""
    page = page if page is not None else PageCustomers()
    page.read(buyer_of(item.inbound) for item in items)
    known, by_email = page.known, page.by_email
    new_customers: list[Customer] = []
    new_identities: list[CustomerIdentity] = []
    filled: dict[int, tuple[Customer, list[str]]] = {}

    def rank(customer: Customer) -> tuple[int, int]:  # the order of primary keys, new ones last
        return (0, customer.pk) if customer.pk is not None else (1, new_customers.index(customer))

    for item in items:
        inbound = item.inbound
        org_id = inbound.store.organization_id
        key = (inbound.store.pk, inbound.customer_external_id)
        found = known.get(key)
        if found is not None:
            customer = found
            changed = fill_in_customer(customer, inbound)
            if "email" in changed:
                by_email[(org_id, normalise_email(customer.email))].append(customer)
            if changed and customer.pk is not None:
                fields = filled.setdefault(customer.pk, (customer, []))[1]
                fields += [name for name in changed if name not in fields]
            item.new_customer = False
        else:
            matches = (
                by_email.get((org_id, normalise_email(inbound.customer_email))) if inbound.customer_email else None
            )
            if matches:
                customer = min(matches, key=rank)
                item.new_customer = False
            else:
                customer = new_customer_for(inbound)
                new_customers.append(customer)
                if customer.email:
                    by_email[(org_id, normalise_email(customer.email))].append(customer)
                item.new_customer = True
            new_identities.append(CustomerIdentity(customer=customer, store=inbound.store, external_id=key[1]))
            known[key] = customer
        item.customer = customer
        item.customer_name = customer.name
        item.customer_language = customer.preferred_language
    for customer in new_customers:  # (insert_rows does not call Customer.save)
        customer.email_normalized = normalise_email(customer.email)
    insert_rows(new_customers)
    insert_rows(new_identities)
    page.customers.update((customer.pk, customer) for customer in new_customers)
    return list(filled.values())


def customers_resolve_many(
    *, inbounds: Sequence[InboundMessage], customers: PageCustomers | None = None
) -> list[Customer]:
    """The customer of each buyer, in order, as `_upsert_customer` finds or creates it one call at a
    time (the buyer's identity, else the organization's customer with the e-mail address, else a new
    customer; a known buyer fills in what they had not told before): new customers and identities
    with one INSERT each, filled-in customers saved, and the tickets' search documents of those whose
    name or e-mail changed rebuilt once. For the sync engine's page of orders (channels.apply_many);
    the caller holds the transaction. `customers`: the page's PageCustomers, if it keeps one."""
    items = [_Item(index=i, inbound=inbound, prepared=None) for i, inbound in enumerate(inbounds)]  # type: ignore[arg-type]
    changed = _resolve_customers(items, customers)
    for customer, fields in changed:
        customer.save(update_fields=[*fields, "updated_at"])
    renamed = [c.pk for c, fields in changed if {"name", "email"} & set(fields)]
    if renamed:
        ticket_search_refresh(
            ticket_ids=set(select_rows("ingest_many.tickets_of_customers", _tickets_of_customers, renamed))
        )
    resolved = [item.customer for item in items]
    assert all(c is not None for c in resolved)
    return resolved  # type: ignore[return-value]


def _orders(items: list[_Item]) -> dict[tuple[int, str], Order]:
    by_store: dict[int, set[str]] = defaultdict(set)
    for item in items:
        if item.inbound.order_external_id:
            by_store[item.inbound.store.pk].add(item.inbound.order_external_id)
    return {
        (o.store_id, o.external_id): o
        for store_id, external_ids in by_store.items()
        for o in select_rows("ingest_many.orders", _orders_of_store, store_id, sorted(external_ids))
    }


def _thread_key(item: _Item, orders: dict[tuple[int, str], Order]) -> ThreadKey | None:
    """message_ingest's ThreadKey for this message (None: no rule applies, no lookup)."""
    inbound, customer = item.inbound, item.customer
    assert customer is not None
    order = orders.get((inbound.store.pk, inbound.order_external_id or ""))
    key = ThreadKey(
        store_id=inbound.store.pk,
        customer_id=None if item.new_customer else customer.pk,
        order_id=order.pk if order is not None else None,
        conversation_id=inbound.conversation_id,
    )
    if key.customer_id is None and key.order_id is None and not key.conversation_id:
        return None
    return key


def _set_sku_categories(tickets: list[Ticket]) -> None:
    """New tickets with an order: the product category of the order's first line (one query)."""
    order_ids = {t.order_id for t in tickets if t.order_id is not None}
    if not order_ids:
        return
    first_lines: dict[int, str] = {}
    for order_id, category in select_rows("ingest_many.first_lines", _first_line_categories, sorted(order_ids)):
        first_lines.setdefault(order_id, category or "")
    for ticket in tickets:
        if ticket.order_id is not None:
            ticket.sku_category = first_lines.get(ticket.order_id, "")


class _Candidates:
    """The live tickets a page's messages can thread into (those read from the database, then those
    the page opens, in that order: the order of their ids), indexed by the exact-match fields of
    the rules; `newest(rule)` answers as `threading.newest_live` would at this point."""

    def __init__(self, tickets: list[Ticket]) -> None:
        self.tickets = list(tickets)
        self.indexes: dict[tuple[str, ...], dict[tuple[Any, ...], list[Ticket]]] = {}

    def add(self, ticket: Ticket) -> None:
        self.tickets.append(ticket)
        for names, index in self.indexes.items():
            index.setdefault(tuple(getattr(ticket, n) for n in names), []).append(ticket)

    def newest(self, rule: dict[str, Any]) -> Ticket | None:
        names = tuple(sorted(name for name in rule if "__" not in name))
        index = self.indexes.get(names)
        if index is None:
            index = {}
            for ticket in self.tickets:
                index.setdefault(tuple(getattr(ticket, n) for n in names), []).append(ticket)
            self.indexes[names] = index
        for ticket in reversed(index.get(tuple(rule[n] for n in names), [])):
            if is_live(ticket) and rule_matches(ticket, rule):
                return ticket
        return None
