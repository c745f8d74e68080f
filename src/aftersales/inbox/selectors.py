"""Reads of the inbox: the filtered, scoped, cursor-paginated ticket list, ticket detail with its
timeline, and the customer's history across stores.

`parse_ticket_filters` is the single validator of inbox filters: the API and the web UI both use
it, so both reject the same unknown names and invalid values with the same messages."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, prefetch_related_objects
from django.utils.dateparse import parse_datetime

from aftersales.accounts.permissions import check_ticket, ticket_scope_q
from aftersales.catalog.models import Customer, CustomerTier, Order, OrderLine, Platform, Shipment
from aftersales.core.errors import NotFound, ValidationFailed

from .models import Mention, Message, MessageDirection, SavedView, Tag, Ticket, TicketEvent, TicketSearch
from .search import parse_query
from .workflow import StatusCategory, TicketCategory, TicketStatus, Urgency

NULLABLE_SORT_KEYS = frozenset({"last_customer_message_at"})
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 25
SORTS = {
    "-updated_at": ("-updated_at", "-id"),
    "updated_at": ("updated_at", "id"),
    "-created_at": ("-created_at", "-id"),
    "created_at": ("created_at", "id"),
    "-last_customer_message_at": ("-last_customer_message_at", "-id"),
}


@dataclass(frozen=True)
class TicketFilters:
    platform: tuple[str, ...] = ()
    store: tuple[int, ...] = ()
    status: tuple[str, ...] = ()
    status_category: tuple[str, ...] = ()
    urgency: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    customer_tier: tuple[str, ...] = ()
    language: tuple[str, ...] = ()
    sku: str = ""
    assignee: str = ""  # "me", "none" or a user id
    team: int | None = None
    tag: str = ""
    unreplied: bool | None = None
    high_priority: bool | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    q: str = ""
    customer: int | None = None

    def as_query(self) -> dict[str, str]:
        """Back to query-string form (for links and saved views)."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value in ((), "", None):
                continue
            if isinstance(value, tuple):
                out[f.name] = ",".join(str(v) for v in value)
            elif isinstance(value, bool):
                out[f.name] = "true" if value else "false"
            elif isinstance(value, datetime):
                out[f.name] = value.isoformat()
            else:
                out[f.name] = str(value)
        return out


FILTER_NAMES = frozenset(f.name for f in fields(TicketFilters))
_CHOICES: dict[str, frozenset[str]] = {
    "platform": frozenset(Platform.values),
    "status": frozenset(TicketStatus.values),
    "status_category": frozenset(StatusCategory.values),
    "urgency": frozenset(Urgency.values),
    "category": frozenset(TicketCategory.values),
    "customer_tier": frozenset(CustomerTier.values),
}
PAGINATION_NAMES = frozenset({"cursor", "limit", "sort", "view"})


