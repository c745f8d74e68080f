"""The dry run of a rule (docs/rules.md "Simulation"): replay the last N days of the organization's
history through one rule document (a draft not saved yet, or a saved version) and say which tickets
would have matched and what would have changed. Nothing is written and no action runs: each action
only `describe()`s itself, and set-type actions are compared with the ticket's value.

What is replayed, per trigger (one event per row, oldest first, within [now - days, now]):
- ticket_created: the tickets created; message_received: the inbound messages (with their triage
  result); ticket_updated: the ticket events that changed a field (category, urgency, priority, team,
  assignee, tags, subject, status), one event per row;
- rma_requested: the RMAs created; rma_status_changed: their status changes;
- sla_warning / sla_breached: the warnings and breaches recorded on the tickets' clocks;
- scheduled: the tickets not resolved now, evaluated once at `now` (what a run now would do).
- shipment_stalled: no history of stalls is kept, so it cannot be replayed (422 naming `trigger`).

Snapshots are read from the rows as they are today (a ticket's current urgency, not the one it had
then); `now` in a snapshot (days_since) and the schedule are taken at the event's own time.

Bounds: at most MAX_DAYS days, at most `row_cap` events examined (default DEFAULT_ROW_CAP, at most
MAX_ROW_CAP), read in chunks of CHUNK rows; the first MAX_MATCHES matches are returned in full, all of
them are counted."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm, organization_of
from aftersales.core.clock import now as clock_now
from aftersales.core.errors import NotFound, ValidationFailed
from aftersales.inbox.models import Message, MessageDirection, Ticket, TicketEvent, TicketEventType
from aftersales.inbox.workflow import StatusCategory
from aftersales.returns.models import Rma, RmaEvent
from aftersales.sla.models import TicketSla

from .actions import REGISTRY
from .engine import CompiledRule, compile_rule, organization_calendars
from .models import Rule, RuleTrigger, RuleVersion
from .services import check_rule_document
from .snapshots import EventRef, event_snapshots

MAX_DAYS = 90
DEFAULT_DAYS = 30
DEFAULT_ROW_CAP = 5_000
MAX_ROW_CAP = 20_000
MAX_MATCHES = 200
CHUNK = 500

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


@dataclass(frozen=True)
class HistoryEvent:
    key: str
    at: datetime
    ticket_id: int | None = None
    message_id: int | None = None
    rma_id: int | None = None
    event: Mapping[str, Any] | None = None


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
    truncated: bool  # the row cap stopped the replay before the end of the period
    matches: tuple[SimulatedMatch, ...]
    change_counts: tuple[tuple[str, int], ...]  # action -> matches where it would change something
    duration_ms: float


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


def _chunks(rows: Any, key: str) -> Iterator[list[Any]]:
    """Rows of a queryset ordered by (`key`, pk), read CHUNK at a time by keyset."""
    last: tuple[Any, int] | None = None
    while True:
        page = rows
        if last is not None:
            page = page.filter(Q(**{f"{key}__gt": last[0]}) | Q(**{key: last[0], "pk__gt": last[1]}))
        batch = list(page.order_by(key, "pk")[:CHUNK])
        if not batch:
            return
        yield batch
        last = (getattr(batch[-1], key), batch[-1].pk)


def _history(trigger: str, organization_id: int, since: datetime, until: datetime) -> Iterator[list[HistoryEvent]]:
    window = {"__gte": since, "__lte": until}

    def between(field: str) -> dict[str, datetime]:
        return {f"{field}{suffix}": value for suffix, value in window.items()}

    if trigger == RuleTrigger.TICKET_CREATED:
        rows = Ticket.objects.filter(organization_id=organization_id, **between("created_at")).only("pk", "created_at")
        for batch in _chunks(rows, "created_at"):
            yield [HistoryEvent(f"ticket_created:{t.pk}", t.created_at, ticket_id=t.pk) for t in batch]
    elif trigger == RuleTrigger.MESSAGE_RECEIVED:
        msgs = Message.objects.filter(
            ticket__organization_id=organization_id, direction=MessageDirection.INBOUND, **between("created_at")
        ).only("pk", "ticket_id", "created_at")
        for batch in _chunks(msgs, "created_at"):
            yield [
                HistoryEvent(f"message_received:{m.pk}", m.created_at, ticket_id=m.ticket_id, message_id=m.pk)
                for m in batch
            ]
    elif trigger == RuleTrigger.TICKET_UPDATED:
        events = TicketEvent.objects.filter(
            ticket__organization_id=organization_id, type__in=list(UPDATE_EVENTS), **between("at")
        ).only("pk", "ticket_id", "type", "at", "actor_kind", "payload")
        for batch in _chunks(events, "at"):
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
                )
                for e in batch
            ]
    elif trigger == RuleTrigger.RMA_REQUESTED:
        rmas = Rma.objects.filter(organization_id=organization_id, **between("created_at")).only("pk", "created_at")
        for batch in _chunks(rmas, "created_at"):
            yield [HistoryEvent(f"rma_requested:{r.pk}", r.created_at, rma_id=r.pk) for r in batch]
    elif trigger == RuleTrigger.RMA_STATUS_CHANGED:
        changes = RmaEvent.objects.filter(
            rma__organization_id=organization_id, type="status_changed", **between("at")
        ).only("pk", "rma_id", "at", "payload", "actor_kind")
        for batch in _chunks(changes, "at"):
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
                )
                for e in batch
            ]
    elif trigger in (RuleTrigger.SLA_WARNING, RuleTrigger.SLA_BREACHED):
        yield from _sla_history(trigger, organization_id, since, until)
    else:  # scheduled: the unresolved tickets, as a run now would see them
        open_rows = Ticket.objects.filter(organization_id=organization_id).exclude(
            status_category=StatusCategory.RESOLVED
        )
        for batch in _chunks(open_rows.only("pk", "created_at"), "created_at"):
            yield [HistoryEvent(f"scheduled:{t.pk}", until, ticket_id=t.pk) for t in batch]


SLA_CLOCKS = ("first_response", "resolution", "marketplace")


def _sla_history(trigger: str, organization_id: int, since: datetime, until: datetime) -> Iterator[list[HistoryEvent]]:
    kind = "warned" if trigger == RuleTrigger.SLA_WARNING else "breached"
    for clock in SLA_CLOCKS:
        stamp = f"{clock}_{kind}_at"
        rows = TicketSla.objects.filter(
            organization_id=organization_id, **{f"{stamp}__gte": since, f"{stamp}__lte": until}
        ).only("pk", stamp, f"{clock}_due")
        batch: list[HistoryEvent] = []
        for row in rows.order_by(stamp, "pk").iterator(chunk_size=CHUNK):
            at = getattr(row, stamp)
            batch.append(
                HistoryEvent(
                    f"{trigger}:{clock}:{row.pk}",
                    at,
                    ticket_id=row.pk,
                    event={"clock": clock, "due_at": getattr(row, f"{clock}_due")},
                )
            )
            if len(batch) == CHUNK:
                yield batch
                batch = []
        if batch:
            yield batch


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


def _replay(
    organization_id: int, compiled: CompiledRule, *, since: datetime, until: datetime, row_cap: int
) -> tuple[int, int, bool, list[tuple[HistoryEvent, Any, tuple[WouldChange, ...]]], Counter[str]]:
    examined = matched = 0
    truncated = False
    kept: list[tuple[HistoryEvent, Any, tuple[WouldChange, ...]]] = []
    counts: Counter[str] = Counter()
    for batch in _history(compiled.trigger, organization_id, since, until):
        if examined + len(batch) > row_cap:
            batch = batch[: row_cap - examined]
            truncated = True
        examined += len(batch)
        for event, snap in _snapshots(organization_id, compiled.trigger, batch):
            if snap is None or not compiled.holds(snap):
                continue
            matched += 1
            changes = describe_actions(compiled.actions, snap)
            counts.update({c.action for c in changes if c.changes})
            if len(kept) < MAX_MATCHES:
                kept.append((event, snap, changes))
        if truncated:
            break
    return examined, matched, truncated, kept, counts


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
) -> SimulationResult:
    """Replay the last `days` days through a draft `document` (with its "trigger") or a saved rule's
    version (`rule_id`, `version` number; default its current one). Admins only; writes nothing."""
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
    if rule.trigger == RuleTrigger.SHIPMENT_STALLED:
        raise ValidationFailed(
            _("stalled shipments keep no history to replay; try the rule on live events instead"), field="trigger"
        )
    started = time.perf_counter()
    compiled = compile_rule(rule, saved, calendars=organization_calendars(organization_id))
    until = clock_now()
    since = until - timedelta(days=days)
    examined, matched, truncated, kept, counts = _replay(
        organization_id, compiled, since=since, until=until, row_cap=row_cap
    )
    subjects = _subjects({e.ticket_id for e, _s, _c in kept if e.ticket_id is not None})
    matches = tuple(
        SimulatedMatch(
            event_key=e.key,
            at=e.at,
            ticket_id=e.ticket_id or (snap.get("ticket") or {}).get("id"),
            ticket_subject=subjects.get(e.ticket_id or 0, (snap.get("ticket") or {}).get("subject", "")),
            rma_id=e.rma_id,
            changes=changes,
        )
        for e, snap, changes in kept
    )
    return SimulationResult(
        trigger=compiled.trigger,
        rule_id=rule_id,
        version_number=saved.number if rule_id is not None else None,
        since=since,
        until=until,
        days=days,
        row_cap=row_cap,
        events_examined=examined,
        matched=matched,
        truncated=truncated,
        matches=matches,
        change_counts=tuple(sorted(counts.items())),
        duration_ms=round((time.perf_counter() - started) * 1000, 1),
    )
