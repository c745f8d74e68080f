"""Outbound webhooks, safe by default (docs/rules.md "notify_webhook", ADR 0021).

A webhook URL is typed by an organization's admin, so the installation must not let it reach what
only the server can reach (cloud metadata at 169.254.169.254, a database on 10.x, the worker's own
loopback services). Three layers:

- `check_webhook_url` on save: https only (http only when the installation sets
  WEBHOOKS_ALLOW_HTTP, for local testing), no credentials in the URL, a host name or a public IP.
- `PinnedBackend` at send time: the host is resolved once, *every* resolved address is checked
  (private, loopback, link-local, multicast, reserved, unspecified; IPv4 and IPv6, IPv4-mapped,
  6to4 and Teredo addresses by the IPv4 they carry), and the TCP connection is made to the checked
  address itself, so no second resolution can swap it (DNS rebinding). The URL's host stays the
  Host header and the TLS server name (SNI, certificate check) because httpcore takes both from the
  request's origin, not from the socket.
- `webhook_post`: no redirects followed, no proxy from the environment, short timeouts, the response
  read up to WEBHOOK_MAX_RESPONSE_BYTES and dropped.

WEBHOOKS_ALLOWED_NETWORKS (installation setting, CIDRs) lets chosen non-public networks through,
e.g. 127.0.0.1/32 for the tests' local receiver; nothing is allowed by default.

The body is signed: `X-Aftersales-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">` with
`X-Aftersales-Timestamp: <unix seconds>`; the receiver recomputes it with the shared secret and
refuses old timestamps (docs/rules.md shows the check)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
from django.conf import settings
from django.utils.translation import gettext as _

from aftersales.core.errors import ValidationFailed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2000
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 5.0
WEBHOOK_MAX_RESPONSE_BYTES = 64 * 1024
SIGNATURE_HEADER = "X-Aftersales-Signature"
TIMESTAMP_HEADER = "X-Aftersales-Timestamp"
USER_AGENT = "aftersales-webhooks/1"

# Not covered by ipaddress's flags on Python 3.11, or worth naming: NAT64 can reach IPv4 hosts.
_EXTRA_BLOCKED = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "192.0.0.0/24",
        "198.18.0.0/15",  # benchmarking
        "64:ff9b::/96",  # NAT64
        "64:ff9b:1::/48",
        "100::/64",  # discard
        "fec0::/10",  # site-local (deprecated)
    )
)


_LOOPBACK = ipaddress.ip_address("127.0.0.1")


class WebhookRefused(Exception):
    """The destination is not allowed (an address in a blocked range): permanent, never retried."""


@lru_cache(maxsize=8)
def _allowed_networks(raw: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(n, strict=False) for n in raw)


def allowed_networks(
    setting: str = "WEBHOOKS_ALLOWED_NETWORKS",
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """The installation's allowlist named by `setting` (webhooks; triage's LLM provider has its own)."""
    return _allowed_networks(tuple(getattr(settings, setting, ()) or ()))


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip.teredo is not None:
            return ip.teredo[1]
    return None


def address_blocked(ip: IPAddress) -> bool:
    """Whether a webhook may not connect to `ip` (before the installation's allowlist)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return address_blocked(ip.ipv4_mapped)  # ::ffff:a.b.c.d is a.b.c.d
    inner = _embedded_ipv4(ip)
    if inner is not None and address_blocked(inner):
        return True
    if (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    ):
        return True
    return any(ip.version == net.version and ip in net for net in _EXTRA_BLOCKED)


def address_allowed(ip: IPAddress, *, networks: str = "WEBHOOKS_ALLOWED_NETWORKS") -> bool:
    """Public addresses, or an address inside the installation's WEBHOOKS_ALLOWED_NETWORKS."""
    plain = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else ip
    if any(plain.version == net.version and plain in net for net in allowed_networks(networks)):
        return True
    return not address_blocked(ip)


def check_webhook_url(
    raw: Any, *, field: str, networks: str = "WEBHOOKS_ALLOWED_NETWORKS", allow_http: str = "WEBHOOKS_ALLOW_HTTP"
) -> str:
    """A webhook URL as saved in a rule: the URL, or ValidationFailed naming `field`. `networks` and
    `allow_http` name the installation settings that let private networks and plain http through."""
    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_URL_LENGTH:
        raise ValidationFailed(_("a URL of at most %(n)s characters") % {"n": MAX_URL_LENGTH}, field=field)
    url = raw.strip()
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise ValidationFailed(_("the URL contains spaces or control characters"), field=field)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValidationFailed(_("not a valid URL"), field=field) from exc
    http_ok = bool(getattr(settings, allow_http, False))
    if parts.scheme != "https" and not (http_ok and parts.scheme == "http"):
        raise ValidationFailed(_("the URL must start with https://"), field=field)
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValidationFailed(_("credentials in the URL are not allowed (use the signature)"), field=field)
    host = parts.hostname or ""
    if not host:
        raise ValidationFailed(_("the URL has no host"), field=field)
    if parts.fragment:
        raise ValidationFailed(_("the URL must not have a fragment"), field=field)
    if port == 0:
        raise ValidationFailed(_("not a valid URL"), field=field)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None and not address_allowed(literal, networks=networks):
        raise ValidationFailed(_("the URL points to a private or reserved address"), field=field)
    local_name = literal is None and (host == "localhost" or host.endswith((".localhost", ".local", ".internal")))
    if local_name and not any(net.version == 4 and _LOOPBACK in net for net in allowed_networks(networks)):
        raise ValidationFailed(_("the URL points to a private or reserved address"), field=field)
    return url


def resolve_checked(host: str, port: int, *, networks: str = "WEBHOOKS_ALLOWED_NETWORKS") -> list[str]:
    """The host's addresses, each checked; WebhookRefused when any one is not allowed (a name that
    resolves to one public and one private address is refused: the client could pick either)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise httpcore.ConnectError(f"cannot resolve {host}")
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not address_allowed(ip, networks=networks):
            raise WebhookRefused(f"{host} resolves to a blocked address ({ip})")
    return addresses


class PinnedBackend(httpcore.SyncBackend):
    """Resolves and checks at connect time and connects to the checked address (see the module)."""

    def __init__(self, networks: str = "WEBHOOKS_ALLOWED_NETWORKS") -> None:
        self.networks = networks

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        last: Exception | None = None
        for address in resolve_checked(host, port, networks=self.networks):
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last = exc
        raise last or httpcore.ConnectError(f"cannot connect to {host}")


class PinnedTransport(httpx.HTTPTransport):
    """httpx transport that connects only to checked addresses (`networks`: the allowlist setting)."""

    def __init__(self, networks: str = "WEBHOOKS_ALLOWED_NETWORKS") -> None:
        super().__init__(trust_env=False, retries=0)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=4,
            max_keepalive_connections=0,
            network_backend=PinnedBackend(networks),
        )


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


@dataclass(frozen=True)
class WebhookResponse:
    status: int
    body: bytes  # at most WEBHOOK_MAX_RESPONSE_BYTES


def webhook_post(url: str, body: bytes, *, secret: str, headers: dict[str, str] | None = None) -> WebhookResponse:
    """POST `body` (JSON) to `url` through the pinned transport, signed with `secret`.
    Raises WebhookRefused (blocked destination), httpx.TimeoutException / httpx.TransportError."""
    timestamp = int(time.time())
    all_headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
        **(headers or {}),
    }
    timeout = httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT)
    with (
        httpx.Client(transport=PinnedTransport(), timeout=timeout, follow_redirects=False, trust_env=False) as client,
        client.stream("POST", url, content=body, headers=all_headers) as response,
    ):
        received = bytearray()
        for chunk in response.iter_raw():
            received.extend(chunk[: WEBHOOK_MAX_RESPONSE_BYTES - len(received)])
            if len(received) >= WEBHOOK_MAX_RESPONSE_BYTES:
                break
        return WebhookResponse(status=response.status_code, body=bytes(received))
