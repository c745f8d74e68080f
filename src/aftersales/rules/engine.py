"""The rules engine (docs/rules.md): an organization's enabled rules for a trigger are compiled once
(cached until a rule or a business calendar of the organization changes) and evaluated per event
against its snapshot, in order: priority (lower first), then scope specificity (more specific
first), then id. A rule whose scope, schedule and conditions hold is applied: its execution row is
inserted first (UNIQUE rule + event key: the same event never applies the same rule twice, across
retries and workers), then its actions run as the rule, each in a savepoint, all in one transaction
with the row. Loop protection: the events a rule's actions cause carry a chain depth (one more than
the run that acted); at MAX_CHAIN_DEPTH the rules that match are logged as stopped, not applied."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Max

from aftersales.core.actors import Actor, ActorKind
from aftersales.core.clock import now as clock_now
from aftersales.core.errors import DomainError
from aftersales.sla.business_time import BusinessTimeError, Calendar
from aftersales.sla.models import BusinessCalendar

from .actions import ActionContext, action_error, run_action
from .conditions import Predicate, compile_conditions, path_getter
from .fields import FIELDS
from .models import ExecutionOutcome, Rule, RuleExecution, RuleVersion
from .reference import explain
from .schedules import schedule_matcher
from .scopes import scope_matcher
from .snapshots import Snapshot, build_snapshot

logger = logging.getLogger(__name__)

MAX_CHAIN_DEPTH = 3
_chain_depth: ContextVar[int | None] = ContextVar("rules_chain_depth", default=None)


def chain_depth_for(actor: Actor) -> int:
    """The chain depth of an event about to be handled: inside a rule's actions, one more than the
    run that acted; an event a rule caused outside an engine run (its depth is unknown) counts as
    one step below the bound; anyone else's event starts a chain (0)."""
    depth = _chain_depth.get()
    if depth is not None:
        return depth
    return MAX_CHAIN_DEPTH - 1 if actor.kind == ActorKind.RULE else 0


@contextmanager
def _acting_at(depth: int) -> Iterator[None]:
    token = _chain_depth.set(depth)
    try:
        yield
    finally:
        _chain_depth.reset(token)


# --------------------------------------------------------------------------- compilation


@dataclass(frozen=True)
class CompiledRule:
    rule_id: int
    name: str
    trigger: str
    priority: int
    specificity: int
    version_id: int
    version_number: int
    conditions: Any
    actions: Sequence[Mapping[str, Any]]
    stop_further: bool
    approval_limit: tuple[Decimal, str] | None
    predicate: Predicate
    in_scope: Callable[[Mapping[str, Any]], bool] | None
    active_at: Callable[[datetime], bool] | None
    calendars: Mapping[int, Calendar] = field(default_factory=dict)

    @property
    def stops(self) -> bool:
        """Whether applying it stops the rules after it (its document's flag or a stop action)."""
        return self.stop_further or any(a.get("type") == "stop_further" for a in self.actions)

    @property
    def order_key(self) -> tuple[int, int, int]:
        return (self.priority, -self.specificity, self.rule_id)

    def holds(self, snapshot: Mapping[str, Any]) -> bool:
        if self.active_at is not None and not self.active_at(snapshot["now"]):
            return False
        if self.in_scope is not None and not self.in_scope(snapshot):
            return False
        return self.predicate(snapshot)


def organization_calendars(organization_id: int) -> dict[int, Calendar]:
    out: dict[int, Calendar] = {}
    for row in BusinessCalendar.objects.filter(organization_id=organization_id):
        try:
            out[row.pk] = row.as_calendar()
        except BusinessTimeError:
            logger.warning("rules: calendar %s no longer validates", row.pk)
    return out


def compile_rule(rule: Rule, version: RuleVersion, *, calendars: Mapping[int, Calendar]) -> CompiledRule:
    limit = None
    if version.approval_limit_amount is not None:
        limit = (Decimal(version.approval_limit_amount), version.approval_limit_currency)
    return CompiledRule(
        rule_id=rule.pk,
        name=rule.name,
        trigger=rule.trigger,
        priority=rule.priority,
        specificity=rule.specificity,
        version_id=version.pk,
        version_number=version.number,
        conditions=version.conditions,
        actions=version.actions,
        stop_further=version.stop_further,
        approval_limit=limit,
        predicate=compile_conditions(version.conditions, calendars=calendars),
        in_scope=scope_matcher(version.scope),
        active_at=schedule_matcher(version.schedule, calendars),
        calendars=calendars,
    )


