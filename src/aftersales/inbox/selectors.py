"""Reads of the inbox: the filtered, scoped, cursor-paginated ticket list, ticket detail with its
timeline, and the customer's history across stores.

The filters are declared once in inbox/filters.py (re-exported here). `inbox_query` is the one
reading of a ticket-list request for the API and the web UI: it expands a saved view
(`saved_view_expand`), validates the filters (`parse_ticket_filters`), checks that their ids are
the organization's (`filter_ids_check`) and the page parameters, so both refuse the same input
with the same messages."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, prefetch_related_objects
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext

from aftersales.accounts.permissions import check_ticket, ticket_scope_q
from aftersales.catalog.models import Customer, Order, OrderLine, Shipment, normalise_email
from aftersales.catalog.selectors import CurrencyTotal, customer_order_figures
from aftersales.core.errors import NotFound, ValidationFailed

from . import search
from .filters import FILTER_NAMES as FILTER_NAMES  # re-exported: the declaration, for api and web
from .filters import FILTERS as FILTERS
from .filters import PAGINATION_NAMES as PAGINATION_NAMES
from .filters import FilterSpec as FilterSpec
from .filters import TicketFilters as TicketFilters
from .filters import flatten_params as flatten_params
from .filters import parse_ticket_filters as parse_ticket_filters
from .models import (
    DeliveryStatus,
    Mention,
    Message,
    MessageDirection,
    SavedView,
    Tag,
    Ticket,
    TicketEvent,
    TicketSearch,
)
from .search import SqliteSearchProbe, parse_query, sqlite_match_share, sqlite_newest_matches
from .workflow import StatusCategory, TicketCategory, TicketStatus

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
    if f.assignee:
        qs = qs.filter(_assignee_q(user, f.assignee))
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
    if f.delivery == "failed":
        qs = qs.filter(Exists(_failed_replies()))
    if f.created_after:
        qs = qs.filter(created_at__gte=f.created_after)
    if f.created_before:
        qs = qs.filter(created_at__lt=f.created_before)
    if f.updated_after:
        qs = qs.filter(updated_at__gte=f.updated_after)
    if f.updated_before:
        qs = qs.filter(updated_at__lt=f.updated_before)
    if f.q:
        qs = qs.filter(_text_q(f.q, organization_id=user.organization_id))
    return qs


def _assignee_q(user: Any, assignee: str) -> Q:
    """assignee=me / none / <id>, or several of them: me,none is "mine or unassigned"."""
    ids = {user.pk if part == "me" else int(part) for part in assignee.split(",") if part != "none"}
    q = Q(assignee_id__in=sorted(ids)) if len(ids) > 1 else Q(assignee_id=next(iter(ids))) if ids else Q()
    if "none" in assignee.split(","):
        q = q | Q(assignee__isnull=True) if ids else Q(assignee__isnull=True)
    return q


def _failed_replies() -> QuerySet[Message]:
    """The ticket's replies whose delivery failed (a partial index holds only those)."""
    return Message.objects.filter(ticket_id=OuterRef("pk"), delivery_status=DeliveryStatus.FAILED)


# SQLite: a search with at most this many matches looks its tickets up by id and sorts them (about
# 10 µs each); with more, walking the inbox in order finds a page sooner (ADR 0013, bench/search_sqlite.py).
SQLITE_FEW_MATCHES = 300
# SQLite: a search matching at least this share of the newest tickets checks each walked ticket's
# document instead of reading every match from the FTS5 index first (bench/search_sqlite.py, ADR 0013).
SQLITE_COMMON_SHARE = 0.1


