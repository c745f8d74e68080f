"""Shopify's return labels (Capability.FETCH_RETURN_LABEL).

A label Shopify (or the merchant through Shopify Shipping / `reverseDeliveryCreateWithShipping`)
issued for a return is a reverse delivery of one of the return's reverse fulfillment orders whose
deliverable is a `ReverseDeliveryShippingDeliverable` with `label { publicFileUrl }` (a public PDF
URL on Shopify's CDN) and `tracking { number carrierName url }` (Admin API 2025-01 schema). The
newest label is fetched: the GraphQL query through the store's client, then the file with a plain GET
that is

- https only, or the store's own endpoint origin (the demo / test fake, which is http on 127.0.0.1);
  every redirect hop is checked the same way;
- bounded: at most LABEL_MAX_BYTES read, more is refused (the upload checks bound it again);
- kept as bytes only: the caller sniffs them through the upload checks and stores them under a
  random name (returns.rma_labels)."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

import httpx

from aftersales.channels.base import ConnectorError, ReturnLabel, StoreContext

from . import mapping, operations
from .client import USER_AGENT, ShopifyClient, base_url

LABEL_MAX_BYTES = 10 * 1024 * 1024
DOWNLOAD_TIMEOUT = httpx.Timeout(20.0, connect=10.0)
MAX_REDIRECTS = 3


def fetch_return_label(client: ShopifyClient, ctx: StoreContext, return_external_id: str) -> ReturnLabel | None:
    """The return's newest shipping label, or None while it has none (no reverse delivery with a
    label file yet). Shopify's errors and a file that cannot be read raise ConnectorError."""
    data = client.execute(operations.RETURN_LABEL_QUERY, {"id": mapping.gid("Return", return_external_id)})
    node = data.get("return")
    if not isinstance(node, Mapping):
        raise ConnectorError(f"Shopify has no return {return_external_id}", permanent=True, code="NOT_FOUND")
    labels = mapping.reverse_delivery_labels(node)
    if not labels:
        return None
    label, tracking = max(labels, key=lambda pair: str(pair[0].get("createdAt") or ""))
    content = download(str(label["publicFileUrl"]), allowed_origin=_origin(base_url(ctx)))
    return ReturnLabel(
        content=content,
        filename=f"shopify-return-{return_external_id}-label.pdf",
        carrier=str(tracking.get("carrierName") or "")[:80],
        tracking_number=str(tracking.get("number") or "")[:80],
    )


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return (parts.scheme.lower(), (parts.hostname or "").lower(), parts.port)


def _check_url(url: str, allowed_origin: tuple[str, str, int | None]) -> None:
    origin = _origin(url)
    if origin[0] == "https" and origin[1]:
        return
    if origin == allowed_origin:
        return
    raise ConnectorError(f"Shopify's label URL is not https: {url[:120]}", permanent=True, code="LABEL_URL")


def download(url: str, *, allowed_origin: tuple[str, str, int | None]) -> bytes:
    """GET the label file (https or the store's endpoint origin; at most LABEL_MAX_BYTES)."""
    _check_url(url, allowed_origin)

    def check_hop(request: httpx.Request) -> None:
        _check_url(str(request.url), allowed_origin)

    try:
        with (
            httpx.Client(
                timeout=DOWNLOAD_TIMEOUT,
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                headers={"User-Agent": USER_AGENT},
                event_hooks={"request": [check_hop]},
            ) as http,
            http.stream("GET", url) as response,
        ):
            if response.status_code >= 400:
                raise ConnectorError(
                    f"Shopify's label file answered {response.status_code}",
                    permanent=400 <= response.status_code < 500 and response.status_code != 429,
                    status=response.status_code,
                )
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > LABEL_MAX_BYTES:
                raise _too_large()
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > LABEL_MAX_BYTES:
                    raise _too_large()
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise ConnectorError(f"Shopify's label file could not be read: {type(exc).__name__}") from exc
    return b"".join(chunks)


def _too_large() -> ConnectorError:
    return ConnectorError(
        f"Shopify's label file is larger than {LABEL_MAX_BYTES // 2**20} MB", permanent=True, code="LABEL_TOO_LARGE"
    )
