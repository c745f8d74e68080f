"""Shopify webhooks: X-Shopify-Hmac-Sha256 verification and the raw records a delivery stands for.

The signature is the base64 HMAC-SHA256 of the raw body with the app's client secret; it is checked
by the official `shopifyapp` package (`ShopifyApp.verify_webhook_req`, constant-time comparison,
the previous secret accepted during a rotation). Shopify retries a delivery for up to 4 hours, each
retry with the same X-Shopify-Event-Id: that id is the RawRecord's event_id, so a retry is stored
once. Webhooks are triggers, not the truth: the orders and returns polls (overlapping watermark)
reconcile anything missed."""

from __future__ import annotations

import json
from collections.abc import Mapping

from aftersales.channels.base import RawRecord, SignatureInvalid, StoreContext, Stream

from .client import shop_domain
from .mapping import ORDER_TOPICS, REFUND_TOPICS, RETURN_TOPICS


def subscription_topics() -> frozenset[str]:
    """The WebhookSubscriptionTopic values of the topics the mapping understands ("orders/create"
    -> "ORDERS_CREATE")."""
    return frozenset(t.replace("/", "_").upper() for t in ORDER_TOPICS | RETURN_TOPICS | REFUND_TOPICS)


def _header(headers: Mapping[str, str], name: str) -> str:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return ""


def verify(ctx: StoreContext, headers: Mapping[str, str], body: bytes) -> None:
    """Raise SignatureInvalid unless the body is signed with the store's app secret (and, when the
    store knows its shop domain, was sent for that shop)."""
    secret = str(ctx.credentials.get("client_secret") or "")
    if not secret:
        raise SignatureInvalid("the store has no Shopify app client secret to verify webhooks with")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise SignatureInvalid("the webhook body is not UTF-8") from None
    from shopify_app import ShopifyApp  # where a webhook is verified (issue 13: web process memory)

    app = ShopifyApp(
        client_id=str(ctx.credentials.get("client_id") or "aftersales"),
        client_secret=secret,
        old_client_secret=ctx.credentials.get("old_client_secret") or None,
    )
    result = app.verify_webhook_req(
        {"method": "POST", "headers": {k.lower(): v for k, v in headers.items()}, "body": text, "url": ""}
    )
    if not result.ok:
        raise SignatureInvalid(f"Shopify webhook not verified: {result.log.code}")
    expected = shop_domain(ctx)
    sent = _header(headers, "X-Shopify-Shop-Domain").strip().lower()
    if expected and sent and sent != expected:
        raise SignatureInvalid(f"the webhook was sent for shop {sent!r}, not this store's {expected!r}")


def parse(headers: Mapping[str, str], body: bytes) -> list[RawRecord]:
    """The raw record of a verified delivery. A body that is not JSON is still stored (and then
    quarantined by map_record) so the seller sees it."""
    topic = _header(headers, "X-Shopify-Topic").strip()
    event_id = _header(headers, "X-Shopify-Event-Id").strip() or _header(headers, "X-Shopify-Webhook-Id").strip()
    if not event_id:
        raise SignatureInvalid("the webhook has no X-Shopify-Event-Id")
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        parsed = None
    payload = {
        "source": "webhook",
        "topic": topic,
        "triggered_at": _header(headers, "X-Shopify-Triggered-At"),
        "webhook_id": _header(headers, "X-Shopify-Webhook-Id"),
        "api_version": _header(headers, "X-Shopify-API-Version"),
        "body": parsed if isinstance(parsed, dict) else None,
    }
    if not isinstance(parsed, dict):
        payload["body_text"] = body.decode("utf-8", errors="replace")[:10_000]
    stream = Stream.RETURNS if topic in RETURN_TOPICS else Stream.ORDERS
    if topic not in ORDER_TOPICS | RETURN_TOPICS | REFUND_TOPICS:
        stream = Stream.ORDERS  # stored and ignored (an unsubscribed topic), never an error
    return [RawRecord(stream=stream, event_id=event_id, payload=payload)]