INDEXED_TYPES = frozenset({"enum", "str", "int"})


class RuleSet(list[CompiledRule]):
    """Compiled rules in evaluation order, with an index that skips, per event, the rules that
    cannot hold: a rule whose conditions are an `all` (or one leaf) containing an `eq`/`in` on a
    text, choice or id field is filed under those values, and only looked at when the snapshot has
    one of them there (the leaf would be false otherwise, so would the rule). Rules without such a
    leaf are always looked at. The order of the candidates is the evaluation order."""

    def __init__(self, rules: Sequence[CompiledRule]) -> None:
        super().__init__(sorted(rules, key=lambda r: r.order_key))
        self.always: list[int] = []
        self.by_field: dict[str, dict[Any, list[int]]] = {}
        self.getters: dict[str, Callable[[Mapping[str, Any]], Any]] = {}
        for position, rule in enumerate(self):
            key = _index_key(rule.conditions)
            if key is None:
                self.always.append(position)
                continue
            path, values = key
            table = self.by_field.setdefault(path, {})
            if path not in self.getters:
                self.getters[path] = path_getter(tuple(path.split(".")))
            for value in dict.fromkeys(values):  # once per value, even when the list repeats it
                table.setdefault(value, []).append(position)

    def candidates(self, snapshot: Mapping[str, Any]) -> list[CompiledRule]:
        positions = list(self.always)
        for path, table in self.by_field.items():
            hits = table.get(self.getters[path](snapshot))
            if hits:
                positions.extend(hits)
        positions.sort()
        return [self[i] for i in positions]


def _index_key(conditions: Any) -> tuple[str, list[Any]] | None:
    """The most selective eq/in leaf the whole tree requires (a root leaf, or a child of a root
    `all`) on an indexable field: (path, values); None when there is none."""
    leaves = conditions.get("all") if isinstance(conditions, dict) and "all" in conditions else [conditions]
    best: tuple[str, list[Any]] | None = None
    for leaf in leaves or []:
        if not isinstance(leaf, dict) or leaf.get("op") not in ("eq", "in"):
            continue
        field = FIELDS.get(leaf.get("field", ""))
        if field is None or field.type not in INDEXED_TYPES:
            continue
        values = [leaf["value"]] if leaf["op"] == "eq" else list(leaf["value"])
        if best is None or len(values) < len(best[1]):
            best = (field.path, values)
    return best


_cache: dict[tuple[int, str], tuple[tuple[Any, ...], RuleSet]] = {}
_cache_lock = threading.Lock()


def _stamp(organization_id: int, trigger: str) -> tuple[Any, ...]:
    rules = Rule.objects.filter(organization_id=organization_id, trigger=trigger, enabled=True).aggregate(
        n=Count("id"), at=Max("updated_at")
    )
    calendars = BusinessCalendar.objects.filter(organization_id=organization_id).aggregate(
        n=Count("id"), at=Max("updated_at")
    )
    return (rules["n"], rules["at"], calendars["n"], calendars["at"])


def ruleset(organization_id: int, trigger: str) -> RuleSet:
    """The organization's enabled rules for `trigger`, compiled, in evaluation order. Compiled
    once; recompiled when a rule of that trigger or a business calendar changes (2 queries per
    call to check). A stored version that no longer compiles is logged and left out."""
    key = (organization_id, trigger)
    stamp = _stamp(organization_id, trigger)
    cached = _cache.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    calendars = organization_calendars(organization_id)
    compiled: list[CompiledRule] = []
    rules = Rule.objects.filter(
        organization_id=organization_id, trigger=trigger, enabled=True, current_version__isnull=False
    ).select_related("current_version")
    for rule in rules:
        assert rule.current_version is not None
        try:
            compiled.append(compile_rule(rule, rule.current_version, calendars=calendars))
        except DomainError as exc:
            logger.warning("rules: rule %s v%s does not compile: %s", rule.pk, rule.current_version.number, exc)
    indexed = RuleSet(compiled)
    with _cache_lock:
        _cache[key] = (stamp, indexed)
    return indexed


def matching_rules(rules: Sequence[CompiledRule], snapshot: Mapping[str, Any]) -> list[CompiledRule]:
    """The rules that hold for the snapshot, in order, up to the first one that stops the others
    (`stop_further` in its document or a stop_further action). Pure: the dry run and the bench."""
    out: list[CompiledRule] = []
    for rule in rules.candidates(snapshot) if isinstance(rules, RuleSet) else rules:
        if rule.holds(snapshot):
            out.append(rule)
            if rule.stops:
                break
    return out


