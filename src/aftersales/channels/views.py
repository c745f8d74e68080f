"""Webhook endpoint of the connectors: POST /hooks/<platform>/<store webhook token>.

Machine-to-machine (like /health): no session, CSRF-exempt; the per-store random token (StoreSync)
says which store the push is for, the connector's `verify_webhook` checks the platform's signature.
Pushes are triggers, not the truth: verified records go through receive_records (stored raw first,
idempotent) and polling reconciles. Answers: 200 with the outcomes' counts; 401 bad signature
(nothing stored); 404 unknown token / platform / no webhook support; 413 too large; 400 a body the
connector cannot parse; 503 a transient failure (the platform retries). Never 500."""

from __future__ import annotations

import logging
from collections import Counter

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .base import ConnectorError, MappingError, SignatureInvalid
from .models import StoreSync
from .registry import get_connector
from .sync import receive_records, store_context

logger = logging.getLogger(__name__)


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=status)


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, platform: str, token: str) -> JsonResponse:
    limit = int(getattr(settings, "CHANNELS_WEBHOOK_MAX_BYTES", 1024 * 1024))
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return _error(413, "too_large", f"the body is larger than {limit} bytes")
    sync = (
        StoreSync.objects.select_related("store").filter(webhook_token=token, store__platform=platform).first()
        if token
        else None
    )
    if sync is None or not sync.store.is_active:
        return _error(404, "not_found", "unknown webhook address")
    store = sync.store
    try:
        connector = get_connector(platform)
    except ConnectorError:
        return _error(404, "not_found", "no connector for this platform")
    verify = getattr(connector, "verify_webhook", None)
    if not callable(verify):
        return _error(404, "not_found", "this connector takes no webhooks")
    body = request.body
    if len(body) > limit:
        return _error(413, "too_large", f"the body is larger than {limit} bytes")
    log = {"store_id": store.pk, "platform": platform}
    try:
        ctx = store_context(store, connector=connector)
        records = verify(ctx, request.headers, body)
        outcomes = receive_records(store=store, records=list(records), source="webhook", connector=connector, ctx=ctx)
    except SignatureInvalid:
        logger.warning("webhook signature invalid", extra=log)
        return _error(401, "signature_invalid", "the signature does not verify")
    except MappingError as exc:
        logger.warning("webhook body refused", extra={**log, "reason": exc.reason})
        return _error(400, "invalid_body", exc.reason)
    except (ValueError, KeyError, TypeError) as exc:
        logger.warning("webhook body unreadable", extra={**log, "error": type(exc).__name__})
        return _error(400, "invalid_body", "the body could not be read")
    except ConnectorError as exc:
        logger.warning("webhook could not be verified now", extra={**log, "error": str(exc)[:200]})
        status = 401 if exc.permanent else 503
        return _error(status, "connector_error", str(exc)[:500])
    except Exception:
        logger.exception("webhook failed", extra=log)
        return _error(503, "unavailable", "the push could not be processed now; send it again later")
    counts = Counter(o.action for o in outcomes)
    return JsonResponse({"received": len(outcomes), "actions": dict(counts)})
