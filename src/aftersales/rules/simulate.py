"""The dry run of a rule (docs/rules.md "Simulation"): replay the last N days of the organization's
history through one rule document (a draft not saved yet, or a saved version) and say which tickets
would have matched and what would have changed. Nothing is written and no action runs: each action
only `describe()`s itself, and set-type actions are compared with the ticket's value then.

What is replayed, per trigger (one event per row, oldest first, within [now - days, now]):
- ticket_created: the tickets created; message_received: the inbound messages (with their triage
  result); ticket_updated: the ticket events that changed a field (category, urgency, priority, team,
  assignee, tags, subject, status), one event per row;
- rma_requested: the RMAs created; rma_status_changed: their status changes;
- sla_warning / sla_breached: the warnings and breaches recorded on the tickets' clocks;
- shipment_stalled: the tracking events that moved a shipment into a stalled status (exception,
  customs hold, failed attempt, lost, returned) from another one, once per ticket of its order that
  existed and was not resolved then (what `evaluate_shipment_rules` would have run on);
- scheduled / ticket_idle: the tickets not resolved now, evaluated once at `now`.

Point in time: each snapshot is rewound to its event's instant from the audit history
(rules.point_in_time: the ticket's fields, tags, messages, last movement, RMA and shipment status
as they were then), and `now` (days_since) and the schedule are taken at the event's own time.

Pages: one call examines at most `row_cap` events (default DEFAULT_ROW_CAP, at most MAX_ROW_CAP)
and returns at most MAX_MATCHES matches; when the window is not done it returns `next_cursor`, a
signed token holding the window (fixed at the first page, so new rows do not shift the pages), the
rule document's digest and the position of the last event examined (keyset on (time, id)). The next
call with the same document and the cursor continues right after it: every event is examined once,
every match is returned once. `progress` is the share of the window's time replayed."""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core import signing
from django.db.models import F, OuterRef, Q, Subquery
from django.utils.translation import gettext as _

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm, organization_of
from aftersales.catalog.models import TrackingEvent
from aftersales.core.clock import now as clock_now
from aftersales.core.errors import NotFound, ValidationFailed
from aftersales.inbox.models import Message, MessageDirection, Ticket, TicketEvent, TicketEventType
from aftersales.inbox.workflow import StatusCategory
from aftersales.returns.models import Rma, RmaEvent
from aftersales.sla.models import TicketSla

from .actions import REGISTRY
from .engine import CompiledRule, compile_rule, organization_calendars
from .models import Rule, RuleTrigger, RuleVersion
from .point_in_time import LATEST, Instant, rewind
from .services import check_rule_document
from .snapshots import EventRef, event_snapshots

MAX_DAYS = 90
DEFAULT_DAYS = 30
DEFAULT_ROW_CAP = 5_000
MAX_ROW_CAP = 20_000
MAX_MATCHES = 200
CHUNK = 500
CURSOR_SALT = "aftersales.rules.simulate.cursor"
STALLED_STATUSES = ("exception", "customs_hold", "failed_attempt", "lost", "returned")  # rules.subscribers

# ticket event type -> the field named in the snapshot's event.changed
UPDATE_EVENTS: dict[str, str] = {
    TicketEventType.CATEGORY_CHANGED: "category",
    TicketEventType.URGENCY_CHANGED: "urgency",
    TicketEventType.PRIORITY_CHANGED: "is_high_priority",
    TicketEventType.TEAM_CHANGED: "team",
    TicketEventType.ASSIGNED: "assignee",
    TicketEventType.TAGS_CHANGED: "tags",
    TicketEventType.SUBJECT_CHANGED: "subject",
    TicketEventType.STATUS_CHANGED: "status",
}
# the field an action describes -> where the ticket's current value is in the snapshot
SNAPSHOT_FIELD = {"team": "team_id", "assignee": "assignee_id"}


Position = tuple[int, datetime, int, int]  # (source, time, row id, ticket id): the keyset order


