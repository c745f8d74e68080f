"""The tracking-provider interface: what the tracking services need from a provider (register numbers,
fetch their tracking, verify and parse a push, check the connection), and the registry that builds
one from an organization's TrackingAccount. 17TRACK (API v2.2) is the first implementation; its HTTP
client, pure mapping and local fake live in channels/connectors/seventeentrack/."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from django.conf import settings

from aftersales.channels.base import ConnectionCheck, ConnectorError, MappingError
from aftersales.channels.connectors.seventeentrack import mapping as st_mapping
from aftersales.channels.connectors.seventeentrack.client import (
    DEFAULT_BASE_URL,
    RegisterItem,
    SeventeenTrackClient,
)
from aftersales.channels.connectors.seventeentrack.mapping import Rejection, TrackInfo

from .models import Provider, TrackingAccount

# How long a client waits between retries; tests replace it so that a Retry-After costs no time.
sleep: Callable[[float], None] = time.sleep

ALREADY_REGISTERED = "-18019901"
NOT_REGISTERED = "-18019902"


@dataclass(frozen=True)
class Registration:
    number: str
    tag: str = ""  # our reference (the shipment id), echoed back by the provider


@dataclass(frozen=True)
class RegisterResult:
    accepted: dict[str, str] = field(default_factory=dict)  # number -> provider's carrier key ("" unknown)
    rejected: list[Rejection] = field(default_factory=list)


@dataclass(frozen=True)
class FetchResult:
    infos: list[TrackInfo] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    unmappable: list[tuple[str, MappingError]] = field(default_factory=list)  # (number, why)


@dataclass(frozen=True)
class PushContent:
    event: str  # TRACKING_UPDATED / TRACKING_STOPPED
    number: str
    info: TrackInfo | None  # the tracking carried by an update


class TrackingProvider(Protocol):
    provider: str

    def register(self, registrations: Sequence[Registration]) -> RegisterResult: ...

    def fetch(self, numbers: Sequence[tuple[str, str]]) -> FetchResult:
        """`numbers`: (number, the provider's carrier key or "")."""
        ...

    def verify_push(self, headers: Mapping[str, str], body: bytes) -> None:
        """Raises channels.base.SignatureInvalid."""
        ...

    def parse_push(self, body: bytes) -> PushContent:
        """Raises channels.base.MappingError for a verified push we cannot read."""
        ...

    def test_connection(self) -> ConnectionCheck: ...


def _carrier_key(code: str) -> int | None:
    return int(code) if code.isdigit() else None


class SeventeenTrackProvider:
    provider = Provider.SEVENTEENTRACK.value

    def __init__(self, api_key: str, *, base_url: str = DEFAULT_BASE_URL) -> None:
        self._key = api_key
        self.client = SeventeenTrackClient(api_key, base_url=base_url, sleep=lambda s: sleep(s))

    def register(self, registrations: Sequence[Registration]) -> RegisterResult:
        result = self.client.register([RegisterItem(number=r.number, tag=r.tag) for r in registrations])
        accepted = {}
        for item in result.accepted:
            number = item.get("number")
            if isinstance(number, str):
                carrier = item.get("carrier")
                accepted[number] = str(carrier) if isinstance(carrier, int) and carrier > 0 else ""
        return RegisterResult(accepted=accepted, rejected=result.rejected)

    def fetch(self, numbers: Sequence[tuple[str, str]]) -> FetchResult:
        result = self.client.get_track_info([(n, _carrier_key(c)) for n, c in numbers])
        infos, unmappable = [], []
        for item in result.accepted:
            try:
                infos.append(st_mapping.map_track_item(item))
            except MappingError as exc:
                unmappable.append((str(item.get("number") or ""), exc))
        return FetchResult(infos=infos, rejected=result.rejected, unmappable=unmappable)

    def verify_push(self, headers: Mapping[str, str], body: bytes) -> None:
        sign = next((v for k, v in headers.items() if k.lower() == "sign"), None)
        st_mapping.verify_push(body, sign, self._key)

    def parse_push(self, body: bytes) -> PushContent:
        push = st_mapping.parse_push(body)
        info = st_mapping.map_track_item(push.data) if push.event == "TRACKING_UPDATED" else None
        return PushContent(event=push.event, number=push.number, info=info)

    def test_connection(self) -> ConnectionCheck:
        try:
            quota = self.client.get_quota()
        except ConnectorError as exc:
            return ConnectionCheck(ok=False, detail=str(exc)[:300])
        return ConnectionCheck(ok=True, detail=f"quota {quota.remaining} of {quota.total} left ({quota.used} used)")


def _endpoint(account: TrackingAccount, default: str) -> str:
    """The account's endpoint override when allowed (a loopback fake), else the provider's."""
    url = (account.endpoint_url or "").strip()
    if not url or not getattr(settings, "CHANNELS_ALLOW_ENDPOINT_OVERRIDE", False):
        return default
    host = urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    return url if loopback else default


_PROVIDERS: dict[str, Callable[[TrackingAccount], TrackingProvider]] = {
    Provider.SEVENTEENTRACK.value: lambda account: SeventeenTrackProvider(
        str((account.credentials or {}).get("api_key") or ""), base_url=_endpoint(account, DEFAULT_BASE_URL)
    ),
}


def provider_for(account: TrackingAccount) -> TrackingProvider:
    factory = _PROVIDERS.get(account.provider)
    if factory is None:
        raise ConnectorError(f"no tracking provider {account.provider!r}", permanent=True)
    return factory(account)


def provider_choices() -> list[tuple[str, Any]]:
    return list(Provider.choices)
