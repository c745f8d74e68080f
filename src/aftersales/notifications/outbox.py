"""The outbox: outbound e-mails and webhooks as rows, sent by the worker at most once each.

`outbox_enqueue` writes a row per recipient in the caller's transaction (UNIQUE dedupe_key: asking
twice gives the same row) and schedules its delivery on commit. `outbox_deliver` claims the row by a
conditional update (pending, not locked by another worker, due), sends, and records the result:
`sent` rows are never sent again, whatever retries the queue makes; a 5xx, a 429, a timeout or a
connection error is retried with backoff (BACKOFF_SECONDS) up to MAX_ATTEMPTS, then `failed`; a
refused destination or another 4xx fails at once. `outbox_retry_due` (every minute) picks up rows
whose next attempt is due, and rows whose worker died while holding them (lock expired)."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q

from aftersales.core import events
from aftersales.core.clock import now

from .events import OutboxMessageQueued
from .models import OutboxKind, OutboxMessage, OutboxStatus, WebhookSigningKey

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_SECONDS = (30, 120, 600, 1800, 7200)
LOCK_SECONDS = 60
RETRY_BATCH = 200


def outbox_enqueue(
    *,
    organization_id: int,
    kind: str,
    dedupe_key: str,
    source: str,
    recipient: str,
    payload: dict[str, Any],
) -> OutboxMessage:
    """The row for `dedupe_key`, created (and its delivery scheduled after commit) if new."""
    existing = OutboxMessage.objects.filter(dedupe_key=dedupe_key[:200]).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            message = OutboxMessage.objects.create(
                organization_id=organization_id,
                kind=kind,
                dedupe_key=dedupe_key[:200],
                source=source[:80],
                recipient=recipient,
                payload=payload,
                next_attempt_at=now(),
            )
    except IntegrityError:
        return OutboxMessage.objects.get(dedupe_key=dedupe_key[:200])
    events.publish(OutboxMessageQueued(message_id=message.pk, organization_id=organization_id, kind=kind))
    return message


def webhook_secret(organization_id: int) -> str:
    """The organization's active webhook signing secret, made on first use (stored encrypted); a
    pending secret whose switch-over time has come becomes the active one (notifications.signing)."""
    key = WebhookSigningKey.objects.filter(organization_id=organization_id).first()
    if key is None:
        try:
            with transaction.atomic():
                key = WebhookSigningKey.objects.create(
                    organization_id=organization_id, secret={"secret": secrets.token_urlsafe(32)}
                )
        except IntegrityError:
            key = WebhookSigningKey.objects.get(organization_id=organization_id)
    data = key.secret
    switch_at = data.get("switch_at")
    if data.get("pending") and switch_at and datetime.fromisoformat(switch_at) <= now():
        with transaction.atomic():
            locked = WebhookSigningKey.objects.select_for_update().get(pk=key.pk)
            data = dict(locked.secret)
            if data.get("pending") and data.get("switch_at") == switch_at:
                data["secret"] = data.pop("pending")
                data.pop("switch_at", None)
                locked.secret = data
                locked.save(update_fields=["secret"])
    return str(data["secret"])


SigningSecretLookup = Callable[[int, str, str], "str | None"]  # (organization id, key, url) -> secret
_SIGNING_KEYS: dict[str, SigningSecretLookup] = {}
ORGANIZATION_SIGNING_KEY = "organization"


def signing_keys_register(prefix: str, lookup: SigningSecretLookup) -> None:
    """Let another app sign some deliveries with secrets of its own: a webhook whose payload says
    `"signing_key": "<prefix>:<key>"` is signed with `lookup(organization_id, key, url)` (None: the
    secret is gone, the delivery fails without sending). Called from an AppConfig.ready (rules)."""
    _SIGNING_KEYS[prefix] = lookup


def _signing(message: OutboxMessage) -> tuple[str, str]:
    """The delivery's signing key name (the X-Aftersales-Signing-Key header) and secret."""
    name = str(message.payload.get("signing_key") or ORGANIZATION_SIGNING_KEY)
    prefix, _sep, key = name.partition(":")
    if name == ORGANIZATION_SIGNING_KEY or prefix not in _SIGNING_KEYS:
        return ORGANIZATION_SIGNING_KEY, webhook_secret(message.organization_id)
    secret = _SIGNING_KEYS[prefix](message.organization_id, key, message.recipient)
    if secret is None:
        raise _Permanent(f"the signing secret {name} no longer exists")
    return name, secret


