"""The organization's webhook signing secret as its admins manage it (ADR 0021, docs/rules.md
"Webhook signing secret"): the settings page and `GET/POST /api/v1/rules/webhook-secret[/rotate]` call
these services, with the same permission (ADMINISTER: the organization's admins, not Django staff).

- Shown masked (first and last 4 characters). Revealed only to an admin who types their password
  again on the page (the API's token already is that proof); every reveal is audited.
- Rotation, decided: **no two secrets sign at once**. `grace_hours` = 0 switches now; with N hours
  (1 to 72) the new secret is shown now and *pending*, deliveries keep being signed with the old
  one until the switch-over time, then with the new one only. The receivers get N hours to accept
  the new secret (a receiver that accepts either during the change loses nothing). Rotating again
  while a switch is pending replaces the pending secret.
- Audit: who revealed or rotated, when, by which channel (page, API), kept with the key (encrypted
  with it, last AUDIT_KEPT entries, newest first) and shown on the page; no secret in the audit.

Layout of WebhookSigningKey.secret (encrypted JSON): {"secret": active, "pending": new or absent,
"switch_at": ISO instant or absent, "audit": [{"action", "user_id", "username", "channel", "at",
"switch_at"?}]}. `outbox.webhook_secret` reads the active secret (promoting a due pending one)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm, organization_of
from aftersales.accounts.services import org_setting_change_record
from aftersales.core.clock import now
from aftersales.core.errors import ValidationFailed

from .models import WebhookSigningKey
from .outbox import webhook_secret

MAX_GRACE_HOURS = 72
AUDIT_KEPT = 50


@dataclass(frozen=True)
class AuditEntry:
    action: str  # "revealed" | "rotated"
    username: str
    channel: str  # "page" | "api"
    at: datetime
    switch_at: datetime | None


@dataclass(frozen=True)
class SigningKeyStatus:
    masked: str
    rotated_at: datetime  # the last rotation asked for (else the key's creation)
    pending_masked: str  # "" without a pending switch
    switch_at: datetime | None
    audit: tuple[AuditEntry, ...]


def mask(secret: str) -> str:
    return f"{secret[:4]}…{secret[-4:]}" if len(secret) > 12 else "…"


def _locked_key(organization_id: int) -> WebhookSigningKey:
    webhook_secret(organization_id)  # made on first use, a pending switch applied when due
    return WebhookSigningKey.objects.select_for_update().get(organization_id=organization_id)


def _audit(data: dict[str, Any], user: Any, action: str, channel: str, **extra: Any) -> None:
    entry = {"action": action, "user_id": user.pk, "username": user.get_username(), "channel": channel}
    entry.update(at=now().isoformat(), **extra)
    data["audit"] = [entry, *list(data.get("audit") or [])][:AUDIT_KEPT]


def _when(raw: Any) -> datetime | None:
    return datetime.fromisoformat(raw) if isinstance(raw, str) and raw else None


def signing_key_status(user: Any) -> SigningKeyStatus:
    """The masked secret, a pending switch and the audit (ADMINISTER)."""
    check_perm(user, Permission.ADMINISTER)
    organization_id = organization_of(user)
    secret = webhook_secret(organization_id)
    key = WebhookSigningKey.objects.get(organization_id=organization_id)
    data = dict(key.secret)
    audit = tuple(
        AuditEntry(
            action=str(e.get("action", "")),
            username=str(e.get("username", "")),
            channel=str(e.get("channel", "")),
            at=_when(e.get("at")) or key.rotated_at,
            switch_at=_when(e.get("switch_at")),
        )
        for e in data.get("audit") or []
    )
    pending = str(data.get("pending") or "")
    rotations = [e.at for e in audit if e.action == "rotated"]
    return SigningKeyStatus(
        masked=mask(secret),
        rotated_at=rotations[0] if rotations else key.rotated_at,
        pending_masked=mask(pending) if pending else "",
        switch_at=_when(data.get("switch_at")) if pending else None,
        audit=audit,
    )


def signing_key_reveal(user: Any, *, channel: str, password: str | None = None) -> tuple[str, str]:
    """(active secret, pending secret or "") for an admin; on the page (`password` given) the
    admin's own password again, else ValidationFailed naming `password`. Audited."""
    check_perm(user, Permission.ADMINISTER)
    if password is not None and not user.check_password(password):
        raise ValidationFailed(_("that is not your password"), field="password")
    with transaction.atomic():
        key = _locked_key(organization_of(user))
        data = dict(key.secret)
        _audit(data, user, "revealed", channel)
        key.secret = data
        key.save(update_fields=["secret"])
    return str(data["secret"]), str(data.get("pending") or "")


def signing_key_rotate(user: Any, *, channel: str, grace_hours: Any = 0) -> tuple[str, datetime]:
    """A new secret (returned with the instant it starts signing): now when `grace_hours` is 0,
    else pending until then (module docstring). Audited."""
    check_perm(user, Permission.ADMINISTER)
    if isinstance(grace_hours, bool) or not isinstance(grace_hours, int) or not 0 <= grace_hours <= MAX_GRACE_HOURS:
        raise ValidationFailed(
            _("a whole number of hours from 0 to %(max)s") % {"max": MAX_GRACE_HOURS}, field="grace_hours"
        )
    new = secrets.token_urlsafe(32)
    switch_at = now() + timedelta(hours=grace_hours)
    with transaction.atomic():
        key = _locked_key(organization_of(user))
        data = dict(key.secret)
        if grace_hours == 0:
            data["secret"] = new
            data.pop("pending", None)
            data.pop("switch_at", None)
        else:
            data["pending"], data["switch_at"] = new, switch_at.isoformat()
        _audit(data, user, "rotated", channel, switch_at=switch_at.isoformat())
        key.secret = data
        key.save(update_fields=["secret", "rotated_at"])
        org_setting_change_record(
            organization_id=key.organization_id,
            actor=user,
            setting="webhook_signing_secret" if grace_hours == 0 else "webhook_signing_secret.pending",
            old=None,
            new=new,
            via="api" if channel == "api" else "web",
            secret=True,
        )
    return new, switch_at