def parse_ticket_filters(params: Mapping[str, Any], *, allow: frozenset[str] = PAGINATION_NAMES) -> TicketFilters:
    """Validate raw query parameters. Unknown names and bad values raise ValidationFailed naming
    the field. Multi-valued filters take comma-separated values (platform=amazon,ebay)."""
    unknown = sorted(set(params) - FILTER_NAMES - allow)
    if unknown:
        raise ValidationFailed(
            f"unknown filter {unknown[0]!r}; known filters: {', '.join(sorted(FILTER_NAMES))}", field=unknown[0]
        )
    values: dict[str, Any] = {}
    for name, raw in params.items():
        if name not in FILTER_NAMES or raw is None:
            continue
        text = ",".join(raw) if isinstance(raw, list | tuple) else str(raw)
        text = text.strip()
        if text == "":
            continue
        if name in _CHOICES:
            items = tuple(dict.fromkeys(v.strip() for v in text.split(",") if v.strip()))
            bad = [v for v in items if v not in _CHOICES[name]]
            if bad:
                raise ValidationFailed(
                    f"invalid value {bad[0]!r} for {name}; expected one of {', '.join(sorted(_CHOICES[name]))}",
                    field=name,
                )
            values[name] = items
        elif name == "language":
            items = tuple(dict.fromkeys(v.strip().lower() for v in text.split(",") if v.strip()))
            if any(len(v) > 10 or not v.replace("-", "").isalpha() for v in items):
                raise ValidationFailed("language takes language codes such as en, de, zh-hans", field=name)
            values[name] = items
        elif name == "store":
            values[name] = tuple(_int(v, name) for v in text.split(",") if v.strip())
        elif name in {"team", "customer"}:
            values[name] = _int(text, name)
        elif name == "assignee":
            if text not in {"me", "none"}:
                _int(text, name)
            values[name] = text
        elif name in {"unreplied", "high_priority"}:
            lowered = text.lower()
            if lowered not in {"true", "false", "1", "0", "yes", "no"}:
                raise ValidationFailed(f"{name} must be true or false", field=name)
            values[name] = lowered in {"true", "1", "yes"}
        elif name.endswith(("_after", "_before")):
            try:
                parsed = parse_datetime(text if "T" in text or " " in text else text + "T00:00:00+00:00")
            except ValueError:  # well-formed but impossible, e.g. 2026-13-45
                parsed = None
            if parsed is None:
                raise ValidationFailed(f"{name} must be an ISO 8601 date or date-time", field=name)
            if parsed.tzinfo is None:
                raise ValidationFailed(f"{name} needs a time zone offset (e.g. 2026-11-11T00:00:00+08:00)", field=name)
            values[name] = parsed
        elif name in {"q", "sku", "tag"}:
            if len(text) > 200:
                raise ValidationFailed(f"{name} is longer than 200 characters", field=name)
            if name == "q" and not parse_query(text):
                raise ValidationFailed("q needs at least one letter or digit to search for", field=name)
            values[name] = text
    return TicketFilters(**values)


def _int(text: str, name: str) -> int:
    try:
        value = int(text)
    except (TypeError, ValueError):
        raise ValidationFailed(f"{name} must be an integer id", field=name) from None
    if value <= 0 or value > 2**62:
        raise ValidationFailed(f"{name} must be a positive integer id", field=name)
    return value


def tickets_visible(user: Any) -> QuerySet[Ticket]:
    return Ticket.objects.filter(ticket_scope_q(user))


def ticket_queryset(user: Any, filters: TicketFilters) -> QuerySet[Ticket]:
    qs = tickets_visible(user).filter(merged_into__isnull=True)
    f = filters
    if f.platform:
        qs = qs.filter(platform__in=f.platform)
    if f.store:
        qs = qs.filter(store_id__in=f.store)
    if f.status:
        qs = qs.filter(status__in=f.status)
    if f.status_category:
        qs = qs.filter(status_category__in=f.status_category)
    if f.urgency:
        qs = qs.filter(urgency__in=f.urgency)
    if f.category:
        qs = qs.filter(category__in=f.category)
    if f.customer_tier:
        qs = qs.filter(customer_tier__in=f.customer_tier)
    if f.language:
        qs = qs.filter(language__in=f.language)
    if f.sku:
        qs = qs.filter(Exists(OrderLine.objects.filter(order_id=OuterRef("order_id"), sku=f.sku)))
    if f.assignee == "me":
        qs = qs.filter(assignee_id=user.pk)
    elif f.assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif f.assignee:
        qs = qs.filter(assignee_id=int(f.assignee))
    if f.team is not None:
        qs = qs.filter(team_id=f.team)
    if f.customer is not None:
        qs = qs.filter(customer_id=f.customer)
    if f.tag:
        # Resolve the tag first: each walked ticket then costs one index-only probe of the
        # (ticket, tag) unique index instead of a join through the tag table.
        tag_id = (
            Tag.objects.filter(organization_id=user.organization_id, name=f.tag.lower())
            .values_list("pk", flat=True)
            .first()
        )
        if tag_id is None:
            return qs.none()
        qs = qs.filter(Exists(Ticket.tags.through.objects.filter(ticket_id=OuterRef("pk"), tag_id=tag_id)))
    if f.unreplied is not None:
        qs = qs.filter(is_unreplied=f.unreplied)
    if f.high_priority is not None:
        qs = qs.filter(is_high_priority=f.high_priority)
    if f.created_after:
        qs = qs.filter(created_at__gte=f.created_after)
    if f.created_before:
        qs = qs.filter(created_at__lt=f.created_before)
    if f.updated_after:
        qs = qs.filter(updated_at__gte=f.updated_after)
    if f.updated_before:
        qs = qs.filter(updated_at__lt=f.updated_before)
    if f.q:
        qs = qs.filter(_text_q(f.q))
    return qs