class _Retry(Exception):
    pass


class _Permanent(Exception):
    pass


def _send_email(message: OutboxMessage) -> int | None:
    send_mail(
        str(message.payload.get("subject", "")),
        str(message.payload.get("body", "")),
        settings.DEFAULT_FROM_EMAIL,
        [message.recipient],
        fail_silently=False,
    )
    return None


def _send_webhook(message: OutboxMessage) -> int | None:
    import httpx  # (here: the web process imports this module, only the worker sends)

    from .webhooks import WebhookRefused, webhook_post

    body = json.dumps(message.payload, sort_keys=True, separators=(",", ":"), default=str).encode()
    key_name, secret = _signing(message)
    try:
        response = webhook_post(
            message.recipient,
            body,
            secret=secret,
            headers={"X-Aftersales-Delivery": message.dedupe_key[:200], "X-Aftersales-Signing-Key": key_name},
        )
    except WebhookRefused as exc:
        raise _Permanent(str(exc)) from exc
    except httpx.InvalidURL as exc:
        raise _Permanent(str(exc)) from exc
    except (httpx.TimeoutException, httpx.TransportError) as exc:
        raise _Retry(f"{type(exc).__name__}: {exc}") from exc
    if 200 <= response.status < 300:
        return response.status
    if response.status >= 500 or response.status in (408, 429):
        raise _Retry(f"HTTP {response.status}")
    raise _Permanent(f"HTTP {response.status}")  # redirects (not followed) and other 4xx


def outbox_deliver(message_id: int) -> str:
    """Send one row if it is pending, due and not held by another worker. Returns its status after
    this call ("sent", "pending" for a retry later, "failed") or "skipped" when not claimed."""
    at = now()
    claimed = (
        OutboxMessage.objects.filter(pk=message_id, status=OutboxStatus.PENDING)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=at))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=at))
        .update(locked_until=at + timedelta(seconds=LOCK_SECONDS), attempts=F("attempts") + 1)
    )
    if not claimed:
        return "skipped"
    message = OutboxMessage.objects.get(pk=message_id)
    sender = _send_webhook if message.kind == OutboxKind.WEBHOOK else _send_email
    fields: dict[str, Any] = {"locked_until": None}
    try:
        fields["response_status"] = sender(message)
        fields.update(status=OutboxStatus.SENT, sent_at=now(), last_error="")
    except _Permanent as exc:
        fields.update(status=OutboxStatus.FAILED, last_error=str(exc)[:500], next_attempt_at=None)
    except (_Retry, OSError) as exc:  # OSError: SMTP connection refused, reset...
        error = str(exc)[:500] or type(exc).__name__
        if message.attempts >= MAX_ATTEMPTS:
            fields.update(status=OutboxStatus.FAILED, last_error=error, next_attempt_at=None)
        else:
            delay = BACKOFF_SECONDS[min(message.attempts - 1, len(BACKOFF_SECONDS) - 1)]
            fields.update(last_error=error, next_attempt_at=now() + timedelta(seconds=delay))
    except Exception as exc:  # an SMTP refusal of the recipient and the like: recorded, not retried
        logger.exception("outbox: message %s failed", message_id)
        fields.update(status=OutboxStatus.FAILED, last_error=f"{type(exc).__name__}: {exc}"[:500])
    OutboxMessage.objects.filter(pk=message_id).update(**fields)
    return str(fields.get("status", OutboxStatus.PENDING))


def outbox_retry_due(*, limit: int = RETRY_BATCH) -> int:
    """Deliver the pending rows that are due (a retry's time has come, or a worker died holding it)."""
    at = now()
    ids = list(
        OutboxMessage.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=at)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=at))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for message_id in ids:
        outbox_deliver(message_id)
    return len(ids)
