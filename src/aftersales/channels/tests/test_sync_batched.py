"""The sync engine's batched pages (consecutive buyer messages through message_ingest_many, the page
applied in its own order) give what record-by-record processing gives.

Two testshop stores (two organizations) receive the same pages, one with CHANNELS_SYNC_BATCH_MESSAGES
on (the default), the other off; outcomes, customers, tickets, messages and audit rows (in their
order), orders and return requests must be the same, ids aside. The order of a ticket's rows is
compared as the order they were written in (ids); with the clock frozen (every timestamp equal, ties
broken by id) as the timeline shows them too (created_at / at, then id)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersales.catalog.models import Customer, Order
from aftersales.channels import sync as sync_module
from aftersales.channels.base import RawRecord, Stream
from aftersales.channels.models import RawEvent, RawEventStatus
from aftersales.channels.sync import receive_records
from aftersales.channels.tests import testshop
from aftersales.core import events as core_events
from aftersales.core.actors import Actor
from aftersales.core.errors import DomainError
from aftersales.inbox.models import Message, Ticket, TicketEvent, TicketSearch
from aftersales.inbox.workflow import STATUS_CATEGORY, TicketStatus
from aftersales.returns.models import ReturnRequest, ReturnRequestEvent, Rma, RmaStatus
from aftersales.returns.rma import rma_create_from_return_request
from aftersales.testing.factories import StoreFactory

T0 = "2026-11-01T10:00:00+00:00"


def _at(n: int) -> str:
    return f"2026-11-01T{10 + n // 60:02d}:{n % 60:02d}:00+00:00"


def event(spec: dict[str, Any], n: int) -> dict[str, Any]:
    kind, buyer, order_no = spec["kind"], spec["buyer"], spec["order"]
    buyer_data = {"id": buyer, "name": spec.get("name", ""), "email": spec.get("email", "")}
    if kind == "message":
        return {
            "id": f"m{n}",
            "type": "message",
            "body": "" if spec["bad"] else f"Hello {n}",
            "sent_at": _at(n),
            "buyer": buyer_data,
            "conversation": spec["conversation"],
            "order": order_no,
        }
    if kind == "order":
        lines = [{"id": "L1", "sku": "SKU-1", "qty": -1 if spec.get("bad") else spec.get("qty", 1), "price": "25.00"}]
        if spec.get("variant") == 1:  # a second line by SKU
            lines.append({"id": "", "sku": "SKU-2", "qty": 2, "price": "5.00"})
        if spec.get("variant") == 2:  # the first line replaced
            lines = [{"id": "L2", "sku": "SKU-2", "qty": 1, "price": "5.00"}]
        data = {
            "id": f"o{n}",
            "type": "order",
            "order": order_no or "O-1",
            "placed_at": T0,
            # An older version (updated before what is stored) changes nothing.
            "updated_at": T0 if spec.get("variant") == 3 else _at(n),
            "status": spec["status"],
            "total": "25.00" if spec.get("variant") != 4 else "30",
            "buyer": {"id": buyer, "email": spec.get("email", ""), "name": spec.get("name", "")},
            "lines": [] if spec.get("variant") == 5 else lines,
        }
        if spec.get("qty", 1) > 1 or spec.get("variant") == 4:
            data["shipments"] = [{"carrier": "dhl", "tracking": f"T-{order_no}", "status": spec["status"]}]
        if buyer == "none":
            del data["buyer"]
        return data
    data: dict[str, Any] = {
        "id": f"r{n}",
        "type": "return",
        "return": f"R-{spec['return_no']}",
        "kind": "return",
        "status": spec["status"],
        "created_at": T0,
        "updated_at": _at(n),
        "order": order_no or "O-1",
        "reason": "DAMAGED",
        "comment": "arrived broken",
        "amount": "25.00",
        "currency": "USD",
    }
    variant = spec.get("variant", 0)
    if variant == 1:  # a line matching the order's first line
        data["lines"] = [{"id": "L1", "sku": "SKU-1", "qty": spec.get("qty", 1), "reason": "DAMAGED"}]
    if variant == 2:  # other lines (a version replacing them)
        data["lines"] = [{"id": "", "sku": "SKU-2", "qty": 2}, {"id": "L9", "sku": "SKU-9", "qty": 1}]
    if variant == 3:  # an older version than a stored one
        data["updated_at"] = T0
    if variant == 4:  # another kind and amount
        data["kind"], data["amount"] = "refund_request", "30.00"
    if variant == 5:  # no version time
        del data["updated_at"]
    if variant == 6:  # a new comment, the status as it was
        data["comment"], data["status"] = "still broken", "OPEN"
    if buyer != "none":
        data["buyer"] = {"id": buyer, "email": spec.get("email", ""), "name": spec.get("name", "")}
    return data


def _published(store: Any, published: list[Any], first: dict[int, str]) -> list[Any]:
    """The events published for the store, in order per ticket (a batch of messages publishes a
    reopening's status change as it happens, their messages' events at the end): type, actor kind,
    the other values but ids, grouped by the ticket's first message."""
    by_ticket: dict[str | None, list[Any]] = {}
    for event in published:
        values = dataclasses.asdict(event) if dataclasses.is_dataclass(event) else {}
        if values.get("organization_id") != store.organization_id:
            continue
        by_ticket.setdefault(first.get(values.get("ticket_id")), []).append(  # type: ignore[arg-type]
            (
                type(event).__name__,
                getattr(getattr(event, "actor", None), "kind", None),
                sorted((k, str(v)) for k, v in values.items() if not k.endswith("_id") and k != "actor"),
            )
        )
    return sorted(by_ticket.items(), key=lambda item: str(item[0]))


