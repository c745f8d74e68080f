"""message_ingest_many = message_ingest once per message, in order (services/ingest_many.py).

Two organizations are built identically; one receives the pages through message_ingest (message by
message), the other through message_ingest_many (page by page); their customers, identities,
tickets, messages, audit rows, search documents, orders and published events must be the same,
ids aside. Runs on SQLite and on PostgreSQL (DATABASE_URL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersales.accounts.models import Organization
from aftersales.catalog.models import Customer, CustomerIdentity, Order, OrderLine, Product, Store
from aftersales.core import events
from aftersales.core.errors import DomainError
from aftersales.inbox.models import Message, Ticket, TicketEvent, TicketSearch
from aftersales.inbox.services import InboundMessage, message_ingest
from aftersales.inbox.services.ingest_many import message_ingest_many
from aftersales.inbox.workflow import STATUS_CATEGORY, TicketStatus

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class World:
    def __init__(self, label: str) -> None:
        self.org = Organization.objects.create(
            name=f"Parity {label}", slug=f"parity-{label}".replace(" ", "-"), high_value_threshold=Decimal("300")
        )
        self.a = Store.objects.create(organization=self.org, name="A", platform="amazon")
        self.b = Store.objects.create(organization=self.org, name="B", platform="ebay")
        phone = Product.objects.create(
            organization=self.org, sku="PH-1", title="Phone", category="electronics", price_amount=Decimal("500")
        )
        self.order = Order.objects.create(
            organization=self.org, store=self.a, external_id="O-1", placed_at=T0, total_amount=Decimal("500")
        )
        OrderLine.objects.create(order=self.order, product=phone, sku="PH-1", unit_price_amount=Decimal("500"))
        Order.objects.create(organization=self.org, store=self.a, external_id="O-2", placed_at=T0)
        self.customers: dict[str, Customer] = {}
        for buyer, name, email, store in (
            ("B1", "Ann", "ann@example.com", self.a),
            ("B2", "Bob", "bob@example.com", self.a),
            ("B3", "Cid", "cid@example.com", self.a),
            ("D4", "Dora", "Dora@Example.com", self.b),
            ("B5", "", "", self.a),
            ("B6", "Fay", "fay@example.com", self.a),
        ):
            customer = Customer.objects.create(organization=self.org, name=name, email=email)
            CustomerIdentity.objects.create(customer=customer, store=store, external_id=buyer)
            self.customers[buyer] = customer
        for buyer, status, conversation in (
            ("B1", TicketStatus.OPEN, "conv-1"),
            ("B2", TicketStatus.SOLVED, "conv-2"),
            ("B3", TicketStatus.CLOSED, "conv-3"),
            ("B6", TicketStatus.PENDING_CUSTOMER, ""),
        ):
            Ticket.objects.create(
                organization=self.org,
                subject=f"Earlier {buyer}",
                store=self.a,
                platform="amazon",
                customer=self.customers[buyer],
                conversation_id=conversation,
                status=status,
                status_category=STATUS_CATEGORY[status],
            )
        from aftersales.inbox.services import search_rebuild

        search_rebuild(organization_id=self.org.pk)

    def store(self, name: str) -> Store:
        return {"a": self.a, "b": self.b}[name]


def msg(world: World, n: int, buyer: str, body: str = "Where is my parcel?", store: str = "a", **kw: Any):
    kw.setdefault("sent_at", T0 + timedelta(minutes=n))
    return InboundMessage(
        store=world.store(store),
        external_id=kw.pop("external_id", f"m{n}"),
        body=body,
        customer_external_id=buyer,
        via="test",
        **kw,
    )


def scenario(w: World) -> list[list[InboundMessage]]:
    return [
        [
            msg(w, 1, "N1", customer_name="Nina", customer_email="nina@example.com", conversation_id="conv-n1"),
            msg(w, 2, "N1", "Any news?", conversation_id="conv-n1", customer_language="de"),
            msg(w, 3, "B1", "Still waiting", conversation_id="conv-1"),
            msg(w, 4, "B2", "It broke again", conversation_id="conv-2"),  # a reply to a solved ticket
            msg(w, 5, "B3", "Hello again", conversation_id="conv-3"),  # its ticket is closed
            msg(w, 6, "N4", "Order question", customer_email="DORA@example.com"),  # the same buyer, another store
            msg(w, 7, "B5", "Me again", customer_name="Eve", customer_email="eve@example.com"),  # fills in
            msg(w, 8, "N8", "Phone broken", order_external_id="O-1", customer_name="Hal"),
            msg(w, 9, "B1", "replayed", external_id="m3"),  # a replay within the page
            msg(w, 10, "B1", "   "),  # refused: no body
            msg(w, 11, "N1", "Third try"),  # the customer's open ticket
            msg(w, 12, "B6", "Here is the photo"),  # a waiting ticket: reopened
            msg(w, 13, "N1", "From my other account", store="b", customer_email="NINA@example.com"),
            msg(w, 14, "N9", "About that phone", order_external_id="O-1"),  # the order's ticket
            msg(w, 15, "N15", "Unknown order", order_external_id="O-404", subject="Help"),
            msg(w, 16, "N16", "second order", order_external_id="O-2", customer_email="nina@example.com"),
        ],
        [
            msg(w, 3, "B1", "replayed across pages"),
            msg(w, 17, "N1", "Hello?", conversation_id="conv-n1"),
            msg(w, 18, "B3", "Anyone?", conversation_id="conv-3"),
            msg(w, 19, "B7", "A new buyer", customer_language="fr", customer_country="FR"),
            msg(w, 20, "B7", "same page, same new buyer", customer_name="Gus"),
            msg(w, 21, "B2", "and another thing"),
        ],
    ]


def snapshot(world: World, published: list[Any]) -> dict[str, Any]:
    org = world.org
    customers = list(Customer.objects.filter(organization=org).order_by("pk"))
    cix = {c.pk: i for i, c in enumerate(customers)}
    tickets = list(Ticket.objects.filter(organization=org).order_by("pk"))
    tix = {t.pk: i for i, t in enumerate(tickets)}
    messages = {m.pk: m.external_id for m in Message.objects.filter(ticket__organization=org)}
    stores = {world.a.pk: "a", world.b.pk: "b"}

    def norm_payload(payload: dict[str, Any]) -> dict[str, Any]:
        out = dict(payload)
        if "message_id" in out:
            out["message_id"] = messages.get(out["message_id"])
        if "store_id" in out:
            out["store_id"] = stores[out["store_id"]]
        return out

    docs = dict(TicketSearch.objects.filter(ticket__organization=org).values_list("ticket_id", "document"))
    return {
        "customers": [
            (c.name, c.email, c.email_normalized, str(c.country), c.preferred_language, c.tier) for c in customers
        ],
        "identities": sorted(
            (stores[i.store_id], i.external_id, cix[i.customer_id])
            for i in CustomerIdentity.objects.filter(customer__organization=org)
        ),
        "orders": sorted((o.external_id, cix.get(o.customer_id)) for o in Order.objects.filter(organization=org)),
        "tickets": [
            {
                "subject": t.subject,
                "store": stores[t.store_id],
                "customer": cix[t.customer_id],
                "order": t.order.external_id if t.order_id else None,
                "conversation": t.conversation_id,
                "status": (t.status, t.status_category, t.resolved_at is None),
                "flags": (t.category, t.language, t.is_high_priority, t.sku_category, t.customer_tier),
                "times": (t.last_message_at, t.last_customer_message_at, t.is_unreplied),
                "messages": [
                    (m.external_id, m.body, m.author_name, m.sent_at, m.language, m.channel)
                    for m in Message.objects.filter(ticket=t).order_by("created_at", "id")
                ],
                "audit": [
                    (
                        e.type,
                        e.actor_kind,
                        cix.get(int(e.actor_ref)) if e.actor_kind == "customer" else e.actor_ref,
                        norm_payload(e.payload),
                    )
                    for e in TicketEvent.objects.filter(ticket=t).order_by("at", "id")
                ],
                "document": docs.get(t.pk),
            }
            for t in tickets
        ],
        "events": sorted(_event_key(e, tix, messages) for e in published),
    }


def _event_key(event: Any, tix: dict[int, int], messages: dict[int, str]) -> tuple[Any, ...]:
    data = (
        dict(vars(event)) if hasattr(event, "__dict__") else {f: getattr(event, f) for f in event.__dataclass_fields__}
    )
    data.pop("ticket_event_id", None)
    data.pop("organization_id", None)
    data["ticket_id"] = tix[data["ticket_id"]]
    if "message_id" in data:
        data["message_id"] = messages[data["message_id"]]
    actor = data.pop("actor")
    return (type(event).__name__, actor.kind, repr(sorted(data.items())))


def outcome_key(result: Any, tix: dict[int, int]) -> tuple[Any, ...]:
    if isinstance(result, DomainError):
        return ("error", type(result).__name__, result.field, result.message)
    return ("ok", result.message.external_id, tix[result.ticket.pk], result.created, result.ticket_created)


_worlds = iter(range(1_000_000))


def run_both(pages_of) -> tuple[Any, Any]:  # type: ignore[no-untyped-def]
    published: dict[str, list[Any]] = {"seq": [], "many": []}
    current = {"name": "seq"}
    real_publish_many = events.publish_many

    def capture(batch: Any) -> None:  # (events.publish hands its event to publish_many)
        published[current["name"]].extend(batch)
        real_publish_many(batch)

    snaps = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(events, "publish_many", capture)
        for name in ("seq", "many"):
            current["name"] = name
            snaps[name] = _run(name, pages_of, published[name])
    return snaps["seq"], snaps["many"]


def _run(name: str, pages_of, published: list[Any]) -> tuple[Any, Any]:  # type: ignore[no-untyped-def]
    world = World(f"{name} {next(_worlds)}")
    outcomes: list[Any] = []
    for page in pages_of(world):
        if name == "seq":
            for inbound in page:
                try:
                    outcomes.append(message_ingest(inbound=inbound))
                except DomainError as exc:
                    outcomes.append(exc)
        else:
            outcomes += message_ingest_many(inbounds=page)
    tix = {t.pk: i for i, t in enumerate(Ticket.objects.filter(organization=world.org).order_by("pk"))}
    return snapshot(world, published), [outcome_key(o, tix) for o in outcomes]


@pytest.mark.django_db(transaction=False)
def test_pages_give_what_one_by_one_gives():
    seq, many = run_both(scenario)
    assert many[1] == seq[1]  # outcomes, message by message
    for key in seq[0]:
        assert many[0][key] == seq[0][key], key
    # The scenario does what it says.
    outcomes = seq[1]
    assert outcomes[8] == ("ok", "m3", outcomes[2][2], False, False)  # replay within the page
    assert outcomes[9][0] == "error" and outcomes[9][2] == "body"
    assert outcomes[16][3] is False  # replay across pages
    tickets = seq[0]["tickets"]
    assert tickets[1]["status"][0] == TicketStatus.OPEN  # the solved ticket took the reply
    assert tickets[3]["status"][0] == TicketStatus.OPEN  # the waiting one too
    assert outcomes[4][4] is True  # the closed ticket's customer got a new ticket
    assert outcomes[13][2] == outcomes[7][2]  # the order's ticket


def test_a_page_costs_a_few_queries_not_a_few_per_message(world):
    def page(prefix: str, n: int) -> list[InboundMessage]:
        return [
            InboundMessage(
                store=world.store_us,
                external_id=f"{prefix}{i}",
                body=f"message {i}",
                customer_external_id=f"buyer-{i % 7}",
                customer_email=f"buyer{i % 7}@example.com",
                conversation_id=f"conv-{i % 7}",
            )
            for i in range(n)
        ]

    message_ingest_many(inbounds=page("warm", 14))
    with CaptureQueriesContext(connection) as ctx:
        results = message_ingest_many(inbounds=page("p", 60))
    assert all(r.created for r in results)  # type: ignore[union-attr]
    # 7 threads touched: 7 ticket UPDATEs; the rest is per page, not per message.
    assert len(ctx.captured_queries) <= 25, "\n".join(q["sql"][:200] for q in ctx.captured_queries)


buyers = st.sampled_from(["B1", "B2", "B3", "B5", "B6", "N1", "N2", "N3"])
one_message = st.fixed_dictionaries(
    {
        "buyer": buyers,
        "store": st.sampled_from(["a", "a", "b"]),
        "conversation": st.sampled_from(["", "", "conv-1", "conv-2", "conv-3", "conv-x"]),
        "order": st.sampled_from([None, None, "O-1", "O-2"]),
        "email": st.sampled_from(["", "", "ann@example.com", "new@example.com", "dora@example.com"]),
        "name": st.sampled_from(["", "Zed"]),
        "language": st.sampled_from(["", "de"]),
        "replay": st.integers(min_value=0, max_value=6),
        "empty": st.booleans(),
    }
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(pages=st.lists(st.lists(one_message, min_size=1, max_size=8), min_size=1, max_size=3))
@pytest.mark.django_db(transaction=False)
def test_random_pages_give_what_one_by_one_gives(pages):
    def pages_of(world: World) -> list[list[InboundMessage]]:
        out = []
        n = 0
        for page in pages:
            built = []
            for spec in page:
                n += 1
                external_id = f"m{spec['replay']}" if spec["replay"] < n and spec["replay"] % 3 == 0 else f"m{n}"
                built.append(
                    msg(
                        world,
                        n,
                        spec["buyer"],
                        "" if spec["empty"] and n % 4 == 0 else f"body {n}",
                        store=spec["store"],
                        external_id=external_id,
                        conversation_id=spec["conversation"],
                        order_external_id=spec["order"],
                        customer_email=spec["email"],
                        customer_name=spec["name"],
                        customer_language=spec["language"],
                    )
                )
            out.append(built)
        return out

    seq, many = run_both(pages_of)
    assert many[1] == seq[1]
    for key in seq[0]:
        assert many[0][key] == seq[0][key], key
