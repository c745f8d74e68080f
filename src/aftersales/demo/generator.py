"""The demo data generator: a believable multi-store seller with N after-sales tickets.

Deterministic: one seeded random stream for customers and one for tickets, consumed in ticket
order, so the same seed gives the same content whatever the batch size (timestamps are relative
to `now`; pass a fixed `now` to get identical rows). Rows go to the database in batches through
writer.Writer (COPY on PostgreSQL), one transaction per batch, without per-row service calls."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from aftersales.accounts.models import Organization
from aftersales.catalog.models import Customer, CustomerIdentity, Order, OrderLine, Shipment, TrackingEvent
from aftersales.inbox.models import Mention, Message, Ticket, TicketEvent, TicketSearch
from aftersales.inbox.search import ticket_document
from aftersales.inbox.workflow import STATUS_CATEGORY, TicketStatus, Urgency

from . import data
from .bulkload import without_indexes
from .conversation import ConversationPlayer, Party, ScriptWriter
from .customers import Buyer, CustomerMaker
from .orders import OrderMaker
from .returns import demo_rmas
from .sampling import Weighted
from .texts import corpus, customer_templates, note_pool
from .world import World, build_world
from .writer import BulkTable, IdAllocator, Writer, reset_sequences

S = TicketStatus
# Status mix by ticket age: recent tickets are still being worked on, old ones are mostly done.
STATUS_BY_AGE = (
    (1.0, Weighted(((S.NEW, 45), (S.OPEN, 25), (S.PENDING_CUSTOMER, 20), (S.ON_HOLD, 5), (S.SOLVED, 5)))),
    (3.0, Weighted(((S.NEW, 10), (S.OPEN, 20), (S.PENDING_CUSTOMER, 30), (S.ON_HOLD, 10), (S.SOLVED, 25),
                    (S.CLOSED, 5)))),
    (14.0, Weighted(((S.NEW, 3), (S.OPEN, 10), (S.PENDING_CUSTOMER, 17), (S.ON_HOLD, 8), (S.SOLVED, 27),
                     (S.CLOSED, 35)))),
    (1e9, Weighted(((S.NEW, 1), (S.OPEN, 4), (S.PENDING_CUSTOMER, 5), (S.ON_HOLD, 3), (S.SOLVED, 12),
                    (S.CLOSED, 75)))),
)  # fmt: skip
_BASE_CATEGORIES = {
    "quality_issue": 16, "not_received": 15, "logistics": 10, "wrong_or_missing_item": 7, "usage_question": 8,
    "return": 10, "exchange": 4, "refund": 10, "warranty_repair": 5, "complaint": 5, "other": 3,
    "size_mismatch": 0,
}  # fmt: skip
_CATEGORY_TWEAKS = {
    "3c": {"quality_issue": 18, "usage_question": 10, "warranty_repair": 10, "exchange": 3},
    "fashion": {"size_mismatch": 22, "usage_question": 0, "warranty_repair": 0, "return": 12, "exchange": 10},
    "other": {},
}
NO_ORDER_CATEGORIES = Weighted((("usage_question", 70), ("other", 30)))
URGENCY_BY_CATEGORY = {
    "complaint": ((Urgency.HIGH, 60), (Urgency.MEDIUM, 40)),
    "not_received": ((Urgency.LOW, 10), (Urgency.MEDIUM, 60), (Urgency.HIGH, 30)),
    "wrong_or_missing_item": ((Urgency.LOW, 10), (Urgency.MEDIUM, 60), (Urgency.HIGH, 30)),
    "refund": ((Urgency.LOW, 20), (Urgency.MEDIUM, 50), (Urgency.HIGH, 30)),
    "usage_question": ((Urgency.LOW, 70), (Urgency.MEDIUM, 30)),
    "other": ((Urgency.LOW, 70), (Urgency.MEDIUM, 30)),
    "return": ((Urgency.LOW, 50), (Urgency.MEDIUM, 45), (Urgency.HIGH, 5)),
    "exchange": ((Urgency.LOW, 50), (Urgency.MEDIUM, 45), (Urgency.HIGH, 5)),
    "size_mismatch": ((Urgency.LOW, 50), (Urgency.MEDIUM, 45), (Urgency.HIGH, 5)),
}
DEFAULT_URGENCY = ((Urgency.LOW, 20), (Urgency.MEDIUM, 60), (Urgency.HIGH, 20))
BUMP = {Urgency.LOW: Urgency.MEDIUM, Urgency.MEDIUM: Urgency.HIGH, Urgency.HIGH: Urgency.HIGH}
STORE_TEAM = {
    "amazon_us": "Amazon US team", "amazon_de": "Amazon EU team", "ebay_us": "eBay team", "ebay_uk": "eBay team",
    "shopee_sg": "Shopee team", "shopee_br": "Shopee team", "aliexpress": "AliExpress & TikTok team",
    "tiktok": "AliExpress & TikTok team", "shopify": "Email & Shopify", "email": "Email & Shopify",
}  # fmt: skip
DISPUTE_TAG = {"amazon": "a-to-z-claim", "shopee": "shopee-dispute", "ebay": "ebay-case"}
SEASON_TAGS = ("black-friday", "11.11", "prime-day")
BULK_MODELS = (
    Customer, CustomerIdentity, Order, OrderLine, Shipment, TrackingEvent, Ticket, Ticket.tags.through, Message,
    Mention, TicketEvent, TicketSearch,
)  # fmt: skip


def _group(category: str) -> str:
    if category in data.THREE_C:
        return "3c"
    return "fashion" if category in ("apparel", "shoes") else "other"


@dataclass
class Progress:
    done: int
    total: int
    seconds: float
    rows: int

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0


@dataclass
class DemoResult:
    organization: Organization
    tickets: int
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase

    @property
    def rate(self) -> float:
        return self.tickets / self.seconds if self.seconds else 0.0


class TicketGenerator:
    def __init__(self, world: World, *, seed: int, now: datetime) -> None:
        self.world = world
        self.now = now
        self.rng = random.Random(f"aftersales-demo:{seed}:tickets")  # noqa: S311 (demo data, seeded on purpose)
        self.customer_rng = random.Random(f"aftersales-demo:{seed}:customers")  # noqa: S311
        self.ids = IdAllocator(BULK_MODELS)
        names = ("customers", "identities", "orders", "lines", "shipments", "tracking", "tickets", "ticket_tags",
                 "messages", "mentions", "events", "search")  # fmt: skip
        self.tables = {
            name: BulkTable(cast(type[Model], model)) for name, model in zip(names, BULK_MODELS, strict=True)
        }
        org = world.organization
        self.customer_maker = CustomerMaker(
            rng=self.customer_rng,
            org_id=org.pk,
            store_platforms={k: s.spec.platform for k, s in world.stores.items()},
            store_ids={k: s.id for k, s in world.stores.items()},
            now=now,
        )
        self.order_maker = OrderMaker(rng=self.rng, org_id=org.pk, products=world.products)
        self.scripts = ScriptWriter(self.rng)
        self.player = ConversationPlayer(rng=self.rng, ids=self.ids, tables=self.tables)
        self.products = Weighted(tuple((p, 3 if p.spec.category in data.THREE_C else 2) for p in world.products))
        self.gadgets = Weighted(tuple((p, 1) for p in world.products if p.spec.category in data.THREE_C))
        self.categories = {
            (group, warranty): Weighted(
                tuple(
                    (c, 0 if c == "warranty_repair" and not warranty else w)
                    for c, w in {**_BASE_CATEGORIES, **_CATEGORY_TWEAKS[group]}.items()
                )
            )
            for group in _CATEGORY_TWEAKS
            for warranty in (True, False)
        }
        self.urgencies = {c: Weighted(URGENCY_BY_CATEGORY.get(c, DEFAULT_URGENCY)) for c in _BASE_CATEGORIES}
        processors = tuple(u for u in world.users.values() if u.can_process)
        self.fallback_assignees = tuple(u for u in processors if u.username != "admin")
        self.admin = world.users["admin"]
        self.user_language = {u.username: u.language for u in data.USERS}
        self.english = corpus("en")
        self.buyers: list[Buyer] = []
        self.body_column = self.tables["messages"].columns.index("body")

    def make_customers(self, count: int, batch_size: int, writer: Writer) -> None:
        customers, identities = self.tables["customers"], self.tables["identities"]
        for start in range(0, count, batch_size):
            for index in range(start, min(count, start + batch_size)):
                self.buyers.append(self.customer_maker.make(index, self.ids, customers, identities))
            writer.flush()

    def make_tickets(
        self, count: int, batch_size: int, writer: Writer, progress: Callable[[Progress], None] | None
    ) -> None:
        started = time.monotonic()
        rows = 0
        for start in range(0, count, batch_size):
            end = min(count, start + batch_size)
            for index in range(start, end):
                self.ticket(index, count)
            rows += writer.flush()
            if progress is not None:
                progress(Progress(end, count, time.monotonic() - started, rows))

    def ticket(self, index: int, count: int) -> None:
        rng = self.rng
        world = self.world
        buyer = self.buyers[rng.randrange(len(self.buyers))]
        store_key = buyer.stores[0] if len(buyer.stores) == 1 else buyer.stores[rng.randrange(len(buyer.stores))]
        store = world.stores[store_key]
        platform = store.spec.platform
        # Tickets come in chronological order, as a live system writes them (ids and the table's
        # physical order follow creation time); more of them recently (age = 90 days * u^1.25).
        u = 1 - (index + rng.random()) / count
        age_days = max(90 * u**1.25, 0.012)
        t0 = self.now - timedelta(days=age_days)
        status = next(w for limit, w in STATUS_BY_AGE if age_days < limit).pick(rng)
        has_order = rng.random() < (0.5 if platform == "email" else 0.93)
        # Without an order it is a question about a gadget (a gift, bought elsewhere, before buying).
        product = (self.products if has_order else self.gadgets).pick(rng)
        spec = product.spec
        if has_order:
            category = self.categories[(_group(spec.category), spec.warranty_months > 0)].pick(rng)
        else:
            category = NO_ORDER_CATEGORIES.pick(rng)
        urgency = self.urgencies[category].pick(rng)
        if buyer.tier in ("vip", "at_risk") and rng.random() < 0.4:
            urgency = BUMP[urgency]
        ticket_id = self.ids.take(Ticket)
        order = None
        ctx = {
            "category": category, "product": spec.title, "sku": spec.sku, "warranty": str(spec.warranty_months),
            "first_name": buyer.first_name, "last_name": buyer.last_name, "customer_name": buyer.name,
            "order": "", "tracking": "", "carrier": "", "days": "", "amount": "", "size": "", "size_wanted": "",
        }  # fmt: skip
        if has_order:
            lead = (12, 45) if category == "not_received" else ((40, 300) if category == "warranty_repair" else (3, 30))
            placed = t0 - timedelta(days=lead[0] + (lead[1] - lead[0]) * rng.random())
            order = self.order_maker.make(
                index=index, store=store, buyer=buyer, product=product, category=category, placed=placed,
                ticket_at=t0, ids=self.ids, tables=self.tables,
            )  # fmt: skip
            ctx.update(
                order=order.external_id, tracking=order.tracking, carrier=order.carrier,
                days=str((t0 - placed).days), amount=f"{order.total} {order.currency}", size=order.size,
                size_wanted=order.size_wanted,
            )  # fmt: skip
        team = self._route(store_key, buyer.language, category, spec.category if has_order else "")
        party = self._party(rng, status, team, buyer, store.id, platform)
        ctx["agent"] = party.assignee_name
        ctx["mention"] = party.mention_username
        lang = corpus(buyer.language)
        templates = customer_templates(buyer.language, category, _group(spec.category), spec.sku, has_order)
        template = templates[rng.randrange(len(templates))]
        greeting = lang.greetings[rng.randrange(len(lang.greetings))]
        closing = lang.closings[rng.randrange(len(lang.closings))]
        first_message = f"{greeting}\n\n{template.body}\n\n{closing}".format_map(ctx)
        tag_names = self._tags(rng, status, category, buyer.tier, platform)
        notes = note_pool("zh" if party.assignee_language == "zh-hans" else "en", category, buyer.tier, has_order)
        steps = self.scripts.script(
            status=status, corpus=lang, english=self.english, first_message=first_message, ctx=ctx,
            has_order=has_order, party=party, notes=notes, tags=bool(tag_names),
        )  # fmt: skip
        messages = self.tables["messages"]
        first_row = len(messages.rows)
        facts = self.player.play(
            ticket_id=ticket_id, index=index, steps=steps, t0=t0, now=self.now, party=party,
            team_id=team.id if team else None, tag_ids=[world.tags[n] for n in tag_names], tag_names=tag_names,
        )  # fmt: skip
        subject = template.subject.format_map(ctx)[:300]
        # The search document (tests compare it with services.search's rebuild).
        bodies = [row[self.body_column] for row in messages.rows[first_row:]]
        self.tables["search"].add((ticket_id, ticket_document(subject, buyer.name, buyer.email, bodies)))
        high_priority = (
            buyer.tier == "vip"
            or (order is not None and order.total_usd >= data.HIGH_VALUE_USD)
            or (urgency == Urgency.HIGH and rng.random() < 0.15)
        )
        self.tables["tickets"].add(
            (
                ticket_id, facts.created_at, facts.updated_at, world.organization.pk,
                subject, store.id, platform, buyer.id, buyer.tier,
                order.id if order else None, spec.category if has_order else "", f"{platform}-conv-{index}",
                category, urgency, facts.status, STATUS_CATEGORY[facts.status], party.assignee,
                team.id if team else None, buyer.language, high_priority, facts.is_unreplied, None,
                facts.last_message_at, facts.last_customer_message_at, facts.first_response_at, facts.resolved_at,
                facts.closed_at,
            )
        )  # fmt: skip

    def _route(self, store_key: str, language: str, category: str, sku_category: str):  # type: ignore[no-untyped-def]
        teams = self.world.teams
        if category == "warranty_repair" and sku_category in data.THREE_C:
            return teams["3C warranty desk"]
        if language in ("ja", "ko", "zh") and store_key in ("aliexpress", "shopify", "email"):
            return teams["Asia languages"]
        team = teams[STORE_TEAM[store_key]]
        if team.spec.languages and language not in team.spec.languages:
            return None  # e.g. a Dutch buyer on amazon.de: nobody's scope, triaged by hand
        return team

    def _party(self, rng: random.Random, status: str, team, buyer: Buyer, store_id: int, platform: str) -> Party:  # type: ignore[no-untyped-def]
        pool = team.members if team and team.members else self.fallback_assignees
        assignee = None if status == S.NEW else pool[rng.randrange(len(pool))]
        others = [u for u in (team.members if team else ()) if assignee is None or u.id != assignee.id]
        mention = others[rng.randrange(len(others))] if others else self.admin
        assigner = assignee if assignee is not None and rng.random() < 0.7 else self.admin
        return Party(
            customer_name=buyer.name,
            store_id=store_id,
            platform=platform,
            assignee=assignee.id if assignee else None,
            assignee_name=assignee.display_name if assignee else "",
            assignee_language=self.user_language[assignee.username] if assignee else "en",
            assigner=assigner.id,
            mention=mention.id,
            mention_username=mention.username,
        )

    def _tags(self, rng: random.Random, status: str, category: str, tier: str, platform: str) -> list[str]:
        if status == S.NEW or rng.random() >= 0.35:
            return []
        pool = data.NOTE_TAGS_BY_CATEGORY[category]
        names = {pool[rng.randrange(len(pool))]}
        if tier == "vip" and rng.random() < 0.5:
            names.add("vip")
        if category == "complaint" and platform in DISPUTE_TAG:
            names.add(DISPUTE_TAG[platform])
        if rng.random() < 0.05:
            names.add(SEASON_TAGS[rng.randrange(len(SEASON_TAGS))])
        return sorted(names)


def generate(
    *,
    tickets: int,
    seed: int = 1,
    batch_size: int = 5000,
    now: datetime | None = None,
    progress: Callable[[Progress], None] | None = None,
    bulk_load: bool = False,
) -> DemoResult:
    """Create the demo organization with `tickets` tickets.

    bulk_load (PostgreSQL only, for an otherwise idle database): drop and recreate the secondary
    indexes and constraints of the bulk tables around the load and COPY from a background thread;
    see bulkload.py."""
    started = lap = time.monotonic()
    phases: dict[str, float] = {}

    def phase(name: str) -> None:
        nonlocal lap
        phases[name] = time.monotonic() - lap
        lap = time.monotonic()

    bulk_load = bulk_load and connection.vendor == "postgresql"
    with transaction.atomic():
        world = build_world()
    generator = TicketGenerator(world, seed=seed, now=now or timezone.now())
    phase("reference data")
    with without_indexes(BULK_MODELS) if bulk_load else nullcontext():
        writer = Writer(list(generator.tables.values()), background=bulk_load)
        try:
            generator.make_customers(max(40, tickets * 2 // 5), batch_size, writer)
            phase("customers")
            generator.make_tickets(tickets, batch_size, writer, progress)
        finally:
            writer.close()
        phase("tickets")
    reset_sequences(BULK_MODELS)
    if bulk_load:
        phase("indexes and constraints")
        with connection.cursor() as cursor:
            for model in BULK_MODELS:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        phase("analyze")
    demo_rmas(organization_id=world.organization.pk)  # a few RMAs through the services (demo/returns.py)
    phase("returns")
    rows = {name: table.written for name, table in generator.tables.items()}
    return DemoResult(world.organization, tickets, time.monotonic() - started, rows, phases)