def _text_q(text: str) -> Q:
    """Free-text search (docs/adr/0012-ticket-search.md): the words of the subject, the customer's
    name and e-mail, and every message and translation, through the ticket's search document (see
    search.py: words AND-ed, the last word of each part a prefix, CJK by bigrams); plus, when the
    text looks like an identifier (one word with a digit or an @), exact matches on the ticket id,
    an order number, a tracking number or a customer e-mail, which are not all in the document.
    `#123` is a ticket reference only (or a Shopify order name): it would otherwise also find every
    document with a number starting with 123, and the ticket would drown in them.

    Words alone: a semi-join (`id IN (SELECT ticket_id ... WHERE document @@ query)`), so PostgreSQL
    may either walk the newest tickets probing their documents (a common word) or collect the
    matches from the GIN index and sort them (a rare one). Identifiers: a UNION of index lookups."""
    t = text.strip()
    if t.startswith("#") and t[1:].isdigit() and len(t) < 20:
        # "#123": a ticket reference (or a Shopify order name), not words to look for.
        orders = Order.objects.filter(external_id__in=[t, t[1:]]).values("pk")
        return Q(
            pk__in=Ticket.objects.filter(pk=int(t[1:]))
            .values("pk")
            .union(Ticket.objects.filter(order_id__in=orders).values("pk"))
        )
    query = parse_query(t)
    documents = TicketSearch.objects.filter(document__matches=query).values("ticket_id")
    if len(t.split()) > 1 or not any(ch.isdigit() or ch == "@" for ch in t):
        return Q(pk__in=documents)  # (parse_ticket_filters refused a q with nothing to search for)
    branches = [
        documents,
        Ticket.objects.filter(customer_id__in=Customer.objects.filter(email__iexact=t).values("pk")).values("pk"),
        Ticket.objects.filter(order_id__in=Order.objects.filter(external_id=t).values("pk")).values("pk"),
        Ticket.objects.filter(order_id__in=Shipment.objects.filter(tracking_number=t).values("order_id")).values("pk"),
    ]
    if t.isdigit() and len(t) < 19:
        branches.append(Ticket.objects.filter(pk=int(t)).values("pk"))
    return Q(pk__in=branches[0].union(*branches[1:]))


@dataclass(frozen=True)
class TicketPage:
    tickets: list[Ticket]
    next_cursor: str | None
    limit: int
    sort: str


def _encode_cursor(ticket: Ticket, sort: str) -> str:
    key = SORTS[sort][0].lstrip("-")
    value = getattr(ticket, key)
    raw = json.dumps([value.isoformat() if value else None, ticket.pk, sort])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> tuple[datetime | None, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, pk, cursor_sort = json.loads(base64.urlsafe_b64decode(padded.encode()))
        at = parse_datetime(value) if value else None
        if cursor_sort != sort or not isinstance(pk, int) or (value and at is None):
            raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, json.JSONDecodeError):
        raise ValidationFailed(
            "invalid cursor (it must come from a previous page with the same sort)", field="cursor"
        ) from None
    return at, pk


def parse_page_params(limit: Any, sort: Any) -> tuple[int, str]:
    sort = sort or "-updated_at"
    if sort not in SORTS:
        raise ValidationFailed(f"invalid sort {sort!r}; expected one of {', '.join(SORTS)}", field="sort")
    if limit in (None, ""):
        return DEFAULT_PAGE_SIZE, sort
    try:
        value = int(limit)
    except (TypeError, ValueError):
        raise ValidationFailed("limit must be an integer", field="limit") from None
    if not 1 <= value <= MAX_PAGE_SIZE:
        raise ValidationFailed(f"limit must be between 1 and {MAX_PAGE_SIZE}", field="limit")
    return value, sort


