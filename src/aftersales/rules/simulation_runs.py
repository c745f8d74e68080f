"""Dry runs too big to answer inline run in the worker (docs/rules.md "Simulation (dry run)").

`simulation_start` replays the first page inline (FIRST_PAGE_EVENTS events, as before). When the window
is done there, or its size, estimated from the share of the window that page covered, is at most
BACKGROUND_THRESHOLD events, the caller goes on inline (the editor's htmx pages). Otherwise the rest is
handed to the worker: a `RuleSimulationRun` row is written with the first page's totals and the cursor
of the next page, and `RuleSimulationQueued` is published (its subscription runs
`rules.tasks.rule_simulation_run`). The worker replays page after page (`simulation_run_continue`) with
the same page size and the same cursor as the inline pages, so the result is the same either way; the
row holds the progress the page polls, and the result, kept for the organization for KEEP_DAYS days
after it finished (`simulation_runs_prune`, daily). An admin may cancel a queued or running run
(`simulation_run_cancel`): the worker stops before its next page. Every status change goes through
`run_transition` (SIMULATION_TRANSITIONS).

The run's row is its checkpoint: each page is replayed under the row's lock and its cursor and totals
saved with it, so a retried or concurrent task continues after the last saved page, nothing counted
twice. The replay acts as the admin who asked (their permission is checked again on every page)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from aftersales.accounts.permissions import Permission, check_perm, organization_of
from aftersales.core import events
from aftersales.core.actors import Actor
from aftersales.core.clock import now
from aftersales.core.errors import Conflict, DomainError, NotFound

from . import simulate
from .events import RuleSimulationQueued
from .simulation_run_models import FINISHED, SIMULATION_TRANSITIONS, RuleSimulationRun, SimulationStatus

FIRST_PAGE_EVENTS = 500  # the inline first page, and every page of the worker (same matches kept)
BACKGROUND_THRESHOLD = 2_000  # estimated events in the window above which the worker replays it
MAX_KEPT_MATCHES = 2_000  # matches kept on the run's row (the totals count them all)
KEEP_DAYS = 30  # finished runs older than this are deleted by the periodic clean-up


@dataclass(frozen=True)
class DryRunStart:
    result: simulate.SimulationResult  # the first page
    run: RuleSimulationRun | None  # the background run replaying the rest, if the window is big


@dataclass(frozen=True)
class StoredChange:
    action: str
    label: str
    field: str
    current: Any
    value: Any
    changes: bool


@dataclass(frozen=True)
class StoredMatch:
    event_key: str
    at: datetime
    ticket_id: int | None
    ticket_subject: str
    rma_id: int | None
    changes: tuple[StoredChange, ...]


def estimated_events(result: simulate.SimulationResult) -> int | None:
    """The window's events estimated from a first page (None: the trigger gives no progress)."""
    if result.next_cursor is None:
        return result.events_examined
    if result.progress <= 0:
        return None
    return round(result.events_examined / result.progress)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def match_json(match: simulate.SimulatedMatch) -> dict[str, Any]:
    return {
        "event_key": match.event_key,
        "at": match.at.isoformat(),
        "ticket_id": match.ticket_id,
        "ticket_subject": match.ticket_subject,
        "rma_id": match.rma_id,
        "changes": [
            {
                "action": c.action,
                "label": str(c.label),
                "field": c.field,
                "current": _jsonable(c.current),
                "value": _jsonable(c.value),
                "changes": c.changes,
            }
            for c in match.changes
        ],
    }


def simulation_start(
    user: Any, *, document: Any, days: Any, threshold: int | None = None, page_events: int | None = None
) -> DryRunStart:
    """The dry run of a draft `document` over the last `days` days: its first page, and the
    background run replaying the rest when the window is estimated above `threshold` events (or
    cannot be estimated). Admins only (simulate.rule_simulate checks the document and the days)."""
    threshold = BACKGROUND_THRESHOLD if threshold is None else threshold
    result = simulate.rule_simulate(user, document=document, days=days, row_cap=page_events or FIRST_PAGE_EVENTS)
    estimate = estimated_events(result)
    if result.next_cursor is None or (estimate is not None and estimate <= threshold):
        return DryRunStart(result=result, run=None)
    with transaction.atomic():
        run = RuleSimulationRun.objects.create(
            organization_id=organization_of(user),
            created_by=user,
            name=str(document.get("name") or "")[:120],
            trigger=result.trigger,
            document=document,
            days=result.days,
            since=result.since,
            until=result.until,
            status=SimulationStatus.QUEUED,
            progress=result.progress,
            cursor=result.next_cursor,
            events_examined=result.events_examined,
            matched=result.matched,
            change_counts=dict(result.change_counts),
            matches=[match_json(m) for m in result.matches[:MAX_KEPT_MATCHES]],
            duration_ms=result.duration_ms,
        )
        events.publish(RuleSimulationQueued(run_id=run.pk, organization_id=run.organization_id, actor=Actor.user(user)))
    return DryRunStart(result=result, run=run)