# --------------------------------------------------------------------------- applying


@dataclass
class RunResult:
    evaluated: int = 0
    applied: list[int] = field(default_factory=list)  # execution ids written by this run
    already: list[int] = field(default_factory=list)  # rule ids that had already applied to the event
    stopped_by_chain: list[int] = field(default_factory=list)


def _experiment_arm(rule: CompiledRule, ticket_id: int | None) -> str | None:
    """The ticket's arm when the rule's current version runs an A/B experiment (rules.experiments)."""
    from .experiments import experiment_arm

    return experiment_arm(rule=Rule(pk=rule.rule_id, current_version_id=rule.version_id), ticket_id=ticket_id)


def _apply(
    rule: CompiledRule,
    snapshot: Snapshot,
    *,
    organization_id: int,
    trigger: str,
    event_key: str,
    ticket_id: int | None,
    rma_id: int | None,
    chain_depth: int,
    claimed: dict[str, str],
) -> tuple[RuleExecution | None, bool]:
    """Apply one matching rule to the event: (execution, stop) — execution None when the rule had
    already applied to this event."""
    started = time.perf_counter()
    _matched, trace = explain(rule.conditions, snapshot, rule.calendars)
    # The actions' events are delivered when the outer transaction commits: still inside
    # _acting_at, so what they trigger carries this run's depth + 1.
    with _acting_at(chain_depth + 1), transaction.atomic():
        try:
            with transaction.atomic():
                execution = RuleExecution.objects.create(
                    organization_id=organization_id,
                    rule_id=rule.rule_id,
                    version_id=rule.version_id,
                    trigger=trigger,
                    event_key=event_key[:200],
                    ticket_id=ticket_id,
                    rma_id=rma_id,
                    chain_depth=chain_depth,
                    matched=trace,
                )
        except IntegrityError:
            return None, False
        if chain_depth >= MAX_CHAIN_DEPTH:
            logger.warning(
                "rules: chain depth %s reached, rule %s not applied to %s", chain_depth, rule.rule_id, event_key
            )
            execution.outcome = ExecutionOutcome.CHAIN_LIMIT
            execution.duration_ms = (time.perf_counter() - started) * 1000
            execution.save(update_fields=["outcome", "duration_ms"])
            return execution, False
        if _experiment_arm(rule, ticket_id) == "control":  # an A/B experiment's control arm does nothing
            execution.actions = []
            execution.duration_ms = (time.perf_counter() - started) * 1000
            execution.save(update_fields=["actions", "duration_ms"])
            return execution, False
        ctx = ActionContext(
            organization_id=organization_id,
            rule_id=rule.rule_id,
            rule_name=rule.name,
            actor=Actor.rule(rule.rule_id, rule.name),
            event_key=event_key,
            snapshot=snapshot,
            ticket_id=ticket_id,
            rma_id=rma_id,
            execution_id=execution.pk,
            approval_limit=rule.approval_limit,
            claimed=claimed,
        )
        results: list[dict[str, Any]] = []
        for item in rule.actions:
            try:
                with transaction.atomic():
                    results.append(run_action(ctx, item))
            except DomainError as exc:
                results.append(action_error(item, exc))
        errors = sum(1 for r in results if r["status"] == "error")
        if errors == 0:
            execution.outcome = ExecutionOutcome.APPLIED
        else:
            execution.outcome = ExecutionOutcome.FAILED if errors == len(results) else ExecutionOutcome.PARTIAL
        execution.actions = results
        execution.duration_ms = (time.perf_counter() - started) * 1000
        execution.save(update_fields=["outcome", "actions", "duration_ms"])
    return execution, ctx.stop or rule.stops