def _text_q(text: str, *, organization_id: int) -> Q:
    """Free-text search (docs/adr/0012-ticket-search.md): the words of the subject, the customer's
    name and e-mail, and every message and translation, through the ticket's search document (see
    search.py: words AND-ed, the last word of each part a prefix, CJK by bigrams); plus, when the
    text looks like an identifier (one word with a digit or an @), exact matches on the ticket id,
    an order number, a tracking number or a customer e-mail, which are not all in the document.
    `#123` is a ticket reference only (or a Shopify order name): it would otherwise also find every
    document with a number starting with 123, and the ticket would drown in them.

    Words alone: a semi-join (`id IN (SELECT ticket_id ... WHERE document @@ query)`), so PostgreSQL
    may either walk the newest tickets probing their documents (a common word) or collect the
    matches from the GIN index and sort them (a rare one). Identifiers: a UNION of index lookups.

    SQLite (FTS5, docs/adr/0013-sqlite-fts5-search.md): up to SQLITE_FEW_MATCHES matches are read
    first and given as a list of ids (ticket_page then looks those tickets up by id); more, and the
    inbox is walked in its order checking each ticket against the matches (SqliteSearchProbe), or,
    for a word in at least SQLITE_COMMON_SHARE of the newest tickets, against its own document."""
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
    documents: QuerySet[Any] = TicketSearch.objects.filter(document__matches=query).values("ticket_id")
    words = Q(pk__in=documents)
    if connection.vendor == "sqlite" and search.SQLITE_FTS:
        ids = sqlite_newest_matches(query, limit=SQLITE_FEW_MATCHES + 1)
        if len(ids) <= SQLITE_FEW_MATCHES:
            words = Q(pk__in=ids)
            documents = Ticket.objects.filter(pk__in=ids).values("pk")
        elif sqlite_match_share(ids) >= SQLITE_COMMON_SHARE:
            # A word in a large share of the tickets: each ticket the inbox walks checks its own
            # document (a primary-key read and LIKE): about page size / share tickets, where the FTS5
            # route would first read all its matches (93,000 for a signature word at 100,000).
            words = Q(Exists(TicketSearch.objects.filter(ticket_id=OuterRef("pk"), document__scan_matches=query)))
        else:
            words = Q(SqliteSearchProbe(query))
    if len(t.split()) > 1 or not any(ch.isdigit() or ch == "@" for ch in t):
        return words  # (parse_ticket_filters refused a q with nothing to search for)
    branches = [
        documents,
        # The buyer's e-mail, as ingest matches it (catalog.models.normalise_email): an equality
        # probe on the index customer_org_email_norm (email__iexact scanned every customer on SQLite).
        Ticket.objects.filter(
            customer_id__in=Customer.objects.filter(
                organization_id=organization_id, email_normalized=normalise_email(t)
            ).values("pk")
        ).values("pk"),
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
            gettext("invalid cursor (it must come from a previous page with the same sort)"), field="cursor"
        ) from None
    return at, pk


def parse_page_params(limit: Any, sort: Any) -> tuple[int, str]:
    sort = sort or "-updated_at"
    if sort not in SORTS:
        raise ValidationFailed(
            gettext("invalid sort %(sort)r; expected one of %(join)s") % {"sort": sort, "join": ", ".join(SORTS)},
            field="sort",
        )
    if limit in (None, ""):
        return DEFAULT_PAGE_SIZE, sort
    try:
        value = int(limit)
    except (TypeError, ValueError):
        raise ValidationFailed(gettext("limit must be an integer"), field="limit") from None
    if not 1 <= value <= MAX_PAGE_SIZE:
        raise ValidationFailed(
            gettext("limit must be between 1 and %(max_page_size)s") % {"max_page_size": MAX_PAGE_SIZE}, field="limit"
        )
    return value, sort


def filter_ids_check(user: Any, filters: TicketFilters) -> None:
    """Ids in filters must be of the user's organization: NotFound naming the filter otherwise
    (a saved view turns it into ValidationFailed)."""
    from aftersales.accounts.selectors import teams_of_organization, users_of_organization
    from aftersales.catalog.selectors import customer_get, stores_of_organization

    if filters.store:
        found = stores_of_organization(user).filter(pk__in=filters.store).count()
        if found != len(set(filters.store)):
            raise NotFound(gettext("store not found"), field="store")
    if filters.team is not None and not teams_of_organization(user).filter(pk=filters.team).exists():
        raise NotFound(gettext("team not found"), field="team")
    if filters.customer is not None:
        try:
            customer_get(user, filters.customer)
        except NotFound:
            raise NotFound(gettext("customer not found"), field="customer") from None
    assignee_ids = {int(part) for part in filters.assignee.split(",") if part.isdigit()}
    if assignee_ids:
        colleagues = {u.pk for u in users_of_organization(user)}
        if not assignee_ids <= colleagues:
            raise NotFound(gettext("assignee not found"), field="assignee")


