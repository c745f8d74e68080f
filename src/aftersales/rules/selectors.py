"""Rule reads. Rules, their versions and their logs are the organization admins' (ADMINISTER); the
execution log of a ticket is readable by whoever sees the ticket (accounts.permissions)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from aftersales.accounts.permissions import Permission, check_perm, check_ticket, organization_of
from aftersales.core.errors import NotFound
from aftersales.inbox.models import Ticket

from .fields import FIELDS
from .models import Rule, RuleExecution, RuleVersion

MAX_LOG_ROWS = 200


def rule_list(user: Any) -> QuerySet[Rule]:
    check_perm(user, Permission.ADMINISTER)
    return (
        Rule.objects.filter(organization_id=organization_of(user))
        .select_related("current_version")
        .order_by("trigger", "priority", "-specificity", "pk")
    )


def rule_detail(user: Any, rule_id: int) -> Rule:
    rule = rule_list(user).filter(pk=rule_id).first()
    if rule is None:
        raise NotFound(_("Rule not found"), field="rule_id")
    return rule


def rule_versions(user: Any, rule_id: int) -> QuerySet[RuleVersion]:
    rule = rule_detail(user, rule_id)
    return RuleVersion.objects.filter(rule=rule).order_by("-number")


def rule_executions(user: Any, rule_id: int, *, limit: int = MAX_LOG_ROWS) -> list[RuleExecution]:
    rule = rule_detail(user, rule_id)
    return with_deliveries(
        list(
            RuleExecution.objects.filter(rule=rule)
            .select_related("rule", "version")
            .order_by("-created_at", "-pk")[: min(limit, MAX_LOG_ROWS)]
        )
    )


def ticket_rule_executions(user: Any, ticket_id: int, *, limit: int = MAX_LOG_ROWS) -> list[RuleExecution]:
    """What rules did on a ticket (newest first), for whoever may see the ticket (else NotFound)."""
    ticket = Ticket.objects.filter(pk=ticket_id, organization_id=organization_of(user)).first()
    if ticket is None:
        raise NotFound(_("Ticket not found"), field="ticket_id")
    check_ticket(user, ticket)
    return with_deliveries(
        list(
            RuleExecution.objects.filter(ticket=ticket, organization_id=ticket.organization_id)
            .select_related("rule", "version")
            .order_by("-created_at", "-pk")[: min(limit, MAX_LOG_ROWS)]
        )
    )


def with_deliveries(executions: list[RuleExecution]) -> list[RuleExecution]:
    """Each notify action's log entry with how its outbox rows went (one query for the page): a
    `deliveries` list of {outbox_id, kind, status, attempts, error}, in memory only. A webhook that
    failed shows here, in the rule's log and the ticket's, and in the API's `actions`."""
    from aftersales.notifications.selectors import outbox_for_sources

    rows = outbox_for_sources([f"rule_execution:{x.pk}" for x in executions])
    for execution in executions:
        sent = {m.pk: m for m in rows.get(f"rule_execution:{execution.pk}", [])}
        if not sent:
            continue
        for entry in execution.actions:
            result = entry.get("result") if isinstance(entry, dict) else None
            if not isinstance(result, dict):
                continue
            ids = [result["outbox_id"]] if "outbox_id" in result else [o["outbox_id"] for o in result.get("outbox", [])]
            entry["deliveries"] = [
                {
                    "outbox_id": m.pk,
                    "kind": m.kind,
                    "status": m.status,
                    "attempts": m.attempts,
                    "error": m.last_error,
                }
                for m in (sent.get(i) for i in ids)
                if m is not None
            ]
    return executions


def rule_fields() -> list[dict[str, Any]]:
    """The fields conditions may read, with their types and choices (the condition builder)."""
    return [{"path": f.path, "type": f.type, "label": f.label, "choices": list(f.choices)} for f in FIELDS.values()]
