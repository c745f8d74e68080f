"""Which records of a page the sync engine may apply together (channels/sync.py, the clean pass).

A page interleaves buyer messages, order versions and return events. The engine applies a page as a
sequence of *segments*: in each, first its orders (channels.apply_many.orders_apply_many, in page
order), then its buyer messages and returns in page order, all through one call of the inbox's
message_ingest_many (channels.returns_many), then its *later* orders (orders_apply_many again, in page
order). That is the page's own order except that an order version may be applied before messages,
returns and later orders that came earlier in the page (it shares nothing with them), and a message
or return before later orders that came earlier (it shares nothing with them). An order that shares
something with the segment's messages or returns goes to the later orders (it overtakes nothing
there); a message or return that shares something with the later orders opens a new segment.
(Messages and returns keep their order: both write on tickets, which a message can reach through its
conversation, its order or its customer; which ticket that is is decided only when applying.) Two
records "share something" when their key sets meet:

- the buyer: `b:` store + buyer id, `e:` organization + e-mail address, and `c:` the customer the
  buyer resolves to, found by replaying the inbox's customer rules (identity, else e-mail, else
  new; a known buyer filling in an e-mail) over the page in its order, from the identities and
  customers read for the page (one query each): two buyer ids that reach one customer (through an
  e-mail address, also one told earlier in the page) share it;
- the order (`o:` store + order id): an order version, a message about it (links it to the buyer,
  threads by it, a new ticket's product category), a return of it.

An order version touches its order, lines, shipments and its buyer's customer, nothing a message or a
return reaches otherwise, with one exception the keys cannot see: the *order in which customers are
created*. The inbox resolves an unknown buyer's e-mail address held by several customers to the one
with the lowest id; an order whose buyer creates a customer, applied before an earlier message or
return that creates another, swaps their ids, and a later buyer of this page or of any later page
who writes from an address both come to hold (filled in later) then becomes the other one's
customer and threads into other tickets (the PostgreSQL parity failure of 2026-12-06; regression test
test_an_order_creating_a_customer_does_not_overtake_a_message_creating_one). So an order that
creates a customer never overtakes a message or return that creates one (it goes to the later
orders), and a message or return that creates one never overtakes a later order that creates one (it
opens a new segment).

Anything else (a seller's message, tracking, a bounce, an e-mail threaded by its headers, an order
whose units go to the warranty registry, a return with no buyer id: its buyer comes from the order's
customer; a return whose label the platform issued) is a *barrier*: the open segment is applied, then
that record alone, in its place."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from aftersales.catalog.models import Customer, CustomerIdentity, Store, normalise_email
from aftersales.core import lookups as _lookups  # noqa: F401  (registers `__any_of`)
from aftersales.inbox.services import InboundMessage
from aftersales.inbox.services.ingest import needs_email_threading
from aftersales.inbox.services.ingest_many import PageCustomers

from .apply_many import batchable
from .base import OrderRecord, Record, ReturnRecord

ORDER, MESSAGE, RETURN = "order", "message", "return"
# Whether an order version may be applied before earlier messages and returns of its segment that
# share no key with it (and, if it creates a customer, create none). Off on 2026-12-06 after the
# hypothesis parity test found a page where it changed which ticket a later message threads into:
# the customers' id order (module docstring); on again with that rule.
REORDER_ORDERS = True


@dataclass(frozen=True)
class _Buyer:
    store_id: int
    organization_id: int
    external_id: str
    email: str


def kind_of(mapped: list[Record], inbound: InboundMessage | None) -> str | None:
    """The group a record joins, or None (a barrier)."""
    if inbound is not None:
        return None if needs_email_threading(inbound) else MESSAGE
    if len(mapped) != 1:
        return None
    record = mapped[0]
    if isinstance(record, OrderRecord):
        return ORDER if batchable(record) else None
    if isinstance(record, ReturnRecord):
        if record.label_available:  # apply_return then fetches the label
            return None
        return RETURN if record.buyer is not None and record.buyer.external_id else None
    return None


def _buyer(store: Store, kind: str, mapped: list[Record], inbound: InboundMessage | None) -> _Buyer | None:
    if kind == MESSAGE:
        assert inbound is not None
        return _Buyer(
            inbound.store.pk, inbound.store.organization_id, inbound.customer_external_id, inbound.customer_email
        )
    record = mapped[0]
    buyer = getattr(record, "buyer", None)
    if buyer is None or not buyer.external_id:
        return None
    return _Buyer(store.pk, store.organization_id, buyer.external_id, buyer.email)


@dataclass
class Segment:
    """Records applied together: `orders` (in page order), then `rest`: the buyer messages and
    returns as (kind, entry) in page order, then `later` orders (in page order)."""

    orders: list[Any] = field(default_factory=list)
    rest: list[tuple[str, Any]] = field(default_factory=list)
    rest_keys: set[str] = field(default_factory=set)  # of the messages and returns
    rest_creates: bool = False  # one of them creates a customer
    later: list[Any] = field(default_factory=list)
    later_keys: set[str] = field(default_factory=set)
    later_creates: bool = False

    def __bool__(self) -> bool:
        return bool(self.orders or self.rest or self.later)


class PagePlan:
    """Splits a page's entries into segments and barriers, in order (see the module docstring).
    `entries`: (entry, kind, mapped records, inbound message) per record, in page order."""

    def __init__(
        self,
        store: Store,
        entries: list[tuple[Any, str | None, list[Record], InboundMessage | None]],
        customers: PageCustomers | None = None,
    ):
        """`customers`: the page's PageCustomers, which the plan fills with what its buyers reach
        (the segments' calls then read nothing more for them), else read here."""
        self.store = store
        self.entries = entries
        self.buyers = [_buyer(store, kind, mapped, inbound) if kind else None for _e, kind, mapped, inbound in entries]
        self._tokens = _CustomerReplay([b for b in self.buyers if b is not None], customers)

    def steps(self) -> list[Segment | Any]:
        """Segments and barrier entries, in the order to apply them."""
        steps: list[Segment | Any] = []
        segment = Segment()
        for (entry, kind, mapped, inbound), buyer in zip(self.entries, self.buyers, strict=True):
            if kind is None:
                if segment:
                    steps.append(segment)
                    segment = Segment()
                steps.append(entry)
                continue
            keys = self._keys(kind, mapped, inbound, buyer)
            creates = buyer is not None and self._tokens.created
            if kind == ORDER:
                if not REORDER_ORDERS:
                    if segment.rest:
                        steps.append(segment)
                        segment = Segment()
                    segment.orders.append(entry)
                elif keys & (segment.rest_keys | segment.later_keys) or (
                    creates and (segment.rest_creates or segment.later_creates)
                ):
                    # ahead, it would overtake a record it shares something with, or swap the ids
                    # of two customers the page creates (see the module docstring): after them
                    segment.later.append(entry)
                    segment.later_keys |= keys
                    segment.later_creates = segment.later_creates or creates
                else:
                    segment.orders.append(entry)
            else:
                if segment.later and (keys & segment.later_keys or (creates and segment.later_creates)):
                    steps.append(segment)  # it would overtake a later order it shares something with
                    segment = Segment()
                segment.rest.append((kind, entry))
                segment.rest_keys |= keys
                segment.rest_creates = segment.rest_creates or creates
        if segment:
            steps.append(segment)
        return steps

    def _keys(self, kind: str, mapped: list[Record], inbound: InboundMessage | None, buyer: _Buyer | None) -> set[str]:
        keys: set[str] = set()
        if buyer is not None:
            keys.add(f"b:{buyer.store_id}:{buyer.external_id}")
            if buyer.email:
                keys.add(f"e:{buyer.organization_id}:{normalise_email(buyer.email)}")
            keys |= {f"c:{token}" for token in self._tokens.resolve(buyer)}
        if kind == MESSAGE:
            assert inbound is not None
            store_id = inbound.store.pk
            keys.add(f"m:{store_id}:{inbound.external_id}")
            if inbound.order_external_id:
                keys.add(f"o:{store_id}:{inbound.order_external_id}")
            if inbound.conversation_id:
                keys.add(f"v:{store_id}:{inbound.conversation_id}")
            return keys
        record = mapped[0]
        if isinstance(record, OrderRecord):
            keys.add(f"o:{self.store.pk}:{record.external_id}")
        elif isinstance(record, ReturnRecord):
            keys.add(f"m:{self.store.pk}:return:{record.external_id}")
            keys.add(f"r:{self.store.pk}:{record.external_id}")
            if record.order_external_id:
                keys.add(f"o:{self.store.pk}:{record.order_external_id}")
        return keys


class _CustomerReplay:
    """The inbox's customer rules replayed over the page's buyers in order, on tokens: an existing
    customer's id, or `new<n>` for one the page creates. `resolve(buyer)` (called in page order)
    gives the customers the buyer may reach: the one it resolves to, and every customer its e-mail
    address matches."""

    def __init__(self, buyers: Iterable[_Buyer], customers: PageCustomers | None = None) -> None:
        buyers = list(buyers)
        by_store: dict[int, set[str]] = defaultdict(set)
        emails: dict[int, set[str]] = defaultdict(set)
        for buyer in buyers:
            by_store[buyer.store_id].add(buyer.external_id)
            if buyer.email:
                emails[buyer.organization_id].add(normalise_email(buyer.email))
        self.identities: dict[tuple[int, str], str] = {}
        self.email_of: dict[str, str] = {}
        self.by_email: dict[tuple[int, str], list[str]] = defaultdict(list)
        self.new = 0
        self.created = False  # whether the last buyer resolved creates a customer
        if customers is not None:
            # The same rows as the two queries below, read into the page's PageCustomers (before
            # anything of the page is written) for the calls that resolve the segments' customers.
            customers.read(
                [(b.store_id, b.organization_id, b.external_id, b.email) for b in buyers], every_address=True
            )
            for (store_id, external_id), customer in customers.known.items():
                if external_id in by_store.get(store_id, ()):
                    token = str(customer.pk)
                    self.identities[(store_id, external_id)] = token
                    self.email_of[token] = normalise_email(customer.email) if customer.email else ""
            for (org_id, normalized), matches in customers.by_email.items():
                if normalized in emails.get(org_id, ()):
                    for customer in sorted(matches, key=lambda c: c.pk):
                        token = str(customer.pk)
                        self.by_email[(org_id, normalized)].append(token)
                        self.email_of.setdefault(token, normalized)
            return
        if by_store:
            condition = Q()
            for store_id, ids in by_store.items():
                condition |= Q(store_id=store_id, external_id__any_of=sorted(ids))
            for store_id, external_id, customer_id, email in (
                CustomerIdentity.objects.filter(condition)
                .order_by()
                .values_list("store_id", "external_id", "customer_id", "customer__email")
            ):
                token = str(customer_id)
                self.identities[(store_id, external_id)] = token
                self.email_of[token] = normalise_email(email) if email else ""
        if emails:
            condition = Q()
            for org_id, addresses in emails.items():
                condition |= Q(organization_id=org_id, email_normalized__any_of=sorted(addresses))
            for customer_id, org_id, normalized in (
                Customer.objects.filter(condition)
                .order_by("pk")
                .values_list("pk", "organization_id", "email_normalized")
            ):
                token = str(customer_id)
                self.by_email[(org_id, normalized)].append(token)
                self.email_of.setdefault(token, normalized)

    def resolve(self, buyer: _Buyer) -> set[str]:
        email = normalise_email(buyer.email) if buyer.email else ""
        matches = list(self.by_email.get((buyer.organization_id, email), [])) if email else []
        key = (buyer.store_id, buyer.external_id)
        token = self.identities.get(key)
        self.created = token is None and not matches
        if token is not None:
            if email and not self.email_of.get(token):
                self.email_of[token] = email
                self.by_email[(buyer.organization_id, email)].append(token)
        elif matches:
            token = matches[0]  # the first by id, new customers last (as the inbox picks)
            self.identities[key] = token
        else:
            self.new += 1
            token = f"new{self.new}"
            self.identities[key] = token
            self.email_of[token] = email
            if email:
                self.by_email[(buyer.organization_id, email)].append(token)
        return {token, *matches}