def ticket_page(
    user: Any,
    filters: TicketFilters,
    *,
    limit: int = DEFAULT_PAGE_SIZE,
    sort: str = "-updated_at",
    cursor: str | None = None,
) -> TicketPage:
    """One page of the inbox, keyset-paginated on (sort key, id): stable under inserts and as fast
    on page 1,000 as on page 1."""
    ordering = SORTS[sort]
    key = ordering[0].lstrip("-")
    descending = ordering[0].startswith("-")
    nullable = key in NULLABLE_SORT_KEYS
    qs = ticket_queryset(user, filters)
    if cursor:
        at, pk = _decode_cursor(cursor, sort)
        if at is None:
            # NULL sort keys come last in descending order; continue among them by id.
            qs = qs.filter(**{f"{key}__isnull": True, "pk__lt" if descending else "pk__gt": pk})
        elif descending:
            after = Q(**{f"{key}__lt": at}) | Q(**{key: at, "pk__lt": pk})
            qs = qs.filter(after | Q(**{f"{key}__isnull": True}) if nullable else after)
        else:
            qs = qs.filter(Q(**{f"{key}__gt": at}) | Q(**{key: at, "pk__gt": pk}))
    # NULLS LAST only where NULLs exist: on a NOT NULL key it would stop PostgreSQL from reading the
    # (..., key DESC) index in order, and every page would sort all matching tickets.
    order_expr: list[Any]
    if descending:
        order_expr = [F(key).desc(nulls_last=True) if nullable else F(key).desc(), "-pk"]
    else:
        order_expr = [F(key).asc(), "pk"]
    qs = qs.order_by(*order_expr)
    if filters.q:
        # Search may collect hundreds of matches and sort them (a rare name, ADR 0012): pick the page's
        # ids first, without the joins, then load those rows. Joining before the sort cost ~8 ms per
        # 700 matches at 1M tickets; the extra round trip costs ~1 ms.
        ids = list(qs.values_list("pk", flat=True)[: limit + 1])
        qs = Ticket.objects.filter(pk__in=ids).order_by(*order_expr)
    rows = list(
        qs.select_related("store", "customer", "assignee", "order").defer(
            "store__credentials"  # never decrypt store secrets to draw a list
        )[: limit + 1]
    )
    next_cursor = _encode_cursor(rows[limit - 1], sort) if len(rows) > limit else None
    return TicketPage(tickets=rows[:limit], next_cursor=next_cursor, limit=limit, sort=sort)


