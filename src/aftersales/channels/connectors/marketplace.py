"""What the polled marketplace connectors (Shopee, TikTok Shop, AliExpress, Wish) share: their JSON
sync cursors, the event id of one version of a pulled record, their per-store rate-limit buckets,
and the capability sets of a marketplace with returns. Pure: no database, no HTTP."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from aftersales.channels.base import Capability, ConnectorError, ShipAddress

# What every polled marketplace connector does; a marketplace with return requests adds RETURNS.
MARKETPLACE_CAPABILITIES = frozenset(
    {
        Capability.PULL_ORDERS,
        Capability.PULL_MESSAGES,
        Capability.SEND_MESSAGE,
        Capability.ISSUE_REFUND,
        Capability.TEST_CONNECTION,
    }
)
RETURNS_CAPABILITIES = MARKETPLACE_CAPABILITIES | {Capability.PULL_RETURNS, Capability.DECIDE_RETURN}


def json_cursor(raw: str | None, platform: str) -> dict[str, Any]:
    """A connector's sync cursor (a JSON object, empty before the first pass). An unreadable one is
    a permanent error naming `platform` (the engine pauses the stream rather than restart it)."""
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ConnectorError(f"unreadable {platform} cursor {raw[:80]!r}", permanent=True) from exc
    return data if isinstance(data, dict) else {}


def store_buckets(
    platform: str, streams: Iterable[str], *, per_second: float, burst: int
) -> dict[str, tuple[float, int]]:
    """The token buckets of one store: `platform`, one `platform:stream` each at the same pace, and
    `platform:auth` (token renewals) at one every two seconds."""
    buckets = {platform: (per_second, burst)}
    buckets.update({f"{platform}:{stream}": (per_second, burst) for stream in streams})
    buckets[f"{platform}:auth"] = (0.5, 5)
    return buckets


def version_key(kind: str, data: Any, *, ident: str, modified: str = "", malformed: str = "malformed") -> str:
    """The event id of one version of a pulled record: `kind:id:modified` (`kind:id` when the
    record never changes). A record without a usable id gets `kind:<malformed>:<digest>`, which
    cannot collide with a real one (the record is quarantined by the mapping, with its reason)."""
    value = data.get(ident) if isinstance(data, Mapping) else None
    if not isinstance(value, str | int) or isinstance(value, bool) or not str(value):
        digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:24]
        return f"{kind}:{malformed}:{digest}"
    if not modified:
        return f"{kind}:{value}"
    return f"{kind}:{value}:{data.get(modified) or ''}"


def ship_address(*, country: Any, postal_code: Any, lines: Iterable[Any], city: Any = "") -> ShipAddress | None:
    """The order's delivery address for its fingerprint, or None when the platform withheld it:
    no street line, or masked ("B******", "******": Shopee and TikTok mask what the app may not
    see). A masked address would give every buyer the same fingerprint, so it counts as none."""
    street = [line for line in lines if isinstance(line, str)]
    if any("*" in value for value in [*street, postal_code if isinstance(postal_code, str) else ""]):
        return None
    return ShipAddress.of(country=country, postal_code=postal_code, lines=street, city=city)