def snapshot(
    store: Any, outcomes: list[Any], *, timeline: bool = False, published: list[Any] | None = None
) -> dict[str, Any]:
    """Independent records applied in another order create their rows in another order: customers
    are named by their identities and tickets by their first message, not by id. `timeline`: a
    ticket's messages and audit rows in the timeline's order (timestamp, then id) instead of ids'."""
    message_order = ("created_at", "id") if timeline else ("id",)
    event_order = ("at", "id") if timeline else ("id",)
    customers = {
        c.pk: tuple(sorted(c.identities.values_list("external_id", flat=True)))
        for c in Customer.objects.filter(organization=store.organization)
    }
    tickets = list(Ticket.objects.filter(store=store))
    first = {
        t.pk: Message.objects.filter(ticket=t).order_by("id").values_list("external_id", flat=True)[0] for t in tickets
    }
    return {
        "published": _published(store, published or [], first),
        "outcomes": [(o.action, o.reason, first.get(o.ticket_id)) for o in outcomes],
        "customers": sorted(
            (customers[c.pk], c.name, c.email) for c in Customer.objects.filter(organization=store.organization)
        ),
        "tickets": sorted(
            (
                first[t.pk],
                customers[t.customer_id],
                t.order.external_id if t.order_id else None,
                t.status,
                t.category,
                t.conversation_id,
                # In the order they were written (and, with the clock frozen, as the timeline shows them).
                [m.external_id for m in Message.objects.filter(ticket=t).order_by(*message_order)],
                [
                    (e.type, e.actor_kind, sorted(k for k in e.payload if k != "message_id"))
                    for e in TicketEvent.objects.filter(ticket=t).order_by(*event_order)
                ],
                # (the page path appends to an existing ticket's document; the record path rebuilds it)
                str(TicketSearch.objects.filter(ticket=t).values_list("document", flat=True).first()),
            )
            for t in tickets
        ),
        "orders": sorted(
            (
                o.external_id,
                o.status,
                str(o.total_amount),
                o.platform_updated_at,
                customers.get(o.customer_id) if o.customer_id else None,
                [
                    (x.external_line_id, x.sku, x.quantity, str(x.unit_price_amount))
                    for x in o.lines.order_by("id")  # type: ignore[attr-defined]
                ],
                [(x.tracking_number, x.carrier, x.status) for x in o.shipments.order_by("id")],  # type: ignore[attr-defined]
            )
            for o in Order.objects.filter(store=store)
        ),
        # RMAs opened for the requests (open_rmas) and how they followed a cancellation / closing.
        "rmas": sorted(
            (
                m.return_request.external_id if m.return_request_id else None,
                m.status,
                [
                    (e.type, e.actor_kind, sorted(e.payload), [e.payload.get(k) for k in _RMA_VALUES])
                    for e in m.events.order_by(*event_order)  # type: ignore[attr-defined]
                ],
            )
            for m in Rma.objects.filter(store=store).select_related("return_request")
        ),
        "returns": sorted(
            (
                r.external_id,
                r.platform_status,
                r.platform_state,
                r.kind,
                str(r.requested_amount),
                r.buyer_comment,
                r.updated_on_platform,
                r.order.external_id if r.order_id else None,
                customers.get(r.customer_id) if r.customer_id else None,
                first.get(r.ticket_id),
                [
                    (x.sku, x.quantity, x.external_line_id, x.reason, x.order_line.sku if x.order_line_id else None)
                    for x in r.lines.order_by("id")  # type: ignore[attr-defined]
                ],
                [
                    (e.type, sorted((k, v) for k, v in e.payload.items() if k != "ticket_id"), e.actor_kind)
                    for e in ReturnRequestEvent.objects.filter(return_request=r).order_by(*event_order)
                ],
            )
            for r in ReturnRequest.objects.filter(store=store)
        ),
    }


