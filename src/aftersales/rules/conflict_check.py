"""Conflicts of a rule with the organization's other enabled rules, from the database (the pure check
is rules.conflicts): shown when a rule is saved (API and UI), and the refusal to enable a rule while
a blocking conflict (approve or refund vs reject a return) stands with another enabled rule or with
another rule enabled in the same batch. docs/rules.md "Conflicts"."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from aftersales.core.errors import Conflict

from .conflicts import RuleConflict, RuleSpec, find_conflicts
from .models import Rule


def decision_label(decision: str) -> str:
    labels = {
        "approve": _("approve"),
        "reject": _("reject"),
        "refund": _("refund"),
        "request_evidence": _("ask for evidence on"),
    }
    return labels.get(decision, decision)


def _instant(value: Any) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) else None


def schedule_windows(schedule: Any) -> list[tuple[datetime | None, datetime | None]]:
    """The schedule's active windows [start, end) ("windows": [{"start", "end"}]); none: always."""
    windows = schedule.get("windows") if isinstance(schedule, Mapping) else None
    if not isinstance(windows, list):
        return []
    return [(_instant(w.get("start")), _instant(w.get("end"))) for w in windows if isinstance(w, Mapping)]


def spec_from_document(
    document: Mapping[str, Any], *, rule_id: int | None, name: str, trigger: str, enabled: bool = True
) -> RuleSpec:
    actions = document.get("actions")
    scope = document.get("scope")
    return RuleSpec(
        rule_id=rule_id,
        name=name,
        trigger=trigger,
        conditions=document.get("conditions") if isinstance(document.get("conditions"), Mapping) else None,
        actions=[a for a in actions if isinstance(a, Mapping)] if isinstance(actions, list) else [],
        scope=scope if isinstance(scope, Mapping) else {},
        windows=schedule_windows(document.get("schedule")),
        enabled=enabled,
    )


def spec_from_rule(rule: Rule) -> RuleSpec:
    version = rule.current_version
    document = version.document() if version is not None else {}
    return spec_from_document(document, rule_id=rule.pk, name=rule.name, trigger=rule.trigger, enabled=rule.enabled)


def _enabled_rules(organization_id: int, trigger: str | None = None) -> list[RuleSpec]:
    rows = Rule.objects.filter(organization_id=organization_id, enabled=True, current_version__isnull=False)
    if trigger is not None:
        rows = rows.filter(trigger=trigger)
    return [spec_from_rule(r) for r in rows.select_related("current_version").order_by("priority", "pk")]


def rule_conflicts(
    *, organization_id: int, document: Mapping[str, Any], trigger: str, name: str, rule_id: int | None = None
) -> list[RuleConflict]:
    """The contradictions between a rule document (saved or a draft) and the organization's enabled rules."""
    spec = spec_from_document(document, rule_id=rule_id, name=name, trigger=trigger)
    return find_conflicts(spec, _enabled_rules(organization_id, trigger))


def saved_rule_conflicts(rule: Rule) -> list[RuleConflict]:
    """The contradictions of a saved rule's current version with the other enabled rules."""
    return find_conflicts(spec_from_rule(rule), _enabled_rules(rule.organization_id, rule.trigger))


def check_enable(*, organization_id: int, rules: Iterable[Rule]) -> None:
    """Refuse (409 naming `rule_ids`) to enable rules with a blocking conflict among themselves or with a
    rule already enabled. Warnings never refuse. Call before enabling, in the enabling transaction."""
    batch = [spec_from_rule(r) for r in rules]
    batch_ids = {s.rule_id for s in batch}
    others = [s for s in _enabled_rules(organization_id) if s.rule_id not in batch_ids]
    for i, spec in enumerate(batch):
        peers = [*others, *(replace(b, enabled=True) for b in batch[i + 1 :])]
        blocking = [c for c in find_conflicts(spec, peers) if c.blocking]
        if blocking:
            c = blocking[0]
            raise Conflict(
                _("%(rule)s cannot be enabled: it would %(mine)s returns that %(other)s would %(theirs)s")
                % {
                    "rule": spec.name,
                    "mine": decision_label(c.first.value),
                    "other": c.second.rule_name,
                    "theirs": decision_label(c.second.value),
                },
                field="rule_ids",
                code="rule_conflict",
            )