def saved_view_get(user: Any, view_id: Any) -> SavedView:
    """One of the user's saved views by id (text or int), else ValidationFailed / NotFound naming
    `view`."""
    text = str(view_id).strip()
    if not text.isdigit() or not 0 < int(text) <= 2**62:
        raise ValidationFailed(gettext("view must be the id of one of your saved views"), field="view")
    view = saved_views(user).filter(pk=int(text)).first()
    if view is None:
        raise NotFound(gettext("saved view not found"), field="view")
    return view


def saved_view_expand(user: Any, params: Mapping[str, Any]) -> dict[str, str]:
    """The one expansion of `view=<id>` for the API and the web UI: the saved view's filters and
    sort, overridden by the filters and sort given with it; without `view`, the parameters as
    they are (flattened). An unknown view is NotFound naming `view`."""
    return _expand(user, params)[0]


def _expand(user: Any, params: Mapping[str, Any]) -> tuple[dict[str, str], SavedView | None]:
    flat = flatten_params(params)
    view_id = flat.pop("view", "")
    if not view_id:
        return flat, None
    view = saved_view_get(user, view_id)
    return {**view.filters, "sort": view.sort, **flat}, view


@dataclass(frozen=True)
class InboxQuery:
    """A validated ticket-list request (inbox_query)."""

    filters: TicketFilters
    sort: str
    limit: int
    cursor: str | None


def inbox_query(user: Any, params: Mapping[str, Any], *, date_timezone: Any = None) -> InboxQuery:
    """Read a ticket-list request the same way for the API and the web UI: expand a saved view,
    validate the filters (a bare date is midnight in `date_timezone`, default UTC), check their
    ids, validate the page parameters. Raises ValidationFailed / NotFound naming the parameter;
    a saved view holding a filter that is no longer valid says so (the view can be deleted)."""
    expanded, view = _expand(user, params)
    try:
        filters = parse_ticket_filters(expanded, date_timezone=date_timezone)
        filter_ids_check(user, filters)
        limit, sort = parse_page_params(expanded.get("limit"), expanded.get("sort"))
    except (ValidationFailed, NotFound) as exc:
        given = flatten_params(params)
        if view is None or exc.field in given or (exc.field not in view.filters and exc.field != "sort"):
            raise
        message = gettext("your saved view “%(name)s” holds a filter that is no longer valid: %(detail)s") % {
            "name": view.name,
            "detail": exc.message,
        }
        raise type(exc)(message, field=exc.field) from None
    return InboxQuery(filters=filters, sort=sort, limit=limit, cursor=expanded.get("cursor") or None)


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
        ids = _search_page_ids(qs.values_list("pk", flat=True)[: limit + 1])
        qs = Ticket.objects.filter(pk__in=ids).order_by(*order_expr)
    rows: list[Ticket] = list(
        qs.select_related("store", "customer", "assignee", "order")
        .defer("store__credentials")  # never decrypt store secrets to draw a list
        .annotate(delivery_failed=Exists(_failed_replies()))[: limit + 1]  # the row's "delivery failed" badge
    )
    next_cursor = _encode_cursor(rows[limit - 1], sort) if len(rows) > limit else None
    return TicketPage(tickets=rows[:limit], next_cursor=next_cursor, limit=limit, sort=sort)


