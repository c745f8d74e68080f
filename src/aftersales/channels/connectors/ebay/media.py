"""A buyer's images and files on eBay messages (messageMedia: mediaName, mediaType, mediaUrl),
fetched while pulling and kept (base64) in the raw payload so that mapping stays pure. Only eBay's
media hosts over https are followed (or the store's loopback fake), without the store's token."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from .client import PRODUCTION, SANDBOX, EbayClient
from .limits import MEDIA_PER_MESSAGE

MEDIA_HOSTS = ("ebayimg.com", "ebaystatic.com", "ebay.com")
MEDIA_MAX_BYTES = 10 * 1024 * 1024


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def in_window(message: Mapping[str, Any], start: str) -> bool:
    """Media are downloaded for the messages of this pass's window only: an older message of the
    same conversation was received (with its media) by an earlier pass."""
    created = message.get("createdDate")
    try:
        return isinstance(created, str) and _parse(created) >= _parse(start)
    except ValueError:
        return False


def media_allowed(client: EbayClient, url: str) -> bool:
    """Only eBay's own media hosts over https (or the store's loopback fake): a payload's URL is
    never followed elsewhere."""
    parts = urlsplit(url)
    base = urlsplit(client.base())
    if base.hostname not in (urlsplit(PRODUCTION["api"]).hostname, urlsplit(SANDBOX["api"]).hostname):
        return parts.scheme == base.scheme and parts.netloc == base.netloc  # an endpoint override
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" and any(host == h or host.endswith("." + h) for h in MEDIA_HOSTS)


def download_media(client: EbayClient, media: Any) -> list[dict[str, Any]]:
    """The images and files a buyer attached (messageMedia: mediaName, mediaType, mediaUrl),
    fetched now (eBay's media URLs are public, no Authorization sent) and kept in the raw payload
    (base64) so that mapping stays pure. A file that cannot be fetched is named in the message."""
    entries: list[dict[str, Any]] = []
    for item in (media if isinstance(media, list) else [])[:MEDIA_PER_MESSAGE]:
        if not isinstance(item, Mapping):
            continue
        url = str(item.get("mediaUrl") or "")
        entry: dict[str, Any] = {
            "mediaName": str(item.get("mediaName") or "attachment")[:200],
            "mediaType": str(item.get("mediaType") or ""),
            "mediaUrl": url,
        }
        if not media_allowed(client, url):
            entry["error"] = "not an eBay media address"
            entries.append(entry)
            continue
        try:
            client.ctx.throttle("ebay:media", 1.0)
            with client.http.stream("GET", url, timeout=30.0) as response:
                if response.status_code != 200:
                    raise ValueError(f"HTTP {response.status_code}")
                content = bytearray()
                for chunk in response.iter_bytes():
                    content.extend(chunk)
                    if len(content) > MEDIA_MAX_BYTES:
                        raise ValueError(f"larger than {MEDIA_MAX_BYTES // (1024 * 1024)} MB")
            entry["content_b64"] = base64.b64encode(bytes(content)).decode()
        except (httpx.HTTPError, ValueError) as exc:
            entry["error"] = str(exc) or type(exc).__name__
        entries.append(entry)
    return entries
