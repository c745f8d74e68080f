"""TikTok Shop webhooks: verification and parsing.

TikTok signs a webhook with the Authorization header: the hex HMAC-SHA256, keyed with the app
secret, of the app key followed by the raw body. It is compared in constant time. The body is
{"type": <int>, "tts_notification_id", "shop_id", "timestamp", "data": {...}}; webhooks are
triggers, not the truth: an order status change (type 1) names its order, a return or a
cancellation status change (types 12 / 11) its return or cancellation, so the connector reads the
current one and the record goes through the engine like a pulled one (same event id: the next poll
finds it known). A new message (type 14) names its conversation: the conversation's latest
messages are read. Any other type is kept raw and ignored."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from aftersales.channels.base import MappingError, SignatureInvalid

ORDER_STATUS_CHANGE = 1
CANCELLATION_STATUS_CHANGE = 11
RETURN_STATUS_CHANGE = 12
NEW_CONVERSATION = 13
NEW_MESSAGE = 14


def webhook_signature(app_key: str, app_secret: str, body: bytes) -> str:
    return hmac.new(app_secret.encode(), app_key.encode() + body, hashlib.sha256).hexdigest()


def verify_signature(*, app_key: str, app_secret: str, headers: Mapping[str, str], body: bytes) -> None:
    """Raise SignatureInvalid unless the Authorization header signs app_key + body."""
    given = str(headers.get("Authorization") or headers.get("authorization") or "").strip()
    if not app_key or not app_secret or not given:
        raise SignatureInvalid("missing webhook signature, app key or app secret")
    if not hmac.compare_digest(webhook_signature(app_key, app_secret, body).encode(), given.lower().encode()):
        raise SignatureInvalid("the webhook signature does not verify")


def parse_webhook(body: bytes, *, shop_id: str) -> Mapping[str, Any]:
    """The webhook as an object. A body that is not a webhook of this shop raises MappingError
    (answered 400, nothing stored)."""
    try:
        push = json.loads(body)
    except ValueError as exc:
        raise MappingError("the webhook is not JSON", field="body") from exc
    if not isinstance(push, Mapping):
        raise MappingError("the webhook is not an object", field="body")
    kind = push.get("type")
    if isinstance(kind, bool) or not isinstance(kind, int):
        raise MappingError(f"type is not a webhook type: {kind!r}"[:200], field="type")
    pushed_shop = push.get("shop_id")
    if shop_id and pushed_shop is not None and str(pushed_shop) != str(shop_id):
        raise MappingError(f"the webhook is for shop {pushed_shop}, not this store's shop", field="shop_id")
    if not isinstance(push.get("data", {}), Mapping):
        raise MappingError("data is not an object", field="data")
    return push


def webhook_event_id(push: Mapping[str, Any], body: bytes) -> str:
    ident = push.get("tts_notification_id") or hashlib.sha256(body).hexdigest()[:24]
    return f"webhook:{push.get('type')}:{ident}"
