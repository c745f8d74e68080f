"""Rules tooling (issue 11 §1, docs/rules.md): the dry run over the last N days of history, conflicts of
a draft or a saved rule with the enabled rules, and A/B experiments with their per-arm outcomes.
Organization admins only; another organization's ids answer 404. Registered before the rules CRUD
router so its literal paths (/rules/simulate, /rules/experiments) are not taken for a rule id."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status

from aftersales.rules import (
    conflict_review,
    experiment_results,
    experiments,
    services,
    simulate,
    simulation_runs,
    webhook_secrets,
)
from aftersales.rules.conflicts import RuleConflict
from aftersales.rules.experiment_models import RuleExperiment

from ..auth import current_user
from ..schemas.common import Id, with_errors
from ..schemas.rules_tools import (
    ExperimentResultsOut,
    RuleConflictOut,
    RuleConflictsIn,
    RuleExperimentIn,
    RuleExperimentOut,
    RuleSimulateIn,
    RuleWebhookSecretOut,
    RuleWebhookSecretRotateIn,
    RuleWebhookSigningOut,
    SimulationOut,
    SimulationRunDetailOut,
    SimulationRunOut,
    WebhookSecretOut,
)

router = Router(tags=["rules"])


def _side(side: Any) -> dict[str, Any]:
    return {"rule_id": side.rule_id, "rule_name": side.rule_name, "action": side.action, "value": side.value}


def _conflict_out(c: RuleConflict) -> dict[str, Any]:
    return {"target": c.target, "severity": str(c.severity), "rule": _side(c.first), "other": _side(c.second)}


def _experiment_out(row: RuleExperiment) -> dict[str, Any]:
    return {
        "id": row.pk,
        "rule_id": row.rule_id,
        "rule_name": row.rule.name,
        "version": row.version.number,
        "treatment_percent": row.treatment_percent,
        "started_at": row.started_at,
        "ended_at": row.ended_at,
    }


@router.get("/rules/webhook-secret", response=with_errors({200: WebhookSecretOut}))
def get_webhook_secret(request: HttpRequest) -> Any:
    """The organization's webhook signing secret (made on first use; stored encrypted). Admins."""
    return {"secret": services.webhook_signing_secret(user=current_user(request))}


@router.post("/rules/webhook-secret/rotate", response=with_errors({200: WebhookSecretOut}))
def rotate_webhook_secret(request: HttpRequest, grace_hours: int = 0) -> Any:
    """A new signing secret (give it to the receivers): signing at once with `grace_hours` 0, else
    pending while the old one keeps signing for that many hours (1 to 72; one secret signs at a time;
    422 naming `grace_hours` otherwise). Admins; audited."""
    return {"secret": services.webhook_signing_secret(user=current_user(request), rotate=True, grace_hours=grace_hours)}


@router.get("/rules/{rule_id}/webhook-secrets", response=with_errors({200: list[RuleWebhookSigningOut]}))
def list_rule_webhook_secrets(request: HttpRequest, rule_id: int) -> Any:
    """The URLs the rule's webhook actions sign with the rule's own secret (`"signing": "rule"`), and
    whether each secret is made; never the secrets. Admins; another organization's rule answers 404."""
    return webhook_secrets.rule_webhook_secrets(current_user(request), rule_id)


@router.post("/rules/{rule_id}/webhook-secrets/rotate", response=with_errors({200: RuleWebhookSecretOut}))
def rotate_rule_webhook_secret(request: HttpRequest, rule_id: int, payload: RuleWebhookSecretRotateIn) -> Any:
    """Make or replace the rule's signing secret for one of its webhook URLs: shown on this answer
    only, it signs every delivery sent from now on (the old one stops at once). 422 naming `url` when no
    webhook action of the rule's current version sends there with `"signing": "rule"`. Admins."""
    made = webhook_secrets.rule_webhook_secret_rotate(
        user=current_user(request), rule_id=rule_id, url=payload.url, via="api"
    )
    return {
        "url": made.url,
        "secret": made.secret,
        "rotated_at": made.rotated_at,
        "signing_key": f"{webhook_secrets.KEY_PREFIX}:{rule_id}",
    }


def _run_out(run: Any, *, detail: bool = False) -> dict[str, Any]:
    out = {
        k: getattr(run, k)
        for k in ("name", "rule_id", "trigger", "days", "since", "until", "status", "progress", "events_examined")
    }
    out.update({k: getattr(run, k) for k in ("matched", "change_counts", "duration_ms", "error", "created_at")})
    out.update(id=run.pk, finished_at=run.finished_at, created_by=str(run.created_by or ""))
    if detail:
        out.update(document=run.document, matches=run.matches)
    return out


@router.get("/rules/simulation-runs", response=with_errors({200: list[SimulationRunOut]}))
def list_simulation_runs(request: HttpRequest) -> Any:
    """The organization's latest 20 background dry runs (the editor starts one when a window is too big
    to replay inline), newest first, without their matches. Admins."""
    return [_run_out(r) for r in simulation_runs.simulation_runs_recent(current_user(request))]


@router.get("/rules/simulation-runs/{run_id}", response=with_errors({200: SimulationRunDetailOut}))
def get_simulation_run(request: HttpRequest, run_id: Id) -> Any:
    """One background dry run: its progress, totals, document and the matches kept. Admins; another
    organization's run answers 404 naming `run_id`."""
    return _run_out(simulation_runs.simulation_run_detail(current_user(request), run_id), detail=True)