def _page(run_id: int) -> bool:
    """Replay the run's next page under its row lock and save it; False when nothing is left."""
    with transaction.atomic():
        run = (
            RuleSimulationRun.objects.select_for_update(of=("self",))
            .select_related("created_by")
            .filter(pk=run_id)
            .first()
        )
        if run is None or run.status in FINISHED:  # a cancelled run stops here, between two pages
            return False
        if run.created_by is None:
            run_transition(run, SimulationStatus.FAILED, error=_("the admin who asked is gone"))
            run.save(update_fields=["status", "error", "finished_at"])
            return False
        try:
            result = simulate.rule_simulate(
                run.created_by, document=run.document, days=run.days, row_cap=FIRST_PAGE_EVENTS, cursor=run.cursor
            )
        except DomainError as exc:
            run_transition(run, SimulationStatus.FAILED, error=exc.message)
            run.save(update_fields=["status", "error", "finished_at"])
            return False
        counts = dict(run.change_counts)
        for action, n in result.change_counts:
            counts[action] = counts.get(action, 0) + n
        room = MAX_KEPT_MATCHES - len(run.matches)
        run.matches = [*run.matches, *(match_json(m) for m in result.matches[: max(0, room)])]
        run.change_counts = counts
        run.events_examined += result.events_examined
        run.matched += result.matched
        run.duration_ms = round(run.duration_ms + result.duration_ms, 1)
        run.cursor = result.next_cursor or ""
        run.progress = result.progress
        run_transition(run, SimulationStatus.RUNNING if result.next_cursor else SimulationStatus.DONE)
        run.save()
        return result.next_cursor is not None


def run_transition(run: RuleSimulationRun, status: str, *, error: str = "") -> str:
    """The one writer of a run's status (SIMULATION_TRANSITIONS; the caller holds the row's lock and
    saves it): a finished run (done, failed, cancelled) never moves again. Returns the old status."""
    old = run.status
    if status not in SIMULATION_TRANSITIONS.get(old, frozenset()):
        raise Conflict(
            _("this dry run is %(old)s; it cannot become %(new)s") % {"old": old, "new": status}, field="status"
        )
    run.status = status
    if status in FINISHED:
        run.finished_at = now()
        run.cursor = "" if status == SimulationStatus.CANCELLED else run.cursor
    if error:
        run.error = error
    return old


def simulation_run_cancel(user: Any, run_id: int) -> RuleSimulationRun:
    """Cancel a queued or running dry run of the organization (admins): the worker stops before its
    next page (the page being replayed, under the row's lock, finishes and is kept). Cancelling a
    cancelled run again changes nothing; a done or failed run answers 409 naming `run_id`."""
    check_perm(user, Permission.ADMINISTER)
    with transaction.atomic():
        run = (
            RuleSimulationRun.objects.select_for_update()
            .filter(pk=run_id, organization_id=organization_of(user))
            .first()
        )
        if run is None:
            raise NotFound(_("Dry run not found"), field="run_id")
        if run.status == SimulationStatus.CANCELLED:
            return run
        if run.status in FINISHED:
            raise Conflict(
                _("this dry run is already %(status)s") % {"status": run.get_status_display()}, field="run_id"
            )
        run_transition(run, SimulationStatus.CANCELLED)
        run.save(update_fields=["status", "finished_at", "cursor"])
    return run


def simulation_runs_prune(*, days: int = KEEP_DAYS, at: datetime | None = None) -> int:
    """Delete the finished runs (done, failed, cancelled) that finished more than `days` days ago
    (the periodic clean-up, rules.tasks.prune_simulation_runs; idempotent: a second call deletes
    nothing). Queued and running runs are kept whatever their age. Returns how many were deleted."""
    cutoff = (at or now()) - timedelta(days=days)
    deleted, _by_model = RuleSimulationRun.objects.filter(status__in=FINISHED, finished_at__lt=cutoff).delete()
    return deleted


def simulation_run_continue(run_id: int) -> str:
    """Replay the run to its end (the worker's task); returns its status."""
    while _page(run_id):
        pass
    status = RuleSimulationRun.objects.filter(pk=run_id).values_list("status", flat=True).first()
    return str(status or "")


# --------------------------------------------------------------------------- reads


def simulation_runs_recent(user: Any, *, limit: int = 20) -> QuerySet[RuleSimulationRun]:
    """The organization's latest background dry runs (admins)."""
    check_perm(user, Permission.ADMINISTER)
    return (
        RuleSimulationRun.objects.filter(organization_id=organization_of(user))
        .defer("matches", "document", "cursor")
        .select_related("created_by")
        .order_by("-created_at", "-pk")[:limit]
    )


def simulation_run_detail(user: Any, run_id: int) -> RuleSimulationRun:
    check_perm(user, Permission.ADMINISTER)
    run = RuleSimulationRun.objects.filter(pk=run_id, organization_id=organization_of(user)).first()
    if run is None:
        raise NotFound(_("Dry run not found"), field="run_id")
    return run


def stored_matches(run: RuleSimulationRun) -> tuple[StoredMatch, ...]:
    """The run's kept matches as the result page shows them."""
    return tuple(
        StoredMatch(
            event_key=m["event_key"],
            at=datetime.fromisoformat(m["at"]),
            ticket_id=m.get("ticket_id"),
            ticket_subject=m.get("ticket_subject", ""),
            rma_id=m.get("rma_id"),
            changes=tuple(StoredChange(**c) for c in m.get("changes", [])),
        )
        for m in run.matches
    )
