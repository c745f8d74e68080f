"""Conflicts from the database (rules/conflict_check.py): a draft against the enabled rules of its
organization and trigger, and the refusal to enable approve-vs-reject pairs (warnings never refuse)."""

from __future__ import annotations

from typing import Any

import pytest

from aftersales.core.errors import Conflict
from aftersales.rules.conflict_check import check_enable, rule_conflicts, saved_rule_conflicts, schedule_windows
from aftersales.rules.models import Rule, RuleVersion

REJECT = [{"type": "reject_return", "params": {"reason": "late"}}]
APPROVE = [{"type": "approve_return", "params": {}}]
HIGH = [{"type": "set_urgency", "params": {"urgency": "high"}}]
LOW = [{"type": "set_urgency", "params": {"urgency": "low"}}]


def make_rule(org: Any, name: str, actions: list[dict[str, Any]], *, enabled: bool = True, **doc: Any) -> Rule:
    rule = Rule.objects.create(
        organization=org, name=name, trigger=doc.pop("trigger", "rma_requested"), enabled=enabled
    )
    version = RuleVersion.objects.create(
        rule=rule, number=1, actions=actions, conditions=doc.pop("conditions", {}), **doc
    )
    rule.current_version = version
    rule.save(update_fields=["current_version"])
    return rule


@pytest.mark.django_db
def test_draft_conflicts_with_enabled_rules_of_its_organization_and_trigger(world: Any) -> None:
    rejecting = make_rule(world.org, "Reject late returns", REJECT)
    make_rule(world.org, "Disabled approver", APPROVE, enabled=False)
    make_rule(world.org, "Other trigger", REJECT, trigger="ticket_created")
    make_rule(world.foreign_org, "Foreign rejecter", REJECT)
    found = rule_conflicts(
        organization_id=world.org.pk, document={"actions": APPROVE}, trigger="rma_requested", name="Approve all"
    )
    assert [(c.second.rule_id, c.target, c.blocking) for c in found] == [(rejecting.pk, "rma.decision", True)]
    scoped = rule_conflicts(
        organization_id=world.org.pk,
        document={"actions": APPROVE, "scope": {"platforms": ["ebay"]}},
        trigger="rma_requested",
        name="Approve eBay",
    )
    assert len(scoped) == 1  # the rejecting rule has no scope: it covers eBay too
    rejecting.current_version.scope = {"platforms": ["amazon"]}
    RuleVersion.objects.filter(pk=rejecting.current_version_id).update(scope={"platforms": ["amazon"]})
    assert (
        rule_conflicts(
            organization_id=world.org.pk,
            document={"actions": APPROVE, "scope": {"platforms": ["ebay"]}},
            trigger="rma_requested",
            name="Approve eBay",
        )
        == []
    )


@pytest.mark.django_db
def test_enabling_is_refused_only_for_blocking_conflicts(world: Any) -> None:
    make_rule(world.org, "Reject late returns", REJECT)
    approver = make_rule(world.org, "Approve all", APPROVE, enabled=False)
    with pytest.raises(Conflict) as err:
        check_enable(organization_id=world.org.pk, rules=[approver])
    assert err.value.field == "rule_ids" and "Reject late returns" in err.value.message
    assert [c.blocking for c in saved_rule_conflicts(approver)] == [True]
    high = make_rule(world.org, "High", HIGH, trigger="ticket_created")
    low = make_rule(world.org, "Low", LOW, trigger="ticket_created", enabled=False)
    check_enable(organization_id=world.org.pk, rules=[low])  # a warning only
    assert [c.second.rule_id for c in saved_rule_conflicts(low)] == [high.pk]


@pytest.mark.django_db
def test_a_batch_cannot_enable_both_sides(world: Any) -> None:
    a = make_rule(world.org, "Approve", APPROVE, enabled=False)
    b = make_rule(world.org, "Reject", REJECT, enabled=False)
    check_enable(organization_id=world.org.pk, rules=[a])
    with pytest.raises(Conflict):
        check_enable(organization_id=world.org.pk, rules=[a, b])
    # disjoint schedules: both may be enabled
    RuleVersion.objects.filter(pk=a.current_version_id).update(
        schedule={"windows": [{"start": "2026-11-10T00:00:00+08:00", "end": "2026-11-12T00:00:00+08:00"}]}
    )
    RuleVersion.objects.filter(pk=b.current_version_id).update(
        schedule={"windows": [{"start": "2026-11-12T00:00:00+08:00", "end": "2026-11-13T00:00:00+08:00"}]}
    )
    check_enable(
        organization_id=world.org.pk, rules=Rule.objects.filter(pk__in=[a.pk, b.pk]).select_related("current_version")
    )


def test_schedule_windows() -> None:
    assert schedule_windows({}) == [] and schedule_windows(None) == []
    ((start, end),) = schedule_windows({"windows": [{"start": "2026-11-10T00:00:00+08:00"}]})
    assert start is not None and start.utcoffset() is not None and end is None
