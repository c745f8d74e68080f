"""Reads of the returns app: the marketplace's view of returns, refund requests, inquiries, cases;
the RMA list (filters declared once in returns/filters.py), the RMA page, the exceptions list and
bulk-job progress.

Who sees which RMA is defined once in returns/access.py (`rma_scope_q`, shared with the RMA
services): admins see every RMA of their organization; anyone else sees the RMAs whose ticket they
may see (accounts.permissions.ticket_scope_q) and the RMAs opened without a ticket. An RMA outside
that scope is NotFound, as for another organization's. Refunds follow their RMA (or, without one,
their ticket)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext, gettext_lazy

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import has_perm, is_admin, ticket_scope_q
from aftersales.catalog.models import Customer, Order, Platform, TrackingEvent, normalise_email
from aftersales.core.actors import ActorKind
from aftersales.core.errors import NotFound, ValidationFailed
from aftersales.inbox.filters import flatten_params
from aftersales.inbox.models import Ticket

from .access import rma_scope_q
from .filters import RmaFilters, parse_rma_filters
from .models import (
    Exchange,
    PlatformReturnState,
    Refund,
    RefundStatus,
    ReturnRequest,
    Rma,
    RmaBulkItem,
    RmaBulkItemStatus,
    RmaBulkJob,
    RmaEvent,
    RmaEvidence,
    RmaLine,
    RmaStatus,
)
from .workflow import RMA_OPEN_STATUSES


def return_requests_of_ticket(*, ticket_id: int) -> QuerySet[ReturnRequest]:
    """The requests a ticket was opened or joined by (the ticket page shows them with their deadline)."""
    return (
        ReturnRequest.objects.filter(ticket_id=ticket_id)
        .select_related("store", "order")
        .prefetch_related("lines")
        .order_by("created_on_platform", "pk")
    )


def return_requests_due(*, organization_id: int, before: datetime) -> QuerySet[ReturnRequest]:
    """Requests whose marketplace deadline (`respond_by`) falls before `before`, soonest first."""
    return (
        ReturnRequest.objects.filter(organization_id=organization_id, respond_by__lt=before)
        .select_related("store", "ticket")
        .order_by("respond_by", "pk")
    )


# ---------------------------------------------------------------------------------------------------
# RMAs: scope, list, page, detail, exceptions, bulk-job progress.
# ---------------------------------------------------------------------------------------------------

RMA_SORTS: dict[str, tuple[str, str]] = {
    "-created_at": ("-created_at", "-id"),
    "created_at": ("created_at", "id"),
}
RMA_DEFAULT_SORT = "-created_at"
RMA_DEFAULT_PAGE_SIZE = 25
RMA_MAX_PAGE_SIZE = 100
# Label issued and no scan of the parcel after this many days: the exceptions list shows the RMA.
STALE_LABEL_DAYS = 7
EXCEPTIONS_LIMIT = 200


def rmas_visible(user: Any) -> QuerySet[Rma]:
    """The RMAs `user` may see (returns.access.rma_scope_q)."""
    return Rma.objects.filter(rma_scope_q(user))


def refunds_visible(user: Any) -> QuerySet[Refund]:
    """Refunds follow their RMA's scope; a refund without an RMA follows its ticket's (without either,
    like an RMA without a ticket, everyone of the organization who may view sees it)."""
    if not has_perm(user, Permission.VIEW):
        return Refund.objects.none()
    qs = Refund.objects.filter(organization_id=user.organization_id)
    if is_admin(user):
        return qs
    scope = (
        Q(rma_id__in=rmas_visible(user).values("pk"))
        | Q(rma_id__isnull=True, ticket_id__in=Ticket.objects.filter(ticket_scope_q(user)).values("pk"))
        | Q(rma_id__isnull=True, ticket_id__isnull=True)
    )
    return qs.filter(scope)


def _assignee_q(user: Any, assignee: str) -> Q:
    q = Q(pk__in=[])
    for part in assignee.split(","):
        if part == "me":
            q |= Q(ticket__assignee_id=user.pk)
        elif part == "none":
            q |= Q(ticket__isnull=True) | Q(ticket__assignee__isnull=True)
        elif part:
            q |= Q(ticket__assignee_id=int(part))
    return q


def _text_q(text: str) -> Q:
    """RMA number, order number, return tracking number (exact), buyer e-mail (exact) or name (part).
    One indexed lookup per branch, united (an OR across the joins made PostgreSQL scan every RMA of
    the organization: 0.8 s at 100,000 RMAs in bench/returns.py)."""
    t = text.strip()
    branches = [
        Rma.objects.filter(number__in={t, t.upper()}).values("pk"),
        Rma.objects.filter(order_id__in=Order.objects.filter(external_id=t).values("pk")).values("pk"),
        Rma.objects.filter(label_tracking_number=t).values("pk"),
    ]
    if "@" in t:
        customers = Customer.objects.filter(email_normalized=normalise_email(t))
    else:
        customers = Customer.objects.filter(name__icontains=t)
    branches.append(Rma.objects.filter(customer_id__in=customers.values("pk")).values("pk"))
    return Q(pk__in=branches[0].union(*branches[1:]))


def rma_queryset(user: Any, filters: RmaFilters) -> QuerySet[Rma]:
    """The RMAs the user may see matching `filters` (unordered)."""
    qs = rmas_visible(user)
    if filters.status:
        qs = qs.filter(status__in=filters.status)
    if filters.resolution:
        qs = qs.filter(resolution__in=filters.resolution)
    if filters.platform:
        qs = qs.filter(store__platform__in=filters.platform)
    if filters.store:
        qs = qs.filter(store_id__in=filters.store)
    if filters.platform_sync:
        qs = qs.filter(platform_sync__in=filters.platform_sync)
    if filters.has_discrepancies is True:
        qs = qs.exclude(discrepancies=[])
    elif filters.has_discrepancies is False:
        qs = qs.filter(discrepancies=[])
    if filters.assignee:
        qs = qs.filter(_assignee_q(user, filters.assignee))
    if filters.reason:
        qs = qs.filter(reason=filters.reason)
    if filters.created_after is not None:
        qs = qs.filter(created_at__gte=filters.created_after)
    if filters.created_before is not None:
        qs = qs.filter(created_at__lt=filters.created_before)
    if filters.ticket is not None:
        qs = qs.filter(ticket_id=filters.ticket)
    if filters.q:
        qs = qs.filter(_text_q(filters.q))
    return qs


@dataclass(frozen=True)
class RmaListQuery:
    """A validated RMA-list request (rma_list_query)."""

    filters: RmaFilters
    sort: str
    limit: int
    cursor: str | None


def _page_params(limit: Any, sort: Any) -> tuple[int, str]:
    sort = sort or RMA_DEFAULT_SORT
    if sort not in RMA_SORTS:
        raise ValidationFailed(
            gettext("invalid sort %(sort)r; expected one of %(join)s") % {"sort": sort, "join": ", ".join(RMA_SORTS)},
            field="sort",
        )
    if limit in (None, ""):
        return RMA_DEFAULT_PAGE_SIZE, sort
    try:
        value = int(limit)
    except (TypeError, ValueError):
        raise ValidationFailed(gettext("limit must be an integer"), field="limit") from None
    if not 1 <= value <= RMA_MAX_PAGE_SIZE:
        raise ValidationFailed(
            gettext("limit must be between 1 and %(max_page_size)s") % {"max_page_size": RMA_MAX_PAGE_SIZE},
            field="limit",
        )
    return value, sort


def _filter_ids_check(user: Any, filters: RmaFilters) -> None:
    """Ids in filters must be of the user's organization (and the ticket one the user may see):
    NotFound naming the filter otherwise."""
    from aftersales.accounts.selectors import users_of_organization
    from aftersales.catalog.selectors import stores_of_organization

    if filters.store:
        found = stores_of_organization(user).filter(pk__in=filters.store).count()
        if found != len(set(filters.store)):
            raise NotFound(gettext("store not found"), field="store")
    assignee_ids = {int(part) for part in filters.assignee.split(",") if part.isdigit()}
    if assignee_ids and not assignee_ids <= {u.pk for u in users_of_organization(user)}:
        raise NotFound(gettext("assignee not found"), field="assignee")
    if filters.ticket is not None and not Ticket.objects.filter(ticket_scope_q(user), pk=filters.ticket).exists():
        raise NotFound(gettext("ticket not found"), field="ticket")


def rma_list_query(user: Any, params: Mapping[str, Any], *, date_timezone: Any = None) -> RmaListQuery:
    """Read an RMA-list request the same way for the API and the web UI: the filters (a bare date is
    midnight in `date_timezone`, default UTC), their ids, the page parameters. Raises
    ValidationFailed / NotFound naming the parameter."""
    filters = parse_rma_filters(params, date_timezone=date_timezone)
    _filter_ids_check(user, filters)
    flat = flatten_params(params)
    limit, sort = _page_params(flat.get("limit"), flat.get("sort"))
    return RmaListQuery(filters=filters, sort=sort, limit=limit, cursor=flat.get("cursor") or None)


@dataclass(frozen=True)
class RmaPage:
    rmas: list[Rma]
    next_cursor: str | None
    limit: int
    sort: str


def _encode_cursor(rma: Rma, sort: str) -> str:
    raw = json.dumps([rma.created_at.isoformat(), rma.pk, sort])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, pk, cursor_sort = json.loads(base64.urlsafe_b64decode(padded.encode()))
        at = parse_datetime(value) if isinstance(value, str) else None
        if cursor_sort != sort or not isinstance(pk, int) or at is None or at.tzinfo is None:
            raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, json.JSONDecodeError, OverflowError):
        raise ValidationFailed(
            gettext("invalid cursor (it must come from a previous page with the same sort)"), field="cursor"
        ) from None
    return at, pk


def rma_page(
    user: Any,
    filters: RmaFilters,
    *,
    limit: int = RMA_DEFAULT_PAGE_SIZE,
    sort: str = RMA_DEFAULT_SORT,
    cursor: str | None = None,
) -> RmaPage:
    """One page of the RMA list, keyset-paginated on (created_at, id): the indexes
    (organization, -created_at) and (organization, status, -created_at) give it in order, as fast
    on page 1,000 as on page 1 (bench/returns.py measures it at 10k and 100k RMAs)."""
    descending = sort.startswith("-")
    qs = rma_queryset(user, filters)
    if cursor:
        at, pk = _decode_cursor(cursor, sort)
        if descending:
            qs = qs.filter(Q(created_at__lt=at) | Q(created_at=at, pk__lt=pk))
        else:
            qs = qs.filter(Q(created_at__gt=at) | Q(created_at=at, pk__gt=pk))
    order: list[Any] = [F("created_at").desc(), "-pk"] if descending else [F("created_at").asc(), "pk"]
    rows = list(
        qs.order_by(*order)
        .select_related("store", "order", "customer", "ticket__assignee")
        .defer("store__credentials")[: limit + 1]
    )
    next_cursor = _encode_cursor(rows[limit - 1], sort) if len(rows) > limit else None
    return RmaPage(rmas=rows[:limit], next_cursor=next_cursor, limit=limit, sort=sort)


@dataclass(frozen=True)
class StatusTab:
    status: str  # "" for "all"
    label: str
    count: int


def rma_status_counts(user: Any, filters: RmaFilters) -> list[StatusTab]:
    """The list's tabs: how many RMAs match the other filters, in total and per status (one query)."""
    from dataclasses import replace

    counts = dict(
        rma_queryset(user, replace(filters, status=()))
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    tabs = [StatusTab("", gettext("All"), sum(counts.values()))]
    tabs += [StatusTab(str(value), str(label), counts.get(value, 0)) for value, label in RmaStatus.choices]
    return tabs


def rma_get(user: Any, rma_id: int) -> Rma:
    """An RMA the user may see, or NotFound naming rma_id (also for other organizations')."""
    rma = (
        rmas_visible(user)
        .select_related("store", "order", "customer", "ticket__assignee", "return_request", "return_warehouse")
        .defer("store__credentials")
        .filter(pk=rma_id)
        .first()
    )
    if rma is None:
        raise NotFound(gettext("RMA not found"), field="rma_id")
    return rma


# What the timeline calls each RMA event type (an unknown type is shown as it is).
EVENT_LABELS: dict[str, Any] = {
    "created": gettext_lazy("Return requested"),
    "checked": gettext_lazy("Checked against the order and the policy"),
    "status_changed": gettext_lazy("Status changed"),
    "evidence_requested": gettext_lazy("Evidence requested"),
    "evidence_added": gettext_lazy("Evidence added"),
    "customer_notified": gettext_lazy("Buyer notified"),
    "notification_skipped": gettext_lazy("Buyer not notified"),
    "offer_accepted": gettext_lazy("Partial refund accepted"),
    "parcel_delivered": gettext_lazy("Parcel delivered to the warehouse"),
    "refund_requested": gettext_lazy("Refund requested"),
    "platform_closed": gettext_lazy("The marketplace closed the request"),
}

# Why the marketplace's request ended (returns.rma_platform.PLATFORM_CLOSE_REASONS).
PLATFORM_CLOSE_LABELS: dict[str, Any] = {
    "buyer_cancelled": gettext_lazy("the buyer cancelled the return request"),
    "platform_closed": gettext_lazy("the marketplace closed the return request"),
}


@dataclass(frozen=True)
class RmaTimelineEntry:
    at: datetime
    type: str
    actor_kind: str
    actor_name: str  # the user's name, or the kind and reference of a connector, rule, customer, system
    payload: dict[str, Any]
    id: int = 0
    actor_ref: str = ""

    @property
    def label(self) -> str:
        return str(EVENT_LABELS.get(self.type, self.type))

    @property
    def platform_note(self) -> str:
        """What the marketplace did, for an RMA cancelled or kept open because its request ended on
        the marketplace (returns.rma_platform): who, why, the platform's word; "" otherwise."""
        why = self.payload.get("platform_reason")
        if why not in PLATFORM_CLOSE_LABELS:
            return ""
        values = {
            "platform": Platform(self.payload["platform"]).label
            if self.payload.get("platform") in Platform.values
            else self.payload.get("platform", ""),
            "why": PLATFORM_CLOSE_LABELS[why],
            "word": self.payload.get("platform_status", ""),
        }
        if self.type == "platform_closed":
            values["status"] = (
                RmaStatus(self.payload["rma_status"]).label
                if self.payload.get("rma_status") in RmaStatus.values
                else self.payload.get("rma_status", "")
            )
            return (
                gettext(
                    "%(platform)s: %(why)s (status %(word)s), but the RMA is %(status)s: not cancelled. "
                    "Decide what happens to it."
                )
                % values
            )
        return gettext("Cancelled because on %(platform)s %(why)s (status %(word)s).") % values


@dataclass(frozen=True)
class RmaDetail:
    rma: Rma
    lines: list[RmaLine]
    evidence: list[RmaEvidence]
    timeline: list[RmaTimelineEntry]
    refunds: list[Refund]
    exchanges: list[Exchange]
    can_refund: bool = False
    can_approve_refunds: bool = False


def _actor_name(event: RmaEvent, rma: Rma | None = None) -> str:
    if event.actor_kind == ActorKind.USER and event.actor_user is not None:
        return str(event.actor_user)
    label = dict(ActorKind.choices).get(event.actor_kind, event.actor_kind)
    if event.actor_kind == ActorKind.CONNECTOR and rma is not None and event.actor_ref == str(rma.store_id):
        return f"{rma.store.name} ({label})"  # the RMA's own store's connector: name the marketplace account
    return f"{label} {event.actor_ref}".strip()


def rma_can_refund(user: Any, rma: Rma) -> bool:
    """The RMA page offers "Refund" to a role that may process while the RMA is not rejected or
    cancelled (returns.refunds checks again). The RMA's own moves are returns.rma_selectors.rma_actions_for."""
    return rma.status not in (RmaStatus.REJECTED, RmaStatus.CANCELLED) and has_perm(user, Permission.PROCESS)


def rma_detail(user: Any, rma_id: int) -> RmaDetail:
    """The one reader of an RMA's detail (the RMA page; GET /rmas/{id} maps it in
    returns.rma_selectors.rma_detail): the RMA with its order, customer, ticket and marketplace
    request; lines with their QC results; evidence; the timeline (every event with who and when);
    refunds and exchanges; the actions this user may take."""
    rma = rma_get(user, rma_id)
    lines = list(rma.lines.select_related("order_line").order_by("id"))
    evidence = list(rma.evidence.order_by("at", "id"))
    events = list(rma.events.select_related("actor_user").order_by("at", "id"))
    timeline = [
        RmaTimelineEntry(e.at, e.type, e.actor_kind, _actor_name(e, rma), dict(e.payload or {}), e.pk, e.actor_ref)
        for e in events
    ]
    refunds = list(
        rma.refunds.select_related("requested_by", "approved_by", "writeback")
        .prefetch_related("lines")
        .order_by("created_at", "id")
    )
    exchanges = list(rma.exchanges.select_related("replacement_order", "warehouse").order_by("created_at", "id"))
    return RmaDetail(
        rma=rma,
        lines=lines,
        evidence=evidence,
        timeline=timeline,
        refunds=refunds,
        exchanges=exchanges,
        can_refund=rma_can_refund(user, rma),
        can_approve_refunds=has_perm(user, Permission.APPROVE),
    )


@dataclass(frozen=True)
class RmaExceptions:
    """What needs a human (each list the newest first, at most EXCEPTIONS_LIMIT rows)."""

    stale_labels: list[Rma]  # label issued, no parcel movement after `stale_days`
    discrepancies: list[Rma]  # open RMAs whose facts do not match the order
    refunds_failed: list[Refund]  # failed on the marketplace, or pending sync (to do by hand)
    writebacks_unknown: list[Refund]  # the marketplace call's outcome is unknown: check before retrying
    stale_days: int
    # open RMAs whose marketplace request was cancelled or closed (returns.rma_platform kept them open)
    platform_closed: list[Rma] = field(default_factory=list)

    @property
    def total(self) -> int:
        return (
            len(self.stale_labels)
            + len(self.discrepancies)
            + len(self.refunds_failed)
            + len(self.writebacks_unknown)
            + len(self.platform_closed)
        )


def rma_exceptions(user: Any, *, stale_days: int = STALE_LABEL_DAYS, now: datetime | None = None) -> RmaExceptions:
    """The exceptions list: RMAs whose return label was issued `stale_days` ago or more without any
    tracking scan of that parcel (no TrackingEvent of a Shipment with the label's tracking number, or
    no tracking number at all); open RMAs whose automatic checks found discrepancies with the order;
    refunds that failed on the marketplace or wait for a manual sync; refunds whose marketplace call
    ended in an unknown state (channels.writeback: a human checks, never resent); open RMAs whose
    marketplace request was cancelled or closed (returns.rma_platform left them open)."""
    if not 1 <= stale_days <= 365:
        raise ValidationFailed(gettext("stale_days must be between 1 and 365"), field="stale_days")
    now = now or timezone.now()
    rmas = rmas_visible(user).select_related("store", "order", "customer").defer("store__credentials")
    moved = TrackingEvent.objects.filter(
        shipment__tracking_number=OuterRef("label_tracking_number"),
        shipment__order__organization_id=OuterRef("organization_id"),
    )
    stale = (
        rmas.filter(status=RmaStatus.LABEL_ISSUED, label_issued_at__lte=now - timedelta(days=stale_days))
        .filter(Q(label_tracking_number="") | ~Exists(moved))
        .order_by("label_issued_at", "pk")[:EXCEPTIONS_LIMIT]
    )
    mismatched = (rmas.filter(status__in=RMA_OPEN_STATUSES).exclude(discrepancies=[]).order_by("-created_at", "-pk"))[
        :EXCEPTIONS_LIMIT
    ]
    refunds = refunds_visible(user).select_related("rma", "order", "store", "writeback").defer("store__credentials")
    failed = refunds.filter(status__in=(RefundStatus.FAILED, RefundStatus.PENDING_SYNC)).order_by("-updated_at", "-pk")[
        :EXCEPTIONS_LIMIT
    ]
    unknown = refunds.filter(writeback__status="unknown").order_by("-updated_at", "-pk")[:EXCEPTIONS_LIMIT]
    closed = (
        rmas.filter(
            status__in=RMA_OPEN_STATUSES,
            return_request__platform_state__in=(PlatformReturnState.CANCELLED, PlatformReturnState.CLOSED),
        )
        .select_related("return_request")
        .order_by("-updated_at", "-pk")[:EXCEPTIONS_LIMIT]
    )
    return RmaExceptions(
        platform_closed=list(closed),
        stale_labels=list(stale),
        discrepancies=list(mismatched),
        refunds_failed=list(failed),
        writebacks_unknown=list(unknown),
        stale_days=stale_days,
    )


def rmas_of_ticket(user: Any, ticket_id: int) -> list[Rma]:
    """The RMAs opened from a ticket (the ticket page's order panel lists them)."""
    return list(rmas_visible(user).filter(ticket_id=ticket_id).order_by("-created_at", "-pk")[:20])


@dataclass(frozen=True)
class BulkItemResult:
    rma_id: int
    rma_number: str
    status: str  # pending | ok | error
    message: str


@dataclass(frozen=True)
class BulkJobProgress:
    job_id: int
    action: str
    status: str  # queued | running | done
    total: int
    ok: int
    failed: int
    percent: int
    items: list[BulkItemResult]

    @property
    def processed(self) -> int:
        return self.ok + self.failed


def rma_bulk_job_progress(user: Any, job_id: int, *, items: bool = True) -> BulkJobProgress:
    """A bulk job's progress, counted from its items (ok / failed / waiting), with each item's result.
    A job is seen by its creator and the organization's admins (others: NotFound naming job_id)."""
    job = RmaBulkJob.objects.filter(pk=job_id, organization_id=user.organization_id).first()
    if job is None or not has_perm(user, Permission.VIEW) or (job.created_by_id != user.pk and not is_admin(user)):
        raise NotFound(gettext("bulk job not found"), field="job_id")
    counts = dict(
        RmaBulkItem.objects.filter(job=job)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    ok, failed = counts.get(RmaBulkItemStatus.OK, 0), counts.get(RmaBulkItemStatus.ERROR, 0)
    percent = int(100 * (ok + failed) / job.total) if job.total else 100
    results: list[BulkItemResult] = []
    if items:
        results = [
            BulkItemResult(rma_id, number, status, message)
            for rma_id, number, status, message in RmaBulkItem.objects.filter(job=job)
            .order_by("position")
            .values_list("rma_id", "rma__number", "status", "message")
        ]
    return BulkJobProgress(job.pk, job.action, job.status, job.total, ok, failed, percent, results)


# ---------------------------------------------------------------------------------------------------
# Refunds (returns.refunds): one refund, the manual-review queue.
# ---------------------------------------------------------------------------------------------------


def refund_detail(user: Any, refund_id: int) -> Refund:
    """One refund the user may see (refunds_visible), with its lines, events and order; NotFound
    otherwise (another organization's, or outside the user's scope)."""
    refund = (
        refunds_visible(user)
        .filter(pk=refund_id)
        .select_related("order", "store", "rma", "requested_by", "approved_by", "writeback")
        .defer("store__credentials")
        .prefetch_related("lines__order_line", "events__actor_user")
        .first()
    )
    if refund is None:
        raise NotFound(gettext("Refund not found"), field="refund_id")
    return refund


def refund_review_queue(user: Any, *, limit: int = 200) -> list[Refund]:
    """Refunds waiting for a human, oldest first: in manual review (Refund.review_reasons says why)
    or pending approval (above the requester's limit)."""
    return list(
        refunds_visible(user)
        .filter(status__in=(RefundStatus.IN_REVIEW, RefundStatus.PENDING_APPROVAL))
        .select_related("rma", "order", "store", "requested_by")
        .defer("store__credentials")
        .order_by("created_at", "pk")[:limit]
    )