def run(
    pages: list[list[dict[str, Any]]],
    *,
    batched: bool,
    django_settings: Any,
    between: Callable[[Any], None] | None = None,
    timeline: bool = False,
) -> dict[str, Any]:
    """The pages received by a new store; `between(store)` runs after each page."""
    django_settings.CHANNELS_SYNC_BATCH_MESSAGES = batched
    store = StoreFactory(platform=testshop.PLATFORM, site="testshop", credentials={"token": testshop.TOKEN})
    outcomes: list[Any] = []
    published: list[Any] = []
    original = core_events.publish_many

    def record(batch: Any) -> None:
        # Kept as an on-commit callback: a page rolled back (and applied again) drops its events.
        transaction.on_commit(_Capture(published, list(batch)))
        original(batch)

    with mock.patch.object(core_events, "publish_many", record):
        for page in pages:
            records = [RawRecord(Stream.MESSAGES, item["id"], item) for item in page]
            outcomes += receive_records(store=store, records=records, source="pull")
            if between is not None:
                between(store)
    for _savepoints, callback, _robust in connection.run_on_commit:
        if isinstance(callback, _Capture) and callback.into is published:
            callback()
    return snapshot(store, outcomes, timeline=timeline, published=published)


# What an RMA's timeline rows are compared by besides their keys (the rest names ids).
_RMA_VALUES = ("old", "new", "reason", "platform_reason", "platform_status", "rma_status", "refund_committed")


def open_rmas(store: Any) -> None:
    """Between pages: an RMA for each request of a known order that has none (R-2's then received,
    so that a cancellation on the marketplace leaves it open with a note)."""
    actor = Actor.connector(store_id=store.pk, platform=store.platform)
    for request in ReturnRequest.objects.filter(store=store, order__isnull=False, rmas__isnull=True).order_by("pk"):
        try:
            with transaction.atomic():
                rma = rma_create_from_return_request(return_request_id=request.pk, actor=actor)
        except DomainError:
            continue
        if request.external_id == "R-2":
            Rma.objects.filter(pk=rma.pk).update(status=RmaStatus.RECEIVED)


@dataclasses.dataclass
class _Capture:
    into: list[Any]
    batch: list[Any]

    def __call__(self) -> None:
        self.into.extend(self.batch)


spec = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["message", "message", "message", "order", "return"]),
        "buyer": st.sampled_from(["b1", "b2", "b3", "none"]),
        "name": st.sampled_from(["", "Bea"]),
        "email": st.sampled_from(["", "b1@example.com", "shared@example.com"]),
        "conversation": st.sampled_from(["", "c1", "c2"]),
        "order": st.sampled_from([None, "O-1", "O-2"]),
        "status": st.sampled_from(["OPEN", "CLOSED", "CANCELLED", "paid", "shipped"]),
        "return_no": st.integers(min_value=1, max_value=2),
        "bad": st.booleans(),
        "qty": st.integers(min_value=1, max_value=3),
        "variant": st.integers(min_value=0, max_value=6),
    }
)


