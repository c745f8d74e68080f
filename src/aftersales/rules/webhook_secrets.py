"""Per-rule webhook signing secrets (docs/rules.md "Per-rule signing secrets").

A `notify_webhook` action may say `"signing": "rule"`: its deliveries are then signed with a secret of
its own (one per rule and URL, `RuleWebhookSecret`, encrypted at rest) instead of the organization's
(notifications.signing). The receiver tells which secret signed from `X-Aftersales-Signing-Key`
(`organization` or `rule:<rule id>`), also in the body as `signing_key`.

- `rule_webhook_secret_rotate` makes the secret of a rule's URL, or replaces it: the new one is
  returned once (the page and the API show it on that answer only), signs every delivery sent from
  then on, including ones already queued; the old one stops at once (no two secrets sign together).
  Only a URL that a `notify_webhook` action of the rule's current version sends to with
  `"signing": "rule"` can have one (422 naming `url` otherwise).
- `rule_webhook_secrets` lists those URLs with whether their secret is made (never the secret).
- `signing_secret_lookup` is how the outbox finds the secret of a delivery at send time
  (registered in RulesConfig.ready); a delivery whose rule's secret is gone fails without sending.
- Deleting the rule deletes its secrets."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.accounts.permissions import Permission, check_perm, organization_of
from aftersales.accounts.services import org_setting_change_record
from aftersales.core.clock import now
from aftersales.core.errors import NotFound, ValidationFailed

from .models import Rule
from .webhook_secret_models import RuleWebhookSecret

SIGNING_ORGANIZATION = "organization"
SIGNING_RULE = "rule"
SIGNING_CHOICES = (SIGNING_ORGANIZATION, SIGNING_RULE)
KEY_PREFIX = "rule"  # signing_key "rule:<rule id>" in the delivery's body and header


@dataclass(frozen=True)
class RuleWebhookSigning:
    """A URL a rule's webhook action signs with the rule's own secret, and that secret's state."""

    url: str
    is_set: bool
    rotated_at: datetime | None


@dataclass(frozen=True)
class RevealedSecret:
    url: str
    secret: str
    rotated_at: datetime


def signed_urls(actions: Any) -> list[str]:
    """The URLs of a version's `notify_webhook` actions that sign with the rule's secret, in order."""
    urls: list[str] = []
    for action in actions if isinstance(actions, list) else []:
        params = action.get("params") if isinstance(action, dict) else None
        if (
            isinstance(params, dict)
            and action.get("type") == "notify_webhook"
            and params.get("signing") == SIGNING_RULE
            and isinstance(params.get("url"), str)
            and params["url"] not in urls
        ):
            urls.append(params["url"])
    return urls


def _rule(user: Any, rule_id: int) -> Rule:
    rule = (
        Rule.objects.select_related("current_version").filter(pk=rule_id, organization_id=organization_of(user)).first()
    )
    if rule is None:
        raise NotFound(_("Rule not found"), field="rule_id")
    return rule


def rule_webhook_secrets(user: Any, rule_id: int) -> list[RuleWebhookSigning]:
    """The URLs the rule's current version signs with its own secret (ADMINISTER)."""
    check_perm(user, Permission.ADMINISTER)
    rule = _rule(user, rule_id)
    urls = signed_urls(rule.current_version.actions if rule.current_version else [])
    made = {row.url: row.rotated_at for row in RuleWebhookSecret.objects.filter(rule=rule, url__in=urls)}
    return [RuleWebhookSigning(url=u, is_set=u in made, rotated_at=made.get(u)) for u in urls]


def rule_webhook_secret_rotate(*, user: Any, rule_id: int, url: Any, via: str = "web") -> RevealedSecret:
    """Make or replace the secret of a rule's webhook URL (ADMINISTER); the new secret is returned
    here only. Locks the secret's row (or creates it under the rule's UNIQUE (rule, url))."""
    check_perm(user, Permission.ADMINISTER)
    rule = _rule(user, rule_id)
    urls = signed_urls(rule.current_version.actions if rule.current_version else [])
    if not isinstance(url, str) or url not in urls:
        raise ValidationFailed(
            _("no webhook action of this rule sends to this URL with the rule's own signing secret"), field="url"
        )
    secret = secrets.token_urlsafe(32)
    at = now()
    with transaction.atomic():
        row = RuleWebhookSecret.objects.select_for_update().filter(rule=rule, url=url).first()
        if row is None:
            RuleWebhookSecret.objects.create(
                organization_id=rule.organization_id, rule=rule, url=url, secret={"secret": secret}, rotated_at=at
            )
        else:
            row.secret = {"secret": secret}
            row.rotated_at = at
            row.save(update_fields=["secret", "rotated_at"])
        org_setting_change_record(
            organization_id=rule.organization_id,
            actor=user,
            setting=f"rule_webhook_secret.{rule.pk}",
            old=None,
            new=secret,
            via=via,
            secret=True,
        )
    return RevealedSecret(url=url, secret=secret, rotated_at=at)


def signing_key_of(*, organization_id: int, rule_id: int, url: str) -> str | None:
    """The `signing_key` a delivery of this rule to `url` names, or None when its secret is not made
    yet (the action then fails: sending it unsigned or with another secret would mislead)."""
    exists = RuleWebhookSecret.objects.filter(organization_id=organization_id, rule_id=rule_id, url=url).exists()
    return f"{KEY_PREFIX}:{rule_id}" if exists else None


def signing_secret_lookup(organization_id: int, key: str, url: str) -> str | None:
    """The secret a delivery's `signing_key` ("<rule id>" after the prefix) names for `url`, or None."""
    if not key.isdigit():
        return None
    row = RuleWebhookSecret.objects.filter(organization_id=organization_id, rule_id=int(key), url=url).first()
    return str(row.secret["secret"]) if row is not None else None