@router.post("/rules/simulation-runs/{run_id}/cancel", response=with_errors({200: SimulationRunOut}))
def cancel_simulation_run(request: HttpRequest, run_id: Id) -> Any:
    """Cancel a queued or running dry run: the worker stops before its next page (what was replayed is
    kept). Cancelling a cancelled run again answers it unchanged; a done or failed run answers 409 naming
    `run_id`; another organization's run 404. Admins."""
    return _run_out(simulation_runs.simulation_run_cancel(current_user(request), run_id))


@router.post("/rules/simulate", response=with_errors({200: SimulationOut}))
def simulate_rule(request: HttpRequest, payload: RuleSimulateIn) -> Any:
    """Dry run: replay the last `days` days (1-90) of the organization's history through a draft
    `document` or a saved rule (`rule_id`, `version`), each ticket as it was at each event (rebuilt
    from its audit history), one page at a time: at most `row_cap` events examined and 200 matches
    per call, `next_cursor` for the next page (same document), `progress` of the window. Nothing is
    written and no action runs; each match lists what each action would change. 422 names the field
    (`days`, `trigger`, `conditions.all[0].op`...). Admins only."""
    result = simulate.rule_simulate(
        current_user(request),
        document=payload.document,
        rule_id=payload.rule_id,
        version=payload.version,
        days=payload.days,
        row_cap=payload.row_cap,
        cursor=payload.cursor,
    )
    return {
        **{k: getattr(result, k) for k in ("trigger", "rule_id", "since", "until", "days", "row_cap")},
        **{k: getattr(result, k) for k in ("events_examined", "matched", "truncated", "duration_ms")},
        **{k: getattr(result, k) for k in ("next_cursor", "progress")},
        "version": result.version_number,
        "change_counts": [{"action": a, "count": n} for a, n in result.change_counts],
        "matches": [
            {
                "event_key": m.event_key,
                "at": m.at,
                "ticket_id": m.ticket_id,
                "ticket_subject": m.ticket_subject,
                "rma_id": m.rma_id,
                "changes": [{**vars(c), "changes": c.changes} for c in m.changes],
            }
            for m in result.matches
        ],
    }


@router.post("/rules/conflicts", response=with_errors({200: list[RuleConflictOut]}))
def draft_rule_conflicts(request: HttpRequest, payload: RuleConflictsIn) -> Any:
    """The enabled rules a draft would contradict (same trigger, overlapping scope, schedule and
    conditions; different values for the same field, or another decision on a return). Blocking
    conflicts (approve or refund vs reject) refuse enabling; warnings do not. Admins only."""
    found = conflict_review.draft_conflicts(current_user(request), document=payload.document, rule_id=payload.rule_id)
    return [_conflict_out(c) for c in found]


@router.get("/rules/experiments", response=with_errors({200: list[RuleExperimentOut]}))
def list_rule_experiments(request: HttpRequest) -> Any:
    """The organization's experiments, newest first. Admins only."""
    return [_experiment_out(e) for e in experiment_results.experiment_list(current_user(request))]


@router.get("/rules/experiments/{experiment_id}", response=with_errors({200: ExperimentResultsOut}))
def get_rule_experiment(request: HttpRequest, experiment_id: Id) -> Any:
    """Outcomes per arm: tickets, resolution time, CSAT (or csat_available=false), refund cost per
    currency, reopen rate; and whether the arms differ (`tests`: Mann-Whitney U on resolution hours
    and CSAT, two-proportion z-test on the reopen rate, p < 0.05 significant)."""
    result = experiment_results.experiment_results(current_user(request), experiment_id)
    return {
        "experiment": {
            "id": result.experiment_id,
            "version": result.version_number,
            **{k: getattr(result, k) for k in ("rule_id", "rule_name", "treatment_percent", "started_at", "ended_at")},
        },
        "is_current_version": result.is_current_version,
        "csat_available": result.csat_available,
        "arms": [
            {
                **{k: v for k, v in vars(arm).items() if k != "refund_totals"},
                "reopen_rate": arm.reopen_rate,
                "refund_totals": [{"currency": m.currency, "amount": str(m.amount)} for m in arm.refund_totals],
            }
            for arm in result.arms
        ],
        "tests": [{**vars(t), "significant": t.significant} for t in result.tests],
    }


@router.post("/rules/experiments/{experiment_id}/stop", response=with_errors({200: RuleExperimentOut}))
def stop_rule_experiment(request: HttpRequest, experiment_id: Id) -> Any:
    """End the experiment: the rule acts on every matching ticket again. 409 if it has ended."""
    row = experiments.experiment_stop(user=current_user(request), experiment_id=experiment_id)
    return _experiment_out(row)


@router.get("/rules/{rule_id}/conflicts", response=with_errors({200: list[RuleConflictOut]}))
def saved_rule_conflicts(request: HttpRequest, rule_id: Id) -> Any:
    """The conflicts of the rule's current version with the other enabled rules. Admins only."""
    return [_conflict_out(c) for c in conflict_review.rule_conflicts_of(current_user(request), rule_id)]


@router.post("/rules/{rule_id}/experiments", response=with_errors({201: RuleExperimentOut}))
def start_rule_experiment(request: HttpRequest, rule_id: Id, payload: RuleExperimentIn) -> Status[Any]:
    """Start an A/B experiment on the rule's current version: tickets split by a hash of their id,
    `treatment_percent` (1-99) acted on, the rest left alone (control). 409 if one is running."""
    row = experiments.experiment_start(
        user=current_user(request), rule_id=rule_id, treatment_percent=payload.treatment_percent
    )
    return Status(201, _experiment_out(row))