@pytest.mark.django_db
@settings(
    max_examples=int(os.environ.get("PARITY_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pages=st.lists(st.lists(spec, min_size=1, max_size=10), min_size=1, max_size=3))
def test_batched_pages_give_what_record_by_record_gives(pages, installed, settings):  # type: ignore[no-untyped-def]
    n = 0
    built = []
    for page in pages:
        items = []
        for item in page:
            n += 1
            if item["kind"] == "message" and item["buyer"] == "none":
                item = {**item, "buyer": "b4"}
            if item["bad"] and n % 3:
                item = {**item, "bad": False}
            items.append(event(item, n))
        built.append(items)
    # RMAs are opened for the requests between pages: a later page's cancellation / closing on the
    # marketplace cancels them (or leaves a received one open with a note) the same way on both paths.
    one_by_one = run(built, batched=False, django_settings=settings, between=open_rmas)
    batched = run(built, batched=True, django_settings=settings, between=open_rmas)
    for key in one_by_one:
        assert batched[key] == one_by_one[key], key


@pytest.mark.django_db
def test_a_page_of_messages_orders_and_returns_costs_far_fewer_statements(installed, settings):
    page = []
    for n in range(60):
        b = f"b{n % 6}"
        if n % 10 < 6:
            page.append(
                event(
                    {
                        "kind": "message",
                        "buyer": b,
                        "name": "B",
                        "email": f"{b}@example.com",
                        "conversation": f"c-{b}",
                        "order": None,
                        "bad": False,
                    },
                    n,
                )
            )
        elif n % 10 < 8:
            page.append(
                event(
                    {"kind": "order", "buyer": b, "email": f"{b}@example.com", "order": f"O-{n}", "status": "paid"}, n
                )
            )
        else:
            page.append(
                event({"kind": "return", "buyer": b, "order": f"O-{n - 2}", "status": "OPEN", "return_no": n}, n)
            )
    counts = {}
    for batched in (False, True):
        settings.CHANNELS_SYNC_BATCH_MESSAGES = batched
        store = StoreFactory(platform=testshop.PLATFORM, site="testshop", credentials={"token": testshop.TOKEN})
        records = [RawRecord(Stream.MESSAGES, item["id"], item) for item in page]
        with CaptureQueriesContext(connection) as ctx:
            outcomes = receive_records(store=store, records=records, source="pull")
        assert not [o for o in outcomes if o.action == "quarantined"]
        counts[batched] = len(ctx.captured_queries)
    assert counts[True] < counts[False] * 0.7, counts


def _message(n: int, buyer: str, conversation: str, order: str | None = None) -> dict[str, Any]:
    spec = {"kind": "message", "buyer": buyer, "name": "", "email": "", "conversation": conversation}
    return event({**spec, "order": order, "bad": False}, n)


def _waiting(store: Any) -> None:
    """Between pages: the store's tickets wait for the buyer (their next message reopens them)."""
    status = TicketStatus.PENDING_CUSTOMER
    Ticket.objects.filter(store=store).update(status=status, status_category=STATUS_CATEGORY[status])


@pytest.mark.django_db
def test_a_tickets_rows_keep_the_page_order_when_every_timestamp_ties(installed, settings, monkeypatch):
    """Deterministic: the clock frozen (every created_at / at equal, as two rows written within one
    microsecond get), two messages of one conversation in one batch, a batch ended by an order and a
    return (whose ticket message threads into the same conversation's ticket), a reopening of a
    waiting ticket by the first message of the next page's batch: the ticket's messages and audit
    rows read in the timeline's order (timestamp, then id) are in the page's order, batched or not."""
    frozen = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    monkeypatch.setattr("django.utils.timezone.now", lambda: frozen)
    pages = [
        [
            _message(1, "b1", "c1"),
            _message(2, "b1", "c1"),
            _message(3, "b2", "c2"),
            event({"kind": "order", "buyer": "b1", "order": "O-1", "status": "paid"}, 4),
            _message(5, "b1", "c1", order="O-1"),
            event({"kind": "return", "buyer": "b1", "order": "O-1", "status": "OPEN", "return_no": 1}, 6),
            _message(7, "b1", "c1"),
            _message(8, "b2", "c2"),
        ],
        [
            # the request's status moves (a row on the waiting ticket), then the buyer's message reopens it
            event({"kind": "return", "buyer": "b1", "order": "O-1", "status": "CLOSED", "return_no": 1}, 12),
            _message(9, "b1", "c1"),
            _message(10, "b2", "c2"),
            _message(11, "b1", "c1", order="O-1"),
        ],
    ]
    one_by_one = run(pages, batched=False, django_settings=settings, between=_waiting, timeline=True)
    batched = run(pages, batched=True, django_settings=settings, between=_waiting, timeline=True)
    for key in one_by_one:
        assert batched[key] == one_by_one[key], key
    by_first = {ticket[0]: ticket for ticket in batched["tickets"]}
    assert by_first["m1"][6] == ["m1", "m2", "m5", "return:R-1", "m7", "m9", "m11"]
    assert [row[0] for row in by_first["m1"][7]][:3] == ["created", "message_received", "message_received"]
    # page 2 on the waiting ticket: the request's status change, then the reopening, then m9
    assert [row[0] for row in by_first["m1"][7]][-4:] == [
        "return_request_status_changed",
        "status_changed",
        "message_received",
        "message_received",
    ]
    assert by_first["m3"][6] == ["m3", "m8", "m10"]


def _order(n: int, buyer: str, order: str, quantity: int = 1) -> dict[str, Any]:
    item = event({"kind": "order", "buyer": buyer, "order": order, "status": "paid"}, n)
    item["lines"][0]["qty"] = quantity
    return item


def _received(page: list[dict[str, Any]]) -> tuple[Any, list[Any], list[str], list[RawRecord]]:
    """A new store receives the page (batching on): the store, the outcomes, the SAVEPOINTs sent."""
    store = StoreFactory(platform=testshop.PLATFORM, site="testshop", credentials={"token": testshop.TOKEN})
    records = [RawRecord(Stream.MESSAGES, item["id"], item) for item in page]
    with CaptureQueriesContext(connection) as ctx:
        outcomes = receive_records(store=store, records=records, source="pull")
    savepoints = [q["sql"] for q in ctx.captured_queries if q["sql"].upper().startswith("SAVEPOINT")]
    return store, outcomes, savepoints, records


@pytest.mark.django_db
def test_a_clean_page_is_applied_without_savepoints(installed, settings):
    settings.CHANNELS_SYNC_BATCH_MESSAGES = True
    _store, outcomes, savepoints, _records = _received(
        [
            _message(1, "b1", "c1"),
            _order(2, "b1", "O-1"),
            event({"kind": "return", "buyer": "b1", "order": "O-1", "status": "OPEN", "return_no": 1}, 3),
            _message(4, "b2", "c2", order="O-1"),
        ]
    )
    assert [o.action for o in outcomes] == ["new_ticket", "created", "thread", "new_ticket"]
    assert len(savepoints) == 1, savepoints  # the page's own block (a savepoint inside the test's transaction)


@pytest.mark.django_db
def test_a_record_failing_mid_page_is_quarantined_alone_and_the_rest_lands(installed, settings):
    """The first pass (no savepoints) has written the bad order's row when its line is refused: the
    page is rolled back and applied again with a savepoint per record; the bad order is quarantined
    with its reason and field and nothing of it stays, the records before and after it land once."""
    settings.CHANNELS_SYNC_BATCH_MESSAGES = True
    store, outcomes, savepoints, records = _received(
        [
            _message(1, "b1", "c1"),
            _order(2, "b1", "O-1"),
            _message(3, "b1", "c1"),
            _order(4, "b2", "O-BAD", quantity=-1),
            _message(5, "b2", "c2"),
            event({"kind": "return", "buyer": "b1", "order": "O-1", "status": "OPEN", "return_no": 1}, 6),
            _message(7, "b2", "c2", order="O-1"),
        ]
    )
    assert [o.action for o in outcomes] == [
        "new_ticket",
        "created",
        "thread",
        "quarantined",
        "new_ticket",
        "thread",
        "thread",
    ]
    assert "negative" in outcomes[3].reason
    assert len(savepoints) > 2  # the second pass: a savepoint per record
    bad = RawEvent.objects.get(store=store, event_id="o4")
    assert (bad.status, bad.field) == (RawEventStatus.QUARANTINED, "quantity")
    assert list(Order.objects.filter(store=store).values_list("external_id", flat=True)) == ["O-1"]
    assert Message.objects.filter(store=store, direction="inbound").count() == 5  # 4 messages + the return's
    assert RawEvent.objects.filter(store=store, status=RawEventStatus.PROCESSED).count() == 6
    assert ReturnRequest.objects.filter(store=store).count() == 1
    # Received again: the same outcomes as duplicates, nothing written twice.
    again = receive_records(store=store, records=records, source="pull")
    assert {o.action for o in again} == {"duplicate"}
    assert Message.objects.filter(store=store).count() == 5


@pytest.mark.django_db
def test_a_page_of_orders_is_applied_with_a_few_statements(installed, settings):
    """40 order versions (20 new orders with a line and a shipment, then an update of each: status,
    a second line, the shipment's status) in one page: a few dozen statements, not ~7 per record;
    the same rows as record by record."""
    page = []
    for n in range(20):
        page.append(_order(n, f"b{n % 5}", f"O-{n}"))
    for n in range(20, 40):
        item = event(
            {"kind": "order", "buyer": f"b{n % 5}", "order": f"O-{n - 20}", "status": "shipped", "variant": 1}, n
        )
        item["shipments"] = [{"carrier": "dhl", "tracking": f"T-{n - 20}", "status": "in_transit"}]
        page.append(item)
    counts = {}
    rows = {}
    for batched in (False, True):
        settings.CHANNELS_SYNC_BATCH_MESSAGES = batched
        store = StoreFactory(platform=testshop.PLATFORM, site="testshop", credentials={"token": testshop.TOKEN})
        records = [RawRecord(Stream.MESSAGES, item["id"], item) for item in page]
        with CaptureQueriesContext(connection) as ctx:
            outcomes = receive_records(store=store, records=records, source="pull")
        counts[batched] = len(ctx.captured_queries)
        rows[batched] = (snapshot(store, outcomes)["orders"], [o.action for o in outcomes])
    assert rows[True] == rows[False]
    assert rows[True][1] == ["created"] * 20 + ["updated"] * 20
    assert counts[True] <= 30, counts


@pytest.mark.django_db
def test_a_page_of_return_requests_is_applied_with_a_few_statements(installed, settings):
    """60 return records between messages (30 new requests of 10 buyers, each with a line of its
    order; then a status change of each, a line change of every third): the statements per page do
    not grow with the records (~15 per record one by one); the same rows and events as record by
    record; no fallback to the savepoint pass."""
    orders = [_order(n, f"b{n % 10}", f"O-{n}") for n in range(10)]
    page: list[dict[str, Any]] = []
    for n in range(100, 130):
        buyer, order = f"b{n % 10}", f"O-{n % 10}"
        page.append(
            event(
                {
                    "kind": "return",
                    "buyer": buyer,
                    "order": order,
                    "status": "OPEN",
                    "return_no": n,
                    "variant": 1,
                    "qty": 1,
                },
                n,
            )
        )
        if n % 5 == 0:
            page.append(_message(n + 100, buyer, f"c-{buyer}", order=order))
    for n in range(130, 160):
        item = event(
            {
                "kind": "return",
                "buyer": f"b{n % 10}",
                "order": f"O-{n % 10}",
                "status": "APPROVED",
                "return_no": n - 30,
                "variant": 2 if n % 3 == 0 else 1,
            },
            n,
        )
        page.append(item)
    results = {}
    counts = {}
    for batched in (False, True):
        settings.CHANNELS_SYNC_BATCH_MESSAGES = batched
        store = StoreFactory(platform=testshop.PLATFORM, site="testshop", credentials={"token": testshop.TOKEN})
        receive_records(store=store, records=[RawRecord(Stream.MESSAGES, o["id"], o) for o in orders], source="pull")
        records = [RawRecord(Stream.MESSAGES, item["id"], item) for item in page]
        with CaptureQueriesContext(connection) as ctx:
            outcomes = receive_records(store=store, records=records, source="pull")
        counts[batched] = len(ctx.captured_queries)
        savepoints = [q for q in ctx.captured_queries if q["sql"].upper().startswith("SAVEPOINT")]
        if batched:
            assert len(savepoints) <= 1, savepoints  # (the page's own), no savepoint pass
        results[batched] = snapshot(store, outcomes)
    for key in results[False]:
        assert results[True][key] == results[False][key], key
    actions = [o[0] for o in results[True]["outcomes"]]
    assert actions.count("updated") == 30 and "quarantined" not in actions
    assert counts[True] <= 40, counts
    assert counts[False] > 10 * len(page), counts


def _buyer_message(n: int, buyer: str, email: str = "") -> dict[str, Any]:
    spec = {"kind": "message", "buyer": buyer, "name": "", "email": email, "conversation": ""}
    return event({**spec, "order": None, "bad": False}, n)


@pytest.mark.django_db
def test_an_order_creating_a_customer_does_not_overtake_a_message_creating_one(installed, settings, monkeypatch):
    """Why an order version may not overtake an earlier message that creates a customer when the
    order creates one too (page_plan): the two customers' ids swap, and the inbox resolves an e-mail
    address several customers hold to the lowest id. Page 1: b2 writes (a customer, no e-mail),
    then b1's order (another customer); they share nothing. Page 2: both tell the same address,
    then a new buyer b3 writes from it: record by record b3 is b2's customer (created first) and
    joins b2's ticket; with the order applied first b3 became b1's customer, on a new ticket."""
    monkeypatch.setattr("aftersales.channels.page_plan.REORDER_ORDERS", True)
    pages = [
        [_buyer_message(1, "b2"), event({"kind": "order", "buyer": "b1", "order": "O-1", "status": "paid"}, 2)],
        [
            _buyer_message(3, "b2", "z@example.com"),
            _buyer_message(4, "b1", "z@example.com"),
            _buyer_message(5, "b3", "z@example.com"),
        ],
    ]
    one_by_one = run(pages, batched=False, django_settings=settings)
    batched = run(pages, batched=True, django_settings=settings)
    for key in one_by_one:
        assert batched[key] == one_by_one[key], key
    assert ("b2", "b3") in [c[0] for c in batched["customers"]]


@pytest.mark.django_db
def test_a_page_cancelling_returns_on_the_marketplace_moves_their_rmas_as_one_by_one(installed, settings):
    """The page path and the record path follow a cancellation / closing alike: R-1's RMA cancelled by
    the connector, R-2's (received) kept open with a note; replaying the page changes nothing."""

    def ret(n: int, number: int, status: str) -> dict[str, Any]:
        spec = {"kind": "return", "buyer": "b1", "order": "O-1", "status": status, "return_no": number, "variant": 1}
        return event(spec, n)

    first = [event({"kind": "order", "buyer": "b1", "order": "O-1", "status": "paid"}, 1), ret(2, 1, "OPEN")]
    first.append(ret(3, 2, "OPEN"))
    second = [_buyer_message(4, "b1"), ret(5, 1, "CANCELLED"), ret(6, 2, "CLOSED"), _buyer_message(7, "b1")]
    pages = [first, second, second]
    one_by_one = run(pages, batched=False, django_settings=settings, between=open_rmas)
    batched = run(pages, batched=True, django_settings=settings, between=open_rmas)
    for key in one_by_one:
        assert batched[key] == one_by_one[key], key
    rmas = {
        external_id: (status, [(row[0], row[3][1]) for row in rows]) for external_id, status, rows in batched["rmas"]
    }
    assert rmas["R-1"][0] == "cancelled" and rmas["R-1"][1].count(("status_changed", "cancelled")) == 1
    assert rmas["R-2"][0] == "received" and [t for t, _new in rmas["R-2"][1]].count("platform_closed") == 1
    cancelled = Rma.objects.filter(return_request__external_id="R-1", status="cancelled").order_by("-pk").first()
    assert cancelled is not None
    row = cancelled.events.get(type="status_changed", payload__new="cancelled")
    assert (row.actor_kind, row.payload["reason"], row.payload["platform_status"]) == (
        "connector",
        "buyer_cancelled",
        "CANCELLED",
    )


@pytest.mark.django_db
def test_an_order_version_dropping_a_line_an_rma_names_keeps_that_line(installed, settings):
    """The platform replaces the order's line L1 after an RMA was opened on it: the order version is
    applied (not quarantined: the RMA line's PROTECT key refused the delete) and L1 stays on record,
    on both paths alike."""
    order = {"kind": "order", "buyer": "b1", "order": "O-1", "status": "paid"}
    request = {"kind": "return", "buyer": "b1", "order": "O-1", "status": "OPEN", "return_no": 1, "variant": 1}
    first = [event(order, 1), event(request, 2)]
    second = [event({**order, "status": "shipped", "variant": 2}, 3)]  # L1 replaced by L2
    pages = [first, second]
    one_by_one = run(pages, batched=False, django_settings=settings, between=open_rmas)
    batched = run(pages, batched=True, django_settings=settings, between=open_rmas)
    for key in one_by_one:
        assert batched[key] == one_by_one[key], key
    assert [action for action, _reason, _ticket in batched["outcomes"]].count("quarantined") == 0
    [(external_id, status, _total, _at, _customer, lines, _shipments)] = batched["orders"]
    assert (external_id, status) == ("O-1", "shipped")
    assert [line[0] for line in lines] == ["L1", "L2"]
    assert [r[1] for r in batched["rmas"]] == ["under_review"]  # the RMA stays as it was


@pytest.mark.django_db
def test_an_order_sharing_a_buyer_with_earlier_messages_waits_at_the_segment_end(installed, settings):
    """b1 writes, then b1's order version: the order goes after that message (it shares b1) and
    waits there; b1 writing again cannot overtake it and starts the next segment, which b2's and
    b4's messages join, b2's order waiting at its end (b4, a new customer, may overtake it: that
    order creates none). Before, each order opened a segment: 3 message_ingest_many calls, now 2.
    Same result as record by record."""
    order = {"kind": "order", "buyer": "b1", "order": "O-1", "status": "paid"}
    page = [
        _buyer_message(1, "b1"),
        event(order, 2),
        _buyer_message(3, "b1"),  # shares b1 with the waiting order: next segment
        _buyer_message(4, "b2"),
        event({**order, "buyer": "b2", "order": "O-2"}, 5),  # shares b2: waits at the end
        _buyer_message(6, "b4"),  # creates a customer, as the waiting O-2's b2 did not: joins
    ]
    one_by_one = run([page], batched=False, django_settings=settings)
    calls: list[int] = []
    original = sync_module.message_ingest_many

    def spy(**kwargs: Any) -> Any:
        calls.append(len(kwargs["inbounds"]))
        return original(**kwargs)

    with mock.patch.object(sync_module, "message_ingest_many", spy):
        batched = run([page], batched=True, django_settings=settings)
    for key in one_by_one:
        assert batched[key] == one_by_one[key], key
    assert calls == [1, 3]  # [m1] + O-1 after it; [m3, m4, m6] + O-2 after them


def _reads_of(table: str, queries: list[dict[str, Any]]) -> int:
    return sum(1 for q in queries if q["sql"].startswith("SELECT") and f'FROM "{table}"' in q["sql"])


@pytest.mark.django_db
def test_a_pages_customers_are_read_once_for_its_segments(installed, settings):
    """Two segments and two order passes (the page of the test above, with e-mail addresses): the
    buyers' identities and the customers with their addresses are read once for the page (PageCustomers,
    filled by the plan), not by each call; same result as record by record."""
    order = {"kind": "order", "buyer": "b1", "email": "b1@example.com", "order": "O-1", "status": "paid"}
    page = [
        _buyer_message(1, "b1", "b1@example.com"),
        event(order, 2),
        _buyer_message(3, "b1"),
        _buyer_message(4, "b2", "shared@example.com"),
        event({**order, "buyer": "b2", "email": "", "order": "O-2"}, 5),
        _buyer_message(6, "b4", "shared@example.com"),  # b2's customer, found by the address
    ]
    one_by_one = run([page], batched=False, django_settings=settings)
    settings.CHANNELS_SYNC_BATCH_MESSAGES = True
    store = StoreFactory(platform=testshop.PLATFORM, site="testshop", credentials={"token": testshop.TOKEN})
    with CaptureQueriesContext(connection) as ctx:
        outcomes = receive_records(
            store=store, records=[RawRecord(Stream.MESSAGES, item["id"], item) for item in page], source="pull"
        )
    assert _reads_of("catalog_customeridentity", ctx.captured_queries) == 1
    assert _reads_of("catalog_customer", ctx.captured_queries) == 1
    batched = snapshot(store, outcomes)
    for key in one_by_one:
        if key != "published":
            assert batched[key] == one_by_one[key], key
    assert (("b2", "b4"), "", "shared@example.com") in batched["customers"]


@pytest.mark.django_db
def test_a_customer_created_by_a_record_applied_alone_is_seen_by_the_next_segments(installed, settings):
    """An e-mail naming a ticket in its subject is applied on its own (a barrier, through message_ingest):
    here it creates b9's customer with z@example.com. b10 then writes from that address, in the next
    segment: b10 is b9's customer, as record by record (the page's customers, read before the barrier
    with no one at that address, are read again after it)."""
    barrier = {**_buyer_message(2, "b9", "z@example.com"), "subject": "Re: [#999999] my order"}
    page = [_buyer_message(1, "b1", "b1@example.com"), barrier, _buyer_message(3, "b10", "z@example.com")]
    one_by_one = run([page], batched=False, django_settings=settings)
    batched = run([page], batched=True, django_settings=settings)
    for key in one_by_one:
        assert batched[key] == one_by_one[key], key
    assert ("b10", "b9") in [c[0] for c in batched["customers"]]
