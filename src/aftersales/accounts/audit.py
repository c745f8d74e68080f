"""The organization settings audit as the services that change settings call it (accounts.OrgSettingChange).

One call per service, inside its transaction (a rolled-back change leaves no audit row):

- `setting_audit(instance, fields, ...)` for a model row: its old values (read from the database, so
  the call comes before the row's save or delete) against the instance's values now. An update writes
  one row per changed field (`<setting>.<field>`); a creation (`created=True`, called after the row was
  created) one row holding the new values; a deletion (`deleted=True`, before the delete) one row
  holding the old values. A field named in `secret` is never stored: its own row says "changed" with a
  fingerprint of the new value (accounts.services.org_setting_change_record).
- `setting_changes_record(...)` for settings that are not one model row (rates, policy versions): the
  old and new values as mappings, compared the same way.

`via` (web, api, command) comes from the request (accounts.middleware sets it per request: /api/ is
api, the rest web) unless the caller names it; outside a request it is "command"."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

from .models import OrgSettingChange

_via: ContextVar[str] = ContextVar("setting_audit_via", default="command")


def current_via() -> str:
    return _via.get()


@contextmanager
def audit_via(via: str) -> Iterator[None]:
    """Settings changed inside are audited as changed through `via` (web, api, command)."""
    token = _via.set(via)
    try:
        yield
    finally:
        _via.reset(token)


def org_setting_change_record(
    *,
    organization_id: int,
    actor: Any,
    setting: str,
    old: Any,
    new: Any,
    via: str = "web",
    secret: bool = False,
) -> OrgSettingChange | None:
    """Append who changed `setting` from `old` to `new` (OrgSettingChange). Called by the service that
    changes the setting, inside its transaction (a rolled-back change leaves no audit row). A secret
    (`secret`): never its value; "changed" and a fingerprint of `new` instead. Nothing when `old`
    equals `new` (not for secrets: every rotation is a change)."""
    if not secret and old == new:
        return None
    fingerprint = ""
    if secret:
        fingerprint = hashlib.sha256(str(new).encode()).hexdigest()[:12] if new else ""
        old, new = None, "changed"
    user_id = getattr(actor, "pk", None) if getattr(actor, "is_authenticated", False) else None
    return OrgSettingChange.objects.create(
        organization_id=organization_id,
        actor_id=user_id,
        setting=setting[:120],
        old_value=old,
        new_value=new,
        secret=secret,
        fingerprint=fingerprint,
        via=via[:10],
        at=timezone.now(),
    )


class _AuditEncoder(DjangoJSONEncoder):
    """DjangoJSONEncoder, and any other value object (e.g. django-countries' Country inside a store's
    settings) as its text: an audit row must never fail the change it records."""

    def default(self, o: Any) -> Any:
        try:
            return super().default(o)
        except TypeError:
            return str(o)


def _plain(value: Any) -> Any:
    """A JSON value for the audit (Decimal and dates as text, model rows as their id)."""
    if isinstance(value, models.Model):
        return value.pk
    return json.loads(json.dumps(value, cls=_AuditEncoder))


def _attnames(model: type[models.Model], fields: Iterable[str]) -> dict[str, str]:
    return {name: getattr(model._meta.get_field(name), "attname", name) for name in fields}


def instance_values(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The values of `fields` of `instance` as they are in memory (a foreign key as its id)."""
    return {name: getattr(instance, attname) for name, attname in _attnames(type(instance), fields).items()}


def stored_values(instance: models.Model, fields: Iterable[str]) -> dict[str, Any] | None:
    """The values of `fields` of `instance`'s row as the database has it (None: no row yet)."""
    if instance.pk is None:
        return None
    names = _attnames(type(instance), fields)
    row = type(instance)._base_manager.filter(pk=instance.pk).values(*names.values()).first()
    return None if row is None else {name: row[attname] for name, attname in names.items()}


