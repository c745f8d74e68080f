"""Pictures and files in the buyers' chat messages of the polled marketplaces (Shopee, TikTok Shop,
AliExpress, Wish). The platforms send a link that expires, so the connector downloads the file while
it pulls the message and keeps it (base64) in the raw record beside the message; the pure mapping
turns it into an attachment, which the inbox stores through its upload checks (type sniffed from the
bytes, size, the malware scan where configured) like any other.

Bounded: only https links (or the store's own endpoint: the local fakes), at most
settings.ATTACHMENT_MAX_BYTES (a larger Content-Length is not fetched; a larger body is dropped), a
few files per message. A file that cannot be had (expired link, refused, too large) does not lose the
message: the mapping keeps the link in the text instead, with the reason."""

from __future__ import annotations

import base64
import binascii
import mimetypes
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings

from aftersales.channels.base import AttachmentRecord, ConnectorError

MAX_FILES_PER_MESSAGE = 5


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def downloadable(url: str, base_url: str = "") -> bool:
    """An https link, or one on the store's own endpoint (the local fake in tests and the demo)."""
    scheme, host = _origin(url)
    if not host:
        return False
    return scheme == "https" or (bool(base_url) and (scheme, host) == _origin(base_url))


def download(client: Any, url: str, *, bucket: str, base_url: str = "") -> dict[str, Any]:
    """{"url", "mime_type", "data_b64"} of the file, or {"url", "error"}. Fetched with the platform
    client's connection and pace but WITHOUT its authentication (a CDN gets no token), streamed
    and cut at the size limit. A transient failure is raised (the page is pulled again); anything
    else is recorded with its reason."""
    limit = int(settings.ATTACHMENT_MAX_BYTES)
    if not downloadable(url, base_url):
        return {"url": url, "error": "not an https link"}
    client.ctx.throttle(bucket, 1.0)
    try:
        with client.http.stream("GET", url) as response:
            status = response.status_code
            if status == 429 or status >= 500:
                raise ConnectorError(f"the file server answered HTTP {status}")
            if status != 200:
                return {"url": url, "error": f"HTTP {status}"}
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit:
                return {"url": url, "error": f"larger than {limit} bytes"}
            content = bytearray()
            for chunk in response.iter_bytes():
                content.extend(chunk)
                if len(content) > limit:
                    return {"url": url, "error": f"larger than {limit} bytes"}
            mime = response.headers.get("Content-Type", "").split(";")[0].strip()
    except httpx.HTTPError as exc:
        raise ConnectorError(f"the file could not be fetched ({type(exc).__name__})") from exc
    return {"url": url, "mime_type": mime, "data_b64": base64.b64encode(bytes(content)).decode()}


def download_all(client: Any, urls: list[str], *, bucket: str, base_url: str = "") -> list[dict[str, Any]]:
    return [download(client, url, bucket=bucket, base_url=base_url) for url in urls[:MAX_FILES_PER_MESSAGE]]


def attachments(media: Any, *, name: str) -> tuple[list[AttachmentRecord], list[str]]:
    """The downloaded files of one message as attachments (`name-1.png`...), and a line for each
    file that could not be had (its link and why), for the message's text."""
    found: list[AttachmentRecord] = []
    missing: list[str] = []
    for index, item in enumerate(media if isinstance(media, list) else []):
        if not isinstance(item, Mapping):
            continue
        url = str(item.get("url") or "")
        if item.get("error") or not item.get("data_b64"):
            missing.append(f"{url} ({item.get('error') or 'not downloaded'})")
            continue
        try:
            content = base64.b64decode(str(item["data_b64"]), validate=True)
        except (binascii.Error, ValueError):
            missing.append(f"{url} (stored copy unreadable)")
            continue
        mime = str(item.get("mime_type") or "")
        extension = mimetypes.guess_extension(mime) or ".bin"
        found.append(AttachmentRecord(filename=f"{name}-{index + 1}{extension}", content=content, content_type=mime))
    return found, missing


def message_files(label: str, downloaded: Any, body: str) -> tuple[list[AttachmentRecord], str]:
    """A chat message's attachments and text: when its pictures were fetched (`downloaded` is the
    list the connector stored), the text is `label` plus, for each file not had, its link and why;
    otherwise the mapping's `body` as it was."""
    if downloaded is None:
        return [], body
    files, missing = attachments(downloaded, name=label.strip("[]") or "file")
    return files, " ".join([label, *missing])


def with_downloads(client: Any, payload: dict[str, Any], urls: list[str], *, bucket: str) -> dict[str, Any]:
    """`payload` (a pulled chat message) with its files fetched under "media" (none: unchanged)."""
    if urls:
        payload["media"] = download_all(client, urls, bucket=bucket, base_url=client.ctx.base_url)
    return payload