@dataclass(frozen=True)
class HistoryEvent:
    key: str
    at: datetime
    ticket_id: int | None = None
    message_id: int | None = None
    rma_id: int | None = None
    event: Mapping[str, Any] | None = None
    row_id: int = 0  # the history row (ticket event, message, tracking event...) it comes from
    source: int = 0  # which history source (the SLA clocks are three, read one after the other)
    audit_row: int = LATEST  # ticket_updated: its own audit row (the rows after it are undone)

    @property
    def position(self) -> Position:
        return (self.source, self.at, self.row_id, self.ticket_id or 0)


@dataclass(frozen=True)
class WouldChange:
    action: str
    label: str
    field: str  # "" for actions that do not set a ticket field (notes, replies, refunds...)
    current: Any
    value: Any
    detail: Mapping[str, Any]

    @property
    def changes(self) -> bool:
        """False when a set-type action would leave the value as it is."""
        return not self.field or self.current != self.value


@dataclass(frozen=True)
class SimulatedMatch:
    event_key: str
    at: datetime
    ticket_id: int | None
    ticket_subject: str
    rma_id: int | None
    changes: tuple[WouldChange, ...]


@dataclass(frozen=True)
class SimulationResult:
    trigger: str
    rule_id: int | None
    version_number: int | None
    since: datetime
    until: datetime
    days: int
    row_cap: int
    events_examined: int
    matched: int
    truncated: bool  # this page stopped before the end of the window (next_cursor continues)
    matches: tuple[SimulatedMatch, ...]
    change_counts: tuple[tuple[str, int], ...]  # action -> matches where it would change something
    duration_ms: float
    next_cursor: str | None = None
    progress: float = 1.0  # the share of the window's time replayed so far (1.0: done)