def setting_changes_record(
    *,
    organization_id: int,
    actor: Any,
    setting: str,
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
    secret: Iterable[str] = (),
    via: str | None = None,
) -> list[OrgSettingChange]:
    """Audit `setting` going from `old` to `new` (None: it did not exist / no longer exists). Nothing
    when nothing changed; a secret only when it changed."""
    via = via or current_via()
    secrets = set(secret)

    def write(key: str, before: Any, after: Any, *, is_secret: bool = False) -> OrgSettingChange | None:
        return org_setting_change_record(
            organization_id=organization_id, actor=actor, setting=key, old=before, new=after, via=via, secret=is_secret
        )

    rows: list[OrgSettingChange | None] = []
    if old is None or new is None:  # created or deleted: one row with the plain values
        values = {k: _plain(v) for k, v in (new or old or {}).items() if k not in secrets}
        rows.append(write(setting, None if old is None else values, None if new is None else values))
        changed_secrets = [name for name in sorted(secrets) if new is not None and new.get(name)]
    else:
        names = [name for name in dict.fromkeys([*old, *new]) if old.get(name) != new.get(name)]
        rows += [write(f"{setting}.{n}", _plain(old.get(n)), _plain(new.get(n))) for n in names if n not in secrets]
        changed_secrets = [name for name in names if name in secrets]
    rows += [write(f"{setting}.{name}", None, (new or {}).get(name), is_secret=True) for name in changed_secrets]
    return [row for row in rows if row is not None]


def setting_audit(
    instance: models.Model,
    fields: Iterable[str],
    *,
    actor: Any,
    setting: str,
    secret: Iterable[str] = (),
    created: bool = False,
    deleted: bool = False,
    related: Mapping[str, tuple[Any, Any]] | None = None,
    organization_id: int | None = None,
    via: str | None = None,
) -> list[OrgSettingChange]:
    """Audit a settings row: call it before the row's save (an update) or delete (`deleted`), or
    after its creation (`created`), inside the service's transaction. `related`: values that are not
    fields of the row (its members, its stores), as {name: (old, new)}."""
    fields = list(fields)
    old = None if created else stored_values(instance, fields)
    new = None if deleted else instance_values(instance, fields)
    for name, (before, after) in (related or {}).items():
        if old is not None:
            old[name] = before
        if new is not None:
            new[name] = after
    return setting_changes_record(
        organization_id=organization_id if organization_id is not None else instance.organization_id,  # type: ignore[attr-defined]
        actor=actor,
        setting=setting,
        old=old,
        new=new,
        secret=secret,
        via=via,
    )


# What Settings > Settings history calls a setting, by the first part of its key (the rest is shown as
# it is); the page's and the API's `group` filter takes these keys.
SETTING_GROUPS = {
    "refund_review": gettext_lazy("Refund review"),
    "customer_notification": gettext_lazy("Customer notifications"),
    "webhook_signing_secret": gettext_lazy("Webhook signing secret"),
    "rule_webhook_secret": gettext_lazy("Rule webhook secret"),
    "sla_calendar": gettext_lazy("Business calendar"),
    "sla_policy": gettext_lazy("SLA policy"),
    "team_calendar": gettext_lazy("Team calendar"),
    "team": gettext_lazy("Team and routing"),
    "user": gettext_lazy("Team member"),
    "role": gettext_lazy("Role and permissions"),
    "warranty_term": gettext_lazy("Warranty term"),
    "warranty_settings": gettext_lazy("Warranty settings"),
    "exchange_rate": gettext_lazy("Currency rate"),
    "return_policy": gettext_lazy("Return policy"),
    "store": gettext_lazy("Store"),
    "marketplace_app": gettext_lazy("Marketplace app"),
    "followup": gettext_lazy("Follow-ups"),
    "translation_provider": gettext_lazy("Translation provider"),
    "llm_provider": gettext_lazy("LLM provider"),
    "triage": gettext_lazy("Triage"),
    "tracking_account": gettext_lazy("Tracking account"),
    "translation_route": gettext_lazy("Translation route"),
    "category_labels": gettext_lazy("Category labels"),
}
