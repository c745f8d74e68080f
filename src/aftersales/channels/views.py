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
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .apply import connector_actor
from .base import AuthError, ConnectorError, MappingError, SignatureInvalid
from .models import StoreSync
from .push_channels import push_handshake_record
from .registry import get_connector
from .sync import receive_records, store_context, store_sync_pause

logger = logging.getLogger(__name__)


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=status)


def _handshake(request: HttpRequest, platform: str, token: str) -> HttpResponse:
    """Meta subscribing the endpoint (WhatsApp, Messenger: GET ?hub.mode=subscribe&hub.verify_token=
    &hub.challenge=): the connector's `webhook_handshake(ctx, params) -> str | None` gives the
    challenge to echo as plain text, None for a wrong verify token (403)."""
    sync = StoreSync.objects.select_related("store").filter(webhook_token=token, store__platform=platform).first()
    if sync is None or not sync.store.is_active:
        return _error(404, "not_found", "unknown webhook address")
    try:
        connector = get_connector(platform)
    except ConnectorError:
        return _error(404, "not_found", "no connector for this platform")
    answer = getattr(connector, "webhook_handshake", None)
    if not callable(answer):
        return _error(404, "not_found", "this connector answers no handshake")
    challenge = answer(store_context(sync.store, connector=connector), request.GET.dict())
    if challenge is None:
        return _error(403, "forbidden", "the verify token does not match")
    push_handshake_record(sync.store)  # the store page shows the subscription as verified
    return HttpResponse(challenge, content_type="text/plain")


def _challenge(request: HttpRequest, platform: str, token: str) -> HttpResponse:
    """A platform validating the endpoint (eBay's Notification API: GET ?challenge_code=...): the
    connector's `webhook_challenge(ctx, challenge_code, endpoint_url) -> dict` answers it."""
    if "hub.mode" in request.GET:
        return _handshake(request, platform, token)
    code = request.GET.get("challenge_code", "")
    sync = StoreSync.objects.select_related("store").filter(webhook_token=token, store__platform=platform).first()
    if not code or sync is None or not sync.store.is_active:
        return _error(404, "not_found", "unknown webhook address")
    try:
        connector = get_connector(platform)
    except ConnectorError:
        return _error(404, "not_found", "no connector for this platform")
    answer = getattr(connector, "webhook_challenge", None)
    if not callable(answer):
        return _error(404, "not_found", "this connector answers no challenge")
    try:
        body = answer(store_context(sync.store, connector=connector), code, request.build_absolute_uri(request.path))
    except Exception:
        logger.exception("webhook challenge failed", extra={"store_id": sync.store_id})
        return _error(503, "unavailable", "the challenge could not be answered now")
    return JsonResponse(body)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest, platform: str, token: str) -> HttpResponse:
    if request.method == "GET":
        return _challenge(request, platform, token)
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
        if getattr(connector, "webhook_signs_url", False):  # Shopee signs url|body: the URL it called
            records = verify(ctx, request.headers, body, endpoint_url=request.build_absolute_uri(request.path))
        else:
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
    except AuthError as exc:  # the platform refused the store's credentials (a media download)
        store_sync_pause(store=store, reason=str(exc), actor=connector_actor(store))
        logger.warning("webhook refused: store paused", extra={**log, "error": str(exc)[:200]})
        return _error(503, "auth_error", str(exc)[:500])
    except ConnectorError as exc:
        logger.warning("webhook could not be verified now", extra={**log, "error": str(exc)[:200]})
        status = 401 if exc.permanent else 503
        return _error(status, "connector_error", str(exc)[:500])
    except Exception:
        logger.exception("webhook failed", extra=log)
        return _error(503, "unavailable", "the push could not be processed now; send it again later")
    counts = Counter(o.action for o in outcomes)
    return JsonResponse({"received": len(outcomes), "actions": dict(counts)})