def ticket_get(user: Any, ticket_id: int) -> Ticket:
    """A ticket the user may see, or NotFound (also for other organizations' tickets)."""
    ticket = (
        # Only what every caller shows; the order is loaded (with its lines and shipments) where needed.
        Ticket.objects.select_related("store", "customer", "assignee", "team")
        .defer("store__credentials")
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None:
        raise NotFound("ticket not found", field="ticket_id")
    check_ticket(user, ticket)
    return ticket


@dataclass(frozen=True)
class TimelineEntry:
    kind: str  # "message" | "event"
    at: datetime
    message: Message | None = None
    event: TicketEvent | None = None


@dataclass(frozen=True)
class TicketDetail:
    ticket: Ticket
    timeline: list[TimelineEntry]
    order: Order | None
    customer_tickets: list[Ticket]
    customer_orders: list[Order]
    tags: list[str] = field(default_factory=list)


def ticket_detail(user: Any, ticket_id: int) -> TicketDetail:
    ticket = ticket_get(user, ticket_id)
    prefetch_related_objects([ticket], "tags")
    messages = list(
        ticket.messages.select_related("author")
        .prefetch_related("attachments", Prefetch("mentions", queryset=Mention.objects.select_related("user")))
        .order_by("created_at", "id")
    )
    ticket_events = list(ticket.events.select_related("actor").order_by("at", "id"))
    timeline = [TimelineEntry(kind="message", at=m.sent_at or m.created_at, message=m) for m in messages]
    timeline += [TimelineEntry(kind="event", at=e.at, event=e) for e in ticket_events]
    timeline.sort(key=lambda e: (e.at, 0 if e.kind == "message" else 1))
    order = None
    if ticket.order_id:
        order = (
            Order.objects.select_related("store")
            .defer("store__credentials")
            .prefetch_related("lines", Prefetch("shipments__events"))
            .get(pk=ticket.order_id)
        )
        ticket.order = order
    history = customer_history(user, ticket.customer_id, exclude_ticket=ticket.pk)
    return TicketDetail(
        ticket=ticket,
        timeline=timeline,
        order=order,
        customer_tickets=history.tickets,
        customer_orders=history.orders,
        tags=sorted(tag.name for tag in ticket.tags.all()),  # prefetched: the API's ticket schema reads them too
    )


@dataclass(frozen=True)
class CustomerHistory:
    tickets: list[Ticket]
    orders: list[Order]


def customer_history(
    user: Any, customer_id: int, *, exclude_ticket: int | None = None, limit: int = 20
) -> CustomerHistory:
    """The customer's other tickets (those the user may see) and orders, across all stores."""
    tickets = tickets_visible(user).filter(customer_id=customer_id).select_related("store").defer("store__credentials")
    if exclude_ticket:
        tickets = tickets.exclude(pk=exclude_ticket)
    orders = (
        Order.objects.filter(customer_id=customer_id, organization_id=user.organization_id)
        .select_related("store")
        .defer("store__credentials")
        .order_by("-placed_at")[:limit]
    )
    return CustomerHistory(tickets=list(tickets.order_by("-created_at")[:limit]), orders=list(orders))


def allowed_statuses(ticket: Ticket) -> list[tuple[str, str]]:
    """The statuses this ticket may move to (its current one first), with their labels."""
    from .workflow import TRANSITIONS

    allowed = {ticket.status} | set(TRANSITIONS.get(ticket.status, ()))
    return [(value, str(label)) for value, label in TicketStatus.choices if value in allowed]


def message_get(user: Any, message_id: int) -> Message:
    """A message on a ticket the user may see, or NotFound naming message_id."""
    message = (
        Message.objects.select_related("ticket", "author")
        .filter(pk=message_id, ticket__in=tickets_visible(user))
        .first()
    )
    if message is None:
        raise NotFound("message not found", field="message_id")
    return message


def customer_get_visible(user: Any, customer_id: int) -> Any:
    """A customer of the user's organization that the user may see: admins see every customer;
    agents see a customer through at least one of their visible tickets. Otherwise NotFound."""
    from aftersales.accounts.permissions import is_admin
    from aftersales.catalog.selectors import customer_get

    customer = customer_get(user, customer_id)
    if not is_admin(user) and not tickets_visible(user).filter(customer_id=customer.pk).exists():
        raise NotFound("customer not found", field="customer_id")
    return customer


def unreplied_count(user: Any) -> int:
    return tickets_visible(user).filter(is_unreplied=True, status_category=StatusCategory.OPEN).count()


def saved_views(user: Any) -> QuerySet[SavedView]:
    return SavedView.objects.filter(user=user).order_by("name")


def last_inbound(ticket: Ticket) -> Message | None:
    return ticket.messages.filter(direction=MessageDirection.INBOUND).order_by("-created_at").first()


def category_labels(organization_id: int, language: str) -> dict[str, str]:
    """Each ticket category's label in `language`: the organization's own wording when it set one
    (CategoryLabel), else the built-in translated label."""
    from django.utils import translation

    from .models import CategoryLabel

    with translation.override(language):
        labels = {value: str(label) for value, label in TicketCategory.choices}
    zh = language.lower().startswith("zh")
    for row in CategoryLabel.objects.filter(organization_id=organization_id):
        custom = row.label_zh_hans if zh and row.label_zh_hans else row.label_en
        if custom:
            labels[row.category] = custom
    return labels