def run_rules(
    *,
    organization_id: int,
    trigger: str,
    event_key: str,
    ticket_id: int | None = None,
    rma_id: int | None = None,
    message_id: int | None = None,
    event: Mapping[str, Any] | None = None,
    chain_depth: int = 0,
    now: datetime | None = None,
    rules: Sequence[CompiledRule] | None = None,
    snapshot: Snapshot | None = None,
) -> RunResult:
    """Evaluate the organization's enabled rules for `trigger` on one event and apply those that
    hold (see the module docstring). Safe to run twice with the same `event_key`."""
    result = RunResult()
    compiled = ruleset(organization_id, trigger) if rules is None else rules
    if not compiled:
        return result
    at = now or clock_now()
    if snapshot is None:
        snapshot = build_snapshot(
            organization_id=organization_id,
            trigger=trigger,
            now=at,
            ticket_id=ticket_id,
            message_id=message_id,
            rma_id=rma_id,
            event=event,
        )
    if snapshot is None:
        return result
    if ticket_id is None:
        ticket_id = (snapshot.get("ticket") or {}).get("id")
    if rma_id is None:
        rma_id = (snapshot.get("rma") or {}).get("id")
    claimed: dict[str, str] = {}
    for rule in compiled.candidates(snapshot) if isinstance(compiled, RuleSet) else compiled:
        result.evaluated += 1
        if not rule.holds(snapshot):
            continue
        execution, stop = _apply(
            rule,
            snapshot,
            organization_id=organization_id,
            trigger=trigger,
            event_key=event_key,
            ticket_id=ticket_id,
            rma_id=rma_id,
            chain_depth=chain_depth,
            claimed=claimed,
        )
        if execution is None:
            result.already.append(rule.rule_id)
            if rule.stops:
                break
            continue
        if execution.outcome == ExecutionOutcome.CHAIN_LIMIT:
            result.stopped_by_chain.append(rule.rule_id)
            continue
        result.applied.append(execution.pk)
        if stop:
            break
    return result


SCHEDULE_MINUTES = 15
MAX_SCHEDULED_TICKETS = 5000  # per organization and slot: the oldest open tickets first
SCHEDULE_BATCH = 200


def schedule_slot(at: datetime) -> str:
    """The slot `at` falls in (every SCHEDULE_MINUTES): a rule applies once per ticket and slot."""
    minute = at.minute - at.minute % SCHEDULE_MINUTES
    return at.replace(minute=minute, second=0, microsecond=0).isoformat()


def run_scheduled(*, now: datetime | None = None) -> dict[str, int]:
    """Evaluate every organization's enabled scheduled rules over its open and waiting tickets
    (snapshots built in batches: a fixed number of queries per batch). Event key
    `scheduled:<slot>:<ticket>`: a second run in the same slot applies nothing twice."""
    from aftersales.inbox.models import Ticket
    from aftersales.inbox.workflow import StatusCategory

    from .models import RuleTrigger

    at = now or clock_now()
    slot = schedule_slot(at)
    totals = {"organizations": 0, "tickets": 0, "applied": 0}
    organization_ids = (
        Rule.objects.filter(trigger=RuleTrigger.SCHEDULED, enabled=True)
        .values_list("organization_id", flat=True)
        .distinct()
    )
    for organization_id in organization_ids:
        compiled = ruleset(organization_id, RuleTrigger.SCHEDULED)
        if not compiled:
            continue
        totals["organizations"] += 1
        ids = list(
            Ticket.objects.filter(
                organization_id=organization_id,
                status_category__in=[StatusCategory.OPEN, StatusCategory.WAITING],
                merged_into__isnull=True,
            )
            .order_by("created_at", "pk")
            .values_list("pk", flat=True)[:MAX_SCHEDULED_TICKETS]
        )
        keyed = [(ticket_id, f"scheduled:{slot}:{ticket_id}") for ticket_id in ids]
        run_over_tickets(
            organization_id=organization_id,
            trigger=RuleTrigger.SCHEDULED,
            keyed=keyed,
            at=at,
            rules=compiled,
            totals=totals,
        )
    return totals


def run_over_tickets(
    *,
    organization_id: int,
    trigger: str,
    keyed: list[tuple[int, str]],
    at: datetime,
    rules: list[Any],
    totals: dict[str, int],
) -> None:
    """Run a time-based trigger's rules over tickets given as (ticket id, event key), in batches of
    SCHEDULE_BATCH snapshots (run_scheduled and rules.idle.run_idle); counts into `totals`."""
    from .snapshots import ticket_snapshots

    for start in range(0, len(keyed), SCHEDULE_BATCH):
        batch = dict(keyed[start : start + SCHEDULE_BATCH])
        snapshots = ticket_snapshots(organization_id=organization_id, ticket_ids=list(batch), now=at)
        for ticket_id, snap in snapshots.items():
            snap["event"] = {"trigger": trigger}
            totals["tickets"] += 1
            outcome = run_rules(
                organization_id=organization_id,
                trigger=trigger,
                event_key=batch[ticket_id],
                ticket_id=ticket_id,
                now=at,
                rules=rules,
                snapshot=snap,
            )
            totals["applied"] += len(outcome.applied)