def _search_page_ids(ids: QuerySet[Any]) -> list[int]:
    """The ids of a search page. SQLite, when the search gave a short list of ticket ids (no FTS
    probe left in the query, see _text_q): `NOT INDEXED` makes SQLite look those tickets up by id
    and sort them, instead of walking every ticket of the organization in the inbox's order (its
    choice without ANALYZE statistics: 15-30 ms at 100,000 tickets for a word in a handful of them)."""
    if connection.vendor != "sqlite" or not search.SQLITE_FTS:
        return list(ids)
    try:
        sql, params = ids.query.sql_with_params()
    except EmptyResultSet:  # no match at all
        return []
    table = f"FROM {connection.ops.quote_name(Ticket._meta.db_table)} "
    if TicketSearch._meta.db_table in sql or not sql.startswith("SELECT") or table not in sql:
        return list(ids)
    with connection.cursor() as cursor:
        cursor.execute(sql.replace(table, f"{table}NOT INDEXED ", 1), params)
        return [row[0] for row in cursor.fetchall()]


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
        raise NotFound(gettext("ticket not found"), field="ticket_id")
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
    customer_order_count: int = 0  # all of the customer's orders (customer_orders: the latest of them)
    customer_lifetime_value: list[CurrencyTotal] = field(default_factory=list)  # per currency
    customer_return_count: int = 0  # of those orders, the returned or refunded ones


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
        customer_order_count=history.order_count,
        customer_lifetime_value=history.lifetime_value,
        customer_return_count=history.return_count,
    )


@dataclass(frozen=True)
class CustomerHistory:
    """`orders`: the latest `limit` orders; `order_count` and `lifetime_value` (per currency) are
    computed from all of the customer's orders, the same set `orders` is the head of."""

    tickets: list[Ticket]
    orders: list[Order]
    order_count: int = 0
    lifetime_value: list[CurrencyTotal] = field(default_factory=list)
    return_count: int = 0


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
    figures = customer_order_figures(user.organization_id, customer_id)
    return CustomerHistory(
        tickets=list(tickets.order_by("-created_at")[:limit]),
        orders=list(orders),
        order_count=figures.order_count,
        lifetime_value=figures.lifetime_value,
        return_count=figures.return_count,
    )


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
        raise NotFound(gettext("message not found"), field="message_id")
    return message


def customer_get_visible(user: Any, customer_id: int) -> Any:
    """A customer of the user's organization that the user may see: admins see every customer;
    agents see a customer through at least one of their visible tickets. Otherwise NotFound."""
    from aftersales.accounts.permissions import is_admin
    from aftersales.catalog.selectors import customer_get

    customer = customer_get(user, customer_id)
    if not is_admin(user) and not tickets_visible(user).filter(customer_id=customer.pk).exists():
        raise NotFound(gettext("customer not found"), field="customer_id")
    return customer


def unreplied_count(user: Any) -> int:
    return tickets_visible(user).filter(is_unreplied=True, status_category=StatusCategory.OPEN).count()


def default_view(user: Any) -> dict[str, str]:
    """The filters of the inbox a user opens: for those who take tickets (agents, approvers,
    admins), their open tickets plus the open unassigned tickets of their teams (the unassigned
    tickets they may see: their teams' scope, or routed to their teams); for a viewer, every open
    ticket they may see."""
    from aftersales.accounts.models import Permission
    from aftersales.accounts.permissions import has_perm

    if has_perm(user, Permission.PROCESS):
        return {"assignee": "me,none", "status_category": StatusCategory.OPEN.value}
    return {"status_category": StatusCategory.OPEN.value}


VIEW_COUNT_CAP = 100


def view_counts(user: Any, views: list[Mapping[str, Any]], *, cap: int = VIEW_COUNT_CAP) -> list[int | None]:
    """How many tickets each view (a set of filters) holds for the user, counted up to `cap` (the
    UI shows "99+"): `SELECT COUNT(*) FROM (... LIMIT cap)`, the same scoped, indexed query as the
    view's first page, so a large view stops after `cap` rows instead of counting them all. None
    for a view whose filters no longer validate."""
    counts: list[int | None] = []
    for params in views:
        try:
            filters = parse_ticket_filters(params, allow=frozenset({"sort"}))
        except ValidationFailed:
            counts.append(None)
            continue
        counts.append(ticket_queryset(user, filters).order_by().values("pk")[:cap].count())
    return counts


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
