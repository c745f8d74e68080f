"""Rules (issue 11 §1): CRUD of rule documents (organization admins; every edit of the content writes
a new version), enabling and disabling, versions, execution logs per rule (admins) and per ticket
(whoever sees the ticket). Another organization's ids answer 404."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status

from aftersales.rules import selectors, services
from aftersales.rules.models import Rule, RuleExecution, RuleVersion

from ..auth import current_user
from ..schemas.common import Id, with_errors
from ..schemas.rules import (
    RuleBatchEnableIn,
    RuleExecutionOut,
    RuleFieldOut,
    RuleIn,
    RuleOut,
    RuleVersionOut,
)

router = Router(tags=["rules"])


def _limit(version: RuleVersion | None) -> dict[str, str] | None:
    if version is None or version.approval_limit_amount is None:
        return None
    return {"amount": str(version.approval_limit_amount), "currency": version.approval_limit_currency}


def _version_out(version: RuleVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "conditions": version.conditions,
        "actions": version.actions,
        "scope": version.scope,
        "schedule": version.schedule,
        "stop_further": version.stop_further,
        "approval_limit": _limit(version),
        "created_by_id": version.created_by_id,
        "created_at": version.created_at,
    }


def _rule_out(rule: Rule) -> dict[str, Any]:
    """The rule with its current version's document (an empty one while it has none)."""
    version = rule.current_version
    document = _version_out(version) if version else {}
    return {
        "id": rule.pk,
        "name": rule.name,
        "trigger": rule.trigger,
        "enabled": rule.enabled,
        "priority": rule.priority,
        "specificity": rule.specificity,
        "version": document.get("number", 0),
        "conditions": document.get("conditions", {}),
        "actions": document.get("actions", []),
        "scope": document.get("scope", {}),
        "schedule": document.get("schedule", {}),
        "stop_further": document.get("stop_further", False),
        "approval_limit": document.get("approval_limit"),
        "created_at": rule.created_at,
        "updated_at": rule.updated_at,
    }


def _execution_out(row: RuleExecution) -> dict[str, Any]:
    return {
        "id": row.pk,
        "rule_id": row.rule_id,
        "rule_name": row.rule.name,
        "version": row.version.number,
        "trigger": row.trigger,
        "event_key": row.event_key,
        "ticket_id": row.ticket_id,
        "rma_id": row.rma_id,
        "chain_depth": row.chain_depth,
        "outcome": row.outcome,
        "matched": row.matched,
        "actions": row.actions,
        "duration_ms": row.duration_ms,
        "created_at": row.created_at,
    }


def _document(payload: RuleIn) -> dict[str, Any]:
    return payload.model_dump(mode="json")


@router.get("/rules", response=with_errors({200: list[RuleOut]}))
def list_rules(request: HttpRequest) -> Any:
    """The organization's rules, by trigger then evaluation order. Admins only."""
    return [_rule_out(r) for r in selectors.rule_list(current_user(request))]


@router.post("/rules", response=with_errors({201: RuleOut}))
def create_rule(request: HttpRequest, payload: RuleIn) -> Status[Any]:
    """Create a rule (version 1). 422 names the JSON path of what is refused (`conditions.all[2].op`,
    `actions[0].params.team_id`, `scope.platforms[0]`); nothing is saved then. Admins only."""
    return Status(201, _rule_out(services.rule_create(user=current_user(request), data=_document(payload))))


@router.get("/rules/fields", response=with_errors({200: list[RuleFieldOut]}))
def list_rule_fields(request: HttpRequest) -> Any:
    """The fields conditions can read, with their types and choices."""
    current_user(request)
    return selectors.rule_fields()


@router.post("/rules/enabled", response=with_errors({200: list[RuleOut]}))
def set_rules_enabled(request: HttpRequest, payload: RuleBatchEnableIn) -> Any:
    """Enable or disable several rules at once (all or none). Admins only."""
    rules = services.rules_set_enabled(user=current_user(request), rule_ids=payload.rule_ids, enabled=payload.enabled)
    return [_rule_out(r) for r in rules]


@router.get("/rules/{rule_id}", response=with_errors({200: RuleOut}))
def get_rule(request: HttpRequest, rule_id: Id) -> Any:
    return _rule_out(selectors.rule_detail(current_user(request), rule_id))


@router.put("/rules/{rule_id}", response=with_errors({200: RuleOut}))
def update_rule(request: HttpRequest, rule_id: Id, payload: RuleIn) -> Any:
    """Replace the rule's document; a change of its content writes the next version."""
    return _rule_out(services.rule_update(user=current_user(request), rule_id=rule_id, data=_document(payload)))


@router.delete("/rules/{rule_id}", response=with_errors({204: None}))
def delete_rule(request: HttpRequest, rule_id: Id) -> Status[None]:
    services.rule_delete(user=current_user(request), rule_id=rule_id)
    return Status(204, None)


@router.post("/rules/{rule_id}/enable", response=with_errors({200: RuleOut}))
def enable_rule(request: HttpRequest, rule_id: Id) -> Any:
    return _rule_out(services.rules_set_enabled(user=current_user(request), rule_ids=[rule_id], enabled=True)[0])


@router.post("/rules/{rule_id}/disable", response=with_errors({200: RuleOut}))
def disable_rule(request: HttpRequest, rule_id: Id) -> Any:
    return _rule_out(services.rules_set_enabled(user=current_user(request), rule_ids=[rule_id], enabled=False)[0])


@router.get("/rules/{rule_id}/versions", response=with_errors({200: list[RuleVersionOut]}))
def list_rule_versions(request: HttpRequest, rule_id: Id) -> Any:
    return [_version_out(v) for v in selectors.rule_versions(current_user(request), rule_id)]


@router.get("/rules/{rule_id}/executions", response=with_errors({200: list[RuleExecutionOut]}))
def list_rule_executions(request: HttpRequest, rule_id: Id) -> Any:
    """The rule's last 200 executions (matched conditions, actions and their results or errors)."""
    return [_execution_out(r) for r in selectors.rule_executions(current_user(request), rule_id)]


@router.get("/tickets/{ticket_id}/rule-executions", response=with_errors({200: list[RuleExecutionOut]}))
def list_ticket_rule_executions(request: HttpRequest, ticket_id: Id) -> Any:
    """What rules did on the ticket (whoever sees the ticket)."""
    return [_execution_out(r) for r in selectors.ticket_rule_executions(current_user(request), ticket_id)]