def _whole(value: Any, *, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationFailed(_("a whole number from %(low)s to %(high)s") % {"low": low, "high": high}, field=field)
    return value


def _draft(organization_id: int, document: Mapping[str, Any]) -> tuple[Rule, RuleVersion]:
    """An unsaved rule and version from a draft document, checked by the same service as saving it
    (refusals name the JSON path); a draft may leave its name out."""
    data = dict(document)
    if not data.get("name"):
        data["name"] = _("Draft")
    checked = check_rule_document(data, organization_id=organization_id)
    rule = Rule(organization_id=organization_id, name=checked.name, trigger=checked.trigger)
    return rule, RuleVersion(number=0, **checked.content())


def _chunks(rows: Any, key: str, start: tuple[datetime, int] | None = None) -> Iterator[list[Any]]:
    """Rows of a queryset ordered by (`key`, pk), read CHUNK at a time by keyset, from `start`
    (included) when given."""
    last: tuple[Any, int] | None = None
    if start is not None:
        rows = rows.filter(Q(**{f"{key}__gt": start[0]}) | Q(**{key: start[0], "pk__gte": start[1]}))
    while True:
        page = rows
        if last is not None:
            page = page.filter(Q(**{f"{key}__gt": last[0]}) | Q(**{key: last[0], "pk__gt": last[1]}))
        batch = list(page.order_by(key, "pk")[:CHUNK])
        if not batch:
            return
        yield batch
        last = (getattr(batch[-1], key), batch[-1].pk)


def _history(
    trigger: str, organization_id: int, since: datetime, until: datetime, after: Position | None = None
) -> Iterator[list[HistoryEvent]]:
    """The trigger's history in the window, in keyset order, from the position `after` (the caller
    skips the events at or before it: a source is read from its (time, id), included)."""
    window = {"__gte": since, "__lte": until}
    start = (after[1], after[2]) if after is not None else None

    def between(field: str) -> dict[str, datetime]:
        return {f"{field}{suffix}": value for suffix, value in window.items()}

    if trigger == RuleTrigger.TICKET_CREATED:
        rows = Ticket.objects.filter(organization_id=organization_id, **between("created_at")).only("pk", "created_at")
        for batch in _chunks(rows, "created_at", start):
            yield [HistoryEvent(f"ticket_created:{t.pk}", t.created_at, ticket_id=t.pk, row_id=t.pk) for t in batch]
    elif trigger == RuleTrigger.MESSAGE_RECEIVED:
        msgs = Message.objects.filter(
            ticket__organization_id=organization_id, direction=MessageDirection.INBOUND, **between("created_at")
        ).only("pk", "ticket_id", "created_at")
        for batch in _chunks(msgs, "created_at", start):
            yield [
                HistoryEvent(
                    f"message_received:{m.pk}", m.created_at, ticket_id=m.ticket_id, message_id=m.pk, row_id=m.pk
                )
                for m in batch
            ]
    elif trigger == RuleTrigger.TICKET_UPDATED:
        events = TicketEvent.objects.filter(
            ticket__organization_id=organization_id, type__in=list(UPDATE_EVENTS), **between("at")
        ).only("pk", "ticket_id", "type", "at", "actor_kind", "payload")
        for batch in _chunks(events, "at", start):
            yield [
                HistoryEvent(
                    f"ticket_updated:{e.pk}",
                    e.at,
                    ticket_id=e.ticket_id,
                    event={
                        "changed": [UPDATE_EVENTS[e.type]],
                        "actor_kind": e.actor_kind,
                        **(
                            {"old_status": e.payload.get("old", ""), "new_status": e.payload.get("new", "")}
                            if e.type == TicketEventType.STATUS_CHANGED
                            else {}
                        ),
                    },
                    row_id=e.pk,
                    audit_row=e.pk,
                )
                for e in batch
            ]
    elif trigger == RuleTrigger.RMA_REQUESTED:
        rmas = Rma.objects.filter(organization_id=organization_id, **between("created_at")).only("pk", "created_at")
        for batch in _chunks(rmas, "created_at", start):
            yield [HistoryEvent(f"rma_requested:{r.pk}", r.created_at, rma_id=r.pk, row_id=r.pk) for r in batch]
    elif trigger == RuleTrigger.RMA_STATUS_CHANGED:
        changes = RmaEvent.objects.filter(
            rma__organization_id=organization_id, type="status_changed", **between("at")
        ).only("pk", "rma_id", "at", "payload", "actor_kind")
        for batch in _chunks(changes, "at", start):
            yield [
                HistoryEvent(
                    f"rma_status_changed:{e.pk}",
                    e.at,
                    rma_id=e.rma_id,
                    event={
                        "old_status": e.payload.get("old", ""),
                        "new_status": e.payload.get("new", ""),
                        "actor_kind": e.actor_kind,
                    },
                    row_id=e.pk,
                )
                for e in batch
            ]
    elif trigger in (RuleTrigger.SLA_WARNING, RuleTrigger.SLA_BREACHED):
        yield from _sla_history(trigger, organization_id, since, until, after)
    elif trigger == RuleTrigger.SHIPMENT_STALLED:
        yield from _stall_history(organization_id, since, until, start)
    else:  # scheduled / ticket_idle: the unresolved tickets, as a run now would see them
        open_rows = Ticket.objects.filter(organization_id=organization_id, merged_into__isnull=True).exclude(
            status_category=StatusCategory.RESOLVED
        )
        # keyed by creation for a stable order; each is evaluated at `until`
        for batch in _chunks(open_rows.only("pk", "created_at"), "created_at", start):
            yield [HistoryEvent(f"{trigger}:{t.pk}", until, ticket_id=t.pk, row_id=t.pk) for t in batch]


def _stall_history(
    organization_id: int, since: datetime, until: datetime, start: tuple[datetime, int] | None
) -> Iterator[list[HistoryEvent]]:
    """Tracking events that moved a shipment into a stalled status (the previous event of the
    shipment had another status, or there was none), once per ticket of the order that existed
    then and was not merged; resolved-then tickets are dropped after rewinding (`_replay`)."""
    previous = (
        TrackingEvent.objects.filter(shipment_id=OuterRef("shipment_id"))
        .filter(Q(at__lt=OuterRef("at")) | Q(at=OuterRef("at"), pk__lt=OuterRef("pk")))
        .order_by("-at", "-pk")
        .values("status")[:1]
    )
    stalls = (
        TrackingEvent.objects.filter(
            shipment__order__organization_id=organization_id,
            status__in=STALLED_STATUSES,
            at__gte=since,
            at__lte=until,
        )
        .annotate(previous=Subquery(previous), order_id=F("shipment__order_id"))
        .only("pk", "at", "status", "shipment_id")
    )
    for batch in _chunks(stalls, "at", start):
        moved = [e for e in batch if e.previous != e.status]  # type: ignore[attr-defined]
        tickets: dict[int, list[tuple[int, datetime]]] = {}
        for ticket_id, order_id, created_at in (
            Ticket.objects.filter(
                organization_id=organization_id,
                order_id__in={e.order_id for e in moved},  # type: ignore[attr-defined]
                merged_into__isnull=True,
            )
            .order_by("pk")
            .values_list("pk", "order_id", "created_at")
        ):
            tickets.setdefault(order_id, []).append((ticket_id, created_at))
        yield [
            HistoryEvent(
                f"shipment:{e.shipment_id}:{e.status}:{e.at.isoformat()}:{ticket_id}",
                e.at,
                ticket_id=ticket_id,
                event={"old_status": e.previous or "", "new_status": e.status, "actor_kind": "connector"},  # type: ignore[attr-defined]
                row_id=e.pk,
            )
            for e in moved
            for ticket_id, created_at in tickets.get(e.order_id, [])  # type: ignore[attr-defined]
            if created_at <= e.at
        ]


SLA_CLOCKS = ("first_response", "resolution", "marketplace")


def _sla_history(
    trigger: str, organization_id: int, since: datetime, until: datetime, after: Position | None
) -> Iterator[list[HistoryEvent]]:
    kind = "warned" if trigger == RuleTrigger.SLA_WARNING else "breached"
    for source, clock in enumerate(SLA_CLOCKS):
        if after is not None and source < after[0]:
            continue
        stamp = f"{clock}_{kind}_at"
        rows = TicketSla.objects.filter(
            organization_id=organization_id, **{f"{stamp}__gte": since, f"{stamp}__lte": until}
        ).only("pk", stamp, f"{clock}_due")
        start = (after[1], after[2]) if after is not None and source == after[0] else None
        for batch in _chunks(rows, stamp, start):
            yield [
                HistoryEvent(
                    f"{trigger}:{clock}:{row.pk}",
                    getattr(row, stamp),
                    ticket_id=row.pk,
                    event={"clock": clock, "due_at": getattr(row, f"{clock}_due")},
                    row_id=row.pk,
                    source=source,
                )
                for row in batch
            ]


def _snapshots(organization_id: int, trigger: str, batch: list[HistoryEvent]) -> list[tuple[HistoryEvent, Any]]:
    """Each event with its snapshot (None: its ticket or RMA is gone): the engine's own builder
    (`snapshots.event_snapshots`), a fixed number of queries per chunk whatever the trigger."""
    refs = [
        EventRef(at=e.at, ticket_id=e.ticket_id, message_id=e.message_id, rma_id=e.rma_id, event=e.event) for e in batch
    ]
    return list(zip(batch, event_snapshots(organization_id=organization_id, trigger=trigger, events=refs), strict=True))


def describe_actions(actions: Sequence[Mapping[str, Any]], snapshot: Mapping[str, Any]) -> tuple[WouldChange, ...]:
    ticket = snapshot.get("ticket") or {}
    found = []
    for item in actions:
        action = REGISTRY[item["type"]]
        detail = action.describe(item.get("params") or {})
        field = str(detail.get("field") or "")
        current = ticket.get(SNAPSHOT_FIELD.get(field, field)) if field else None
        found.append(
            WouldChange(
                action=action.slug,
                label=str(action.label),
                field=field,
                current=current,
                value=detail.get("value"),
                detail={k: v for k, v in detail.items() if k not in ("action", "field", "value")},
            )
        )
    return tuple(found)


def _subjects(ticket_ids: set[int]) -> dict[int, str]:
    return dict(Ticket.objects.filter(pk__in=ticket_ids).values_list("pk", "subject")) if ticket_ids else {}


def _as_then(organization_id: int, trigger: str, batch: list[HistoryEvent]) -> list[tuple[HistoryEvent, Any]]:
    """Each event with its snapshot rewound to the event's instant (rules.point_in_time); the
    time-based triggers (scheduled, ticket_idle) are evaluated now, as they are."""
    pairs = _snapshots(organization_id, trigger, batch)
    if trigger in (RuleTrigger.SCHEDULED, RuleTrigger.TICKET_IDLE):
        return pairs
    rewound = rewind(
        [snap for _e, snap in pairs],
        [Instant(e.at, e.audit_row) for e in batch],
        event_rma_ids=[e.rma_id for e in batch],
    )
    out: list[tuple[HistoryEvent, Any]] = []
    for event, snap in zip(batch, rewound, strict=True):
        resolved = snap is not None and snap["ticket"]["status_category"] == StatusCategory.RESOLVED
        if trigger == RuleTrigger.SHIPMENT_STALLED and resolved:
            snap = None  # the engine runs stalls on the order's unresolved tickets only
        out.append((event, snap))
    return out


@dataclass
class _Page:
    examined: int = 0
    matched: int = 0
    last: Position | None = None  # the last event examined
    done: bool = True
    kept: list[tuple[HistoryEvent, Any, tuple[WouldChange, ...]]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)


def _replay(
    organization_id: int,
    compiled: CompiledRule,
    *,
    since: datetime,
    until: datetime,
    row_cap: int,
    after: Position | None = None,
) -> _Page:
    """One page: the events after `after`, up to `row_cap` examined or MAX_MATCHES matched."""
    page = _Page()
    for batch in _history(compiled.trigger, organization_id, since, until, after):
        fresh = [e for e in batch if after is None or e.position > after]
        for event, snap in _as_then(organization_id, compiled.trigger, fresh):
            if page.examined >= row_cap or len(page.kept) >= MAX_MATCHES:
                page.done = False
                return page
            page.examined += 1
            page.last = event.position
            if snap is None or not compiled.holds(snap):
                continue
            page.matched += 1
            changes = describe_actions(compiled.actions, snap)
            page.counts.update({c.action for c in changes if c.changes})
            page.kept.append((event, snap, changes))
    return page


def _digest(rule: Rule, version: RuleVersion) -> str:
    """What the cursor is tied to: the trigger and the document replayed."""
    content = {"trigger": rule.trigger, "rule": rule.pk, **version.document()}
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _cursor(*, digest: str, since: datetime, until: datetime, last: Position) -> str:
    source, at, row_id, ticket_id = last
    return signing.dumps(
        {"d": digest, "s": since.isoformat(), "u": until.isoformat(), "p": [source, at.isoformat(), row_id, ticket_id]},
        salt=CURSOR_SALT,
        compress=True,
    )


def _read_cursor(raw: Any, *, digest: str) -> tuple[datetime, datetime, Position]:
    """(since, until, position) of a cursor given back, or ValidationFailed naming `cursor`."""
    try:
        data = signing.loads(str(raw), salt=CURSOR_SALT)
        source, at, row_id, ticket_id = data["p"]
        window = (datetime.fromisoformat(data["s"]), datetime.fromisoformat(data["u"]))
        position: Position = (int(source), datetime.fromisoformat(at), int(row_id), int(ticket_id))
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise ValidationFailed(_("not a cursor this dry run gave"), field="cursor") from exc
    if data.get("d") != digest:
        raise ValidationFailed(_("the cursor belongs to another rule document: start again"), field="cursor")
    return window[0], window[1], position


def _saved_document(organization_id: int, rule_id: int, version_number: int | None) -> tuple[Rule, RuleVersion]:
    rule = Rule.objects.filter(organization_id=organization_id, pk=rule_id).first()
    if rule is None:
        raise NotFound(_("no such rule"), field="rule_id")
    versions = RuleVersion.objects.filter(rule=rule)
    if version_number is not None:
        version = versions.filter(number=version_number).first()
    else:
        version = versions.filter(pk=rule.current_version_id).first() if rule.current_version_id else None
    if version is None:
        raise NotFound(_("no such version of the rule"), field="version")
    return rule, version


def rule_simulate(
    user: Any,
    *,
    document: Mapping[str, Any] | None = None,
    rule_id: int | None = None,
    version: int | None = None,
    days: Any = DEFAULT_DAYS,
    row_cap: Any = DEFAULT_ROW_CAP,
    cursor: str | None = None,
) -> SimulationResult:
    """Replay the last `days` days through a draft `document` (with its "trigger") or a saved rule's
    version (`rule_id`, `version` number; default its current one), one page at a time (`cursor`:
    the previous page's next_cursor, with the same document). Admins only; writes nothing."""
    check_perm(user, Permission.ADMINISTER)
    organization_id = organization_of(user)
    days = _whole(days, field="days", low=1, high=MAX_DAYS)
    row_cap = _whole(row_cap, field="row_cap", low=1, high=MAX_ROW_CAP)
    if rule_id is not None:
        rule, saved = _saved_document(organization_id, rule_id, version)
    elif isinstance(document, Mapping):
        rule, saved = _draft(organization_id, document)
    else:
        raise ValidationFailed(_("give a rule document or a saved rule"), field="document")
    started = time.perf_counter()
    digest = _digest(rule, saved)
    after: Position | None = None
    if cursor:
        since, until, after = _read_cursor(cursor, digest=digest)
        days = max(1, round((until - since) / timedelta(days=1)))
    else:
        until = clock_now()
        since = until - timedelta(days=days)
    compiled = compile_rule(rule, saved, calendars=organization_calendars(organization_id))
    page = _replay(organization_id, compiled, since=since, until=until, row_cap=row_cap, after=after)
    subjects = _subjects({e.ticket_id for e, _s, _c in page.kept if e.ticket_id is not None})
    matches = tuple(
        SimulatedMatch(
            event_key=e.key,
            at=e.at,
            ticket_id=e.ticket_id or (snap.get("ticket") or {}).get("id"),
            ticket_subject=subjects.get(e.ticket_id or 0, (snap.get("ticket") or {}).get("subject", "")),
            rma_id=e.rma_id,
            changes=changes,
        )
        for e, snap, changes in page.kept
    )
    next_cursor = None
    progress = 1.0
    if not page.done and page.last is not None:
        next_cursor = _cursor(digest=digest, since=since, until=until, last=page.last)
        progress = _progress(compiled.trigger, page.last, since=since, until=until)
    return SimulationResult(
        trigger=compiled.trigger,
        rule_id=rule_id,
        version_number=saved.number if rule_id is not None else None,
        since=since,
        until=until,
        days=days,
        row_cap=row_cap,
        events_examined=page.examined,
        matched=page.matched,
        truncated=next_cursor is not None,
        matches=matches,
        change_counts=tuple(sorted(page.counts.items())),
        duration_ms=round((time.perf_counter() - started) * 1000, 1),
        next_cursor=next_cursor,
        progress=progress,
    )


def _progress(trigger: str, last: Position, *, since: datetime, until: datetime) -> float:
    """The share of the window replayed up to `last` (the SLA clocks are read one after another)."""
    source, at, _row, _ticket = last
    if trigger in (RuleTrigger.SCHEDULED, RuleTrigger.TICKET_IDLE):
        return 0.0  # ordered by creation, not by the window's time
    share = min(1.0, max(0.0, (at - since) / (until - since)))
    if trigger in (RuleTrigger.SLA_WARNING, RuleTrigger.SLA_BREACHED):
        share = (source + share) / len(SLA_CLOCKS)
    return round(share, 3)
