"""Shopee push notifications: verification and parsing.

Shopee signs a push with the Authorization header: the hex HMAC-SHA256, keyed with the partner key
(or the store's push_key), of the callback URL, "|", and the raw body. It is compared in constant
time. The body is {"shop_id", "code", "timestamp", "data"}; pushes are triggers, not the truth:
an order status push (code 3) and a return update (code 29) carry no order or return, so the
connector reads the current one (get_order_detail / get_return_detail) and the record goes through
the engine like a pulled one (same event id: the next poll finds it known). A webchat push (code
10) carrying a whole message is taken as that message. Any other code is kept raw and ignored."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from aftersales.channels.base import MappingError, SignatureInvalid

ORDER_STATUS_PUSH = 3
WEBCHAT_PUSH = 10
RETURN_UPDATES_PUSH = 29


def push_signature(key: str, url: str, body: bytes) -> str:
    return hmac.new(key.encode(), url.encode() + b"|" + body, hashlib.sha256).hexdigest()


def verify_signature(*, key: str, url: str, headers: Mapping[str, str], body: bytes) -> None:
    """Raise SignatureInvalid unless the Authorization header is the push signature of url|body."""
    given = str(headers.get("Authorization") or headers.get("authorization") or "").strip()
    if not key or not url or not given:
        raise SignatureInvalid("missing push signature, key or callback URL")
    if not hmac.compare_digest(push_signature(key, url, body).encode(), given.lower().encode()):
        raise SignatureInvalid("the push signature does not verify")


def parse_push(body: bytes, *, shop_id: str) -> Mapping[str, Any] | None:
    """The push as an object, None for Shopee's empty availability check. A body that is not a push
    of this shop raises MappingError (answered 400, nothing stored)."""
    if not body.strip():
        return None
    try:
        push = json.loads(body)
    except ValueError as exc:
        raise MappingError("the push is not JSON", field="body") from exc
    if not isinstance(push, Mapping):
        raise MappingError("the push is not an object", field="body")
    code = push.get("code")
    if isinstance(code, bool) or not isinstance(code, int):
        raise MappingError(f"code is not a push code: {code!r}"[:200], field="code")
    pushed_shop = push.get("shop_id")
    if pushed_shop is not None and str(pushed_shop) != str(shop_id):
        raise MappingError(f"the push is for shop {pushed_shop}, not this store's shop", field="shop_id")
    if not isinstance(push.get("data", {}), Mapping):
        raise MappingError("data is not an object", field="data")
    return push


def push_event_id(push: Mapping[str, Any], body: bytes) -> str:
    return f"push:{push.get('code')}:{push.get('timestamp', '')}:{hashlib.sha256(body).hexdigest()[:16]}"
