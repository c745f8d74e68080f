"""Rule writes (organization admins; the API and the admin UI call these). A rule document is
checked as a whole before anything is written (every refusal names its JSON path: "conditions.all[2].op",
"actions[1].params.team_id", "scope.platforms[0]"); content edits write a new immutable version."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from aftersales.accounts.permissions import Permission, check_perm, organization_of
from aftersales.catalog.models import Store
from aftersales.core.errors import NotFound
from aftersales.core.validation import check_text, parse_ids

from .actions import check_actions
from .conditions import check_conditions, path_error
from .conflict_check import check_enable
from .engine import organization_calendars
from .models import Rule, RuleTrigger, RuleVersion
from .schedules import check_schedule
from .scopes import check_scope, specificity

DOCUMENT_KEYS = frozenset(
    {
        "name",
        "trigger",
        "priority",
        "enabled",
        "conditions",
        "actions",
        "scope",
        "schedule",
        "stop_further",
        "approval_limit",
    }
)
MAX_RULES_PER_ORGANIZATION = 5000


@dataclass(frozen=True)
class CheckedRule:
    name: str
    trigger: str
    priority: int
    enabled: bool
    conditions: dict[str, Any]
    actions: list[dict[str, Any]]
    scope: dict[str, Any]
    schedule: dict[str, Any]
    stop_further: bool
    approval_limit: tuple[Decimal, str] | None

    def content(self) -> dict[str, Any]:
        """What a version holds (a change of these makes a new version)."""
        return {
            "conditions": self.conditions,
            "actions": self.actions,
            "scope": self.scope,
            "schedule": self.schedule,
            "stop_further": self.stop_further,
            "approval_limit_amount": self.approval_limit[0] if self.approval_limit else None,
            "approval_limit_currency": self.approval_limit[1] if self.approval_limit else "",
        }


def _approval_limit(raw: Any) -> tuple[Decimal, str] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) != {"amount", "currency"}:
        raise path_error("approval_limit", _('must be {"amount": "50.00", "currency": "EUR"} or null'))
    currency = raw["currency"]
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise path_error("approval_limit.currency", _("a three-letter currency code"))
    try:
        amount = Decimal(str(raw["amount"])) if not isinstance(raw["amount"], bool) else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0 or amount > Decimal("1000000"):
        raise path_error("approval_limit.amount", _("an amount from 0 to 1000000"))
    return amount.quantize(Decimal("0.0001")), currency


def check_rule_document(data: Any, *, organization_id: int) -> CheckedRule:
    """The whole document checked, nothing written. Conditions, actions, scope and schedule are
    checked against the organization (its calendars, teams, agents, templates, stores)."""
    if not isinstance(data, Mapping):
        raise path_error("body", _("must be an object"))
    unknown = sorted(set(data) - DOCUMENT_KEYS)
    if unknown:
        raise path_error(unknown[0], _("unknown key"))
    name = check_text(data.get("name", ""), field="name", max_length=120, required=True, one_line=True).strip()
    trigger = data.get("trigger")
    if trigger not in RuleTrigger.values:
        raise path_error("trigger", _("must be one of %(choices)s") % {"choices": ", ".join(RuleTrigger.values)})
    priority = data.get("priority", 100)
    if isinstance(priority, bool) or not isinstance(priority, int) or not -10_000 <= priority <= 10_000:
        raise path_error("priority", _("a whole number from -10000 to 10000"))
    enabled = data.get("enabled", False)
    stop_further = data.get("stop_further", False)
    for key, value in (("enabled", enabled), ("stop_further", stop_further)):
        if not isinstance(value, bool):
            raise path_error(key, _("must be true or false"))
    if "conditions" not in data:
        raise path_error("conditions", _('required (use {"all": []} to match every event)'))
    conditions = data["conditions"]
    calendars = organization_calendars(organization_id)
    check_conditions(conditions, calendars=calendars)
    if trigger == RuleTrigger.TICKET_IDLE:
        from .idle import check_idle_conditions

        check_idle_conditions(conditions)
    actions = check_actions(data.get("actions"), organization_id=organization_id)
    stores = frozenset(Store.objects.filter(organization_id=organization_id).values_list("pk", flat=True))
    scope = check_scope(data.get("scope"), store_ids=stores)
    schedule = check_schedule(data.get("schedule"), calendars=calendars)
    return CheckedRule(
        name=name,
        trigger=str(trigger),
        priority=priority,
        enabled=enabled,
        conditions=conditions,
        actions=actions,
        scope=scope,
        schedule=schedule,
        stop_further=stop_further,
        approval_limit=_approval_limit(data.get("approval_limit")),
    )


def _new_version(rule: Rule, checked: CheckedRule, *, user: Any, number: int) -> RuleVersion:
    version = RuleVersion.objects.create(rule=rule, number=number, created_by=user, **checked.content())
    rule.current_version = version
    rule.specificity = specificity(checked.scope)
    return version


def _save_named(rule: Rule, fields: list[str] | None = None) -> None:
    try:
        with transaction.atomic():
            rule.save(update_fields=fields) if fields else rule.save()
    except IntegrityError:
        raise path_error("name", _("another rule has this name")) from None


def rule_create(*, user: Any, data: Any) -> Rule:
    """Create a rule and its version 1 (ADMINISTER). Nothing is written when any part is refused."""
    check_perm(user, Permission.ADMINISTER)
    organization_id = organization_of(user)
    checked = check_rule_document(data, organization_id=organization_id)
    with transaction.atomic():
        if Rule.objects.filter(organization_id=organization_id).count() >= MAX_RULES_PER_ORGANIZATION:
            raise path_error("name", _("the organization has too many rules"))
        rule = Rule(
            organization_id=organization_id,
            name=checked.name,
            trigger=checked.trigger,
            priority=checked.priority,
            enabled=False,
        )
        _save_named(rule)
        _new_version(rule, checked, user=user, number=1)
        if checked.enabled:
            check_enable(organization_id=organization_id, rules=[rule])
        rule.enabled = checked.enabled
        rule.save(update_fields=["current_version", "specificity", "enabled", "updated_at"])
    return rule


def _locked(user: Any, rule_id: int) -> Rule:
    rule = Rule.objects.select_for_update().filter(pk=rule_id, organization_id=organization_of(user)).first()
    if rule is None:
        raise NotFound(_("Rule not found"), field="rule_id")
    return rule


def rule_update(*, user: Any, rule_id: int, data: Any) -> Rule:
    """Replace a rule's document (ADMINISTER): name, trigger, priority and enabled change on the
    rule; a change of conditions, actions, scope, schedule, stop or limit writes the next version.
    Locks the rule row."""
    check_perm(user, Permission.ADMINISTER)
    checked = check_rule_document(data, organization_id=organization_of(user))
    with transaction.atomic():
        rule = _locked(user, rule_id)
        current = rule.current_version
        content = checked.content()
        if current is None or any(getattr(current, key) != value for key, value in content.items()):
            last = rule.versions.order_by("-number").values_list("number", flat=True).first() or 0
            _new_version(rule, checked, user=user, number=last + 1)
        rule.name, rule.trigger, rule.priority = checked.name, checked.trigger, checked.priority
        if checked.enabled:
            check_enable(organization_id=rule.organization_id, rules=[rule])
        rule.enabled = checked.enabled
        _save_named(rule)
    return rule


def rules_set_enabled(*, user: Any, rule_ids: list[int], enabled: bool) -> list[Rule]:
    """Enable or disable rules of the organization (ADMINISTER), all or none (NotFound names the
    first id that is not the organization's; Conflict when enabling would pair an approval with a
    rejection of the same returns: rules.conflict_check). Locks the rule rows in id order."""
    check_perm(user, Permission.ADMINISTER)
    organization_id = organization_of(user)
    rule_ids = parse_ids(rule_ids, field="rule_ids", max_count=500)
    ids = sorted(set(rule_ids))
    with transaction.atomic():
        rules = list(
            Rule.objects.select_for_update().filter(organization_id=organization_id, pk__in=ids).order_by("pk")
        )
        found = {r.pk for r in rules}
        for i, rule_id in enumerate(rule_ids):
            if rule_id not in found:
                raise NotFound(_("Rule not found"), field=f"rule_ids[{i}]")
        if enabled:  # a rule that would approve what another rejects is refused (409 naming rule_ids)
            check_enable(organization_id=organization_id, rules=[r for r in rules if not r.enabled])
        for rule in rules:
            if rule.enabled != enabled:
                rule.enabled = enabled
                rule.save(update_fields=["enabled", "updated_at"])
    return rules


def rule_delete(*, user: Any, rule_id: int) -> None:
    """Delete a rule with its versions and logs (ADMINISTER). Locks the rule row."""
    check_perm(user, Permission.ADMINISTER)
    with transaction.atomic():
        rule = _locked(user, rule_id)
        Rule.objects.filter(pk=rule.pk).update(current_version=None)
        rule.delete()


def webhook_signing_secret(*, user: Any, rotate: bool = False, grace_hours: Any = 0) -> str:
    """The organization's secret that signs its rules' webhooks (admins; the receivers need it to
    check X-Aftersales-Signature). `rotate`: a new one, signing now or after `grace_hours`
    (notifications.signing)."""
    from aftersales.notifications.signing import signing_key_reveal, signing_key_rotate

    if rotate:
        return signing_key_rotate(user, channel="api", grace_hours=grace_hours)[0]
    return signing_key_reveal(user, channel="api")[0]
