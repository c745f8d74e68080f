"""Conflicts as the admin sees them (API and UI call these): a draft document checked by the same
service as saving it, then compared with the organization's enabled rules; or a saved rule's
current version. Admins only; another organization's rule is 404."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm, organization_of
from aftersales.core.errors import NotFound

from .conflict_check import rule_conflicts, saved_rule_conflicts
from .conflicts import RuleConflict
from .models import Rule
from .services import check_rule_document


def draft_conflicts(user: Any, *, document: Any, rule_id: int | None = None) -> list[RuleConflict]:
    """The conflicts a document would have once saved (and enabled); `rule_id`: the rule it edits
    (left out of the comparison). 422 names the JSON path of what the document gets wrong."""
    check_perm(user, Permission.ADMINISTER)
    organization_id = organization_of(user)
    if rule_id is not None and not Rule.objects.filter(organization_id=organization_id, pk=rule_id).exists():
        raise NotFound(_("Rule not found"), field="rule_id")
    checked = check_rule_document(document, organization_id=organization_id)
    return rule_conflicts(
        organization_id=organization_id,
        document=checked.content(),
        trigger=checked.trigger,
        name=checked.name,
        rule_id=rule_id,
    )


def rule_conflicts_of(user: Any, rule_id: int) -> list[RuleConflict]:
    """The conflicts of a saved rule's current version with the other enabled rules."""
    check_perm(user, Permission.ADMINISTER)
    rule = (
        Rule.objects.filter(organization_id=organization_of(user), pk=rule_id).select_related("current_version").first()
    )
    if rule is None:
        raise NotFound(_("Rule not found"), field="rule_id")
    return saved_rule_conflicts(rule)
