"""17TRACK Tracking API v2.2: a thin httpx client.

Every call is `POST {base_url}/track/v2.2/<name>` with the `17token` header and a JSON body (a list of
at most 40 numbers for the batch calls); the answer is `{"code": 0, "data": {"accepted": [...],
"rejected": [...]}}`. A batch call is split into chunks of 40 here.

Errors (channels.base): HTTP 401 or the key / IP / account codes -> AuthError (permanent); HTTP 429 ->
RateLimited with Retry-After; 5xx, a dropped connection, a body that is not JSON, -18010003
(internal error) -> a transient ConnectorError; other refusals of the whole call -> permanent. Transient
errors are retried `max_attempts` times, waiting Retry-After (capped by `max_wait`) or a doubling
backoff through the injectable `sleep`; calls of one client are paced to 17TRACK's 3 per second.
The key is never logged nor put in an error message."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aftersales.channels.base import AuthError, ConnectorError, RateLimited

from .mapping import BATCH_LIMIT, BatchResult, parse_batch

if TYPE_CHECKING:
    import httpx  # loaded by the first call (_once): the web process imports this module, never calls it

DEFAULT_BASE_URL = "https://api.17track.net"
API_PATH = "/track/v2.2"

MIN_INTERVAL = 1 / 3  # 17TRACK allows 3 requests per second per key: calls of one client are paced
AUTH_CODES = frozenset({-18010001, -18010002, -18010004, -18010005})  # IP, key, account disabled, unauthorised
TRANSIENT_CODES = frozenset({-18010003})  # internal service error, try again later


@dataclass(frozen=True)
class Quota:
    total: int
    used: int
    remaining: int
    today_used: int = 0


@dataclass(frozen=True)
class RegisterItem:
    number: str
    carrier: int | None = None  # 17TRACK's carrier key; None lets 17TRACK detect it
    tag: str = ""


def _chunks(items: Sequence[Any], size: int = BATCH_LIMIT) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _error_message(payload: Any) -> tuple[int, str]:
    """(code, message) of a refused call: {"code": -180..., "data": {"errors": [{"code", "message"}]}}."""
    if not isinstance(payload, dict):
        return 0, ""
    top = payload.get("code")
    code: int = top if isinstance(top, int) else 0
    data = payload.get("data")
    errors = data.get("errors") if isinstance(data, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        inner = first.get("code")
        return (inner if isinstance(inner, int) else code), str(first.get("message") or "")
    return code, str(payload.get("message") or "")


class SeventeenTrackClient:
    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 20.0,
        max_attempts: int = 3,
        backoff: float = 1.0,
        max_wait: float = 30.0,
        min_interval: float = MIN_INTERVAL,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._key = api_key
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff
        self.max_wait = max_wait
        self.min_interval = min_interval
        self.sleep = sleep
        self.monotonic = monotonic
        self._last_call = float("-inf")

    def __repr__(self) -> str:  # never the key
        return f"SeventeenTrackClient({self.base_url!r})"

    # -- calls ----------------------------------------------------------------------------------
    def register(self, items: Sequence[RegisterItem]) -> BatchResult:
        result = BatchResult()
        for chunk in _chunks(items):
            body = [
                {
                    "number": i.number,
                    **({"carrier": i.carrier} if i.carrier else {}),
                    **({"tag": i.tag} if i.tag else {}),
                }
                for i in chunk
            ]
            result = result + parse_batch(self._call("register", body))
        return result

    def get_track_info(self, numbers: Sequence[tuple[str, int | None]]) -> BatchResult:
        """`numbers`: (number, carrier key or None)."""
        result = BatchResult()
        for chunk in _chunks(numbers):
            body = [{"number": n, **({"carrier": c} if c else {})} for n, c in chunk]
            result = result + parse_batch(self._call("gettrackinfo", body))
        return result

    def change_carrier(self, changes: Sequence[tuple[str, int | None, int]]) -> BatchResult:
        """`changes`: (number, current carrier key or None, new carrier key)."""
        result = BatchResult()
        for chunk in _chunks(changes):
            body = [{"number": n, **({"carrier_old": old} if old else {}), "carrier_new": new} for n, old, new in chunk]
            result = result + parse_batch(self._call("changecarrier", body))
        return result

    def stop_track(self, numbers: Sequence[tuple[str, int | None]]) -> BatchResult:
        result = BatchResult()
        for chunk in _chunks(numbers):
            body = [{"number": n, **({"carrier": c} if c else {})} for n, c in chunk]
            result = result + parse_batch(self._call("stoptrack", body))
        return result

    def get_quota(self) -> Quota:
        data = self._call("getquota", None)
        if not isinstance(data, dict):
            raise ConnectorError("17TRACK answered getquota without data", code="malformed")

        def number(name: str) -> int:
            value = data.get(name)
            return value if isinstance(value, int) and not isinstance(value, bool) else 0

        return Quota(
            total=number("quota_total"),
            used=number("quota_used"),
            remaining=number("quota_remain"),
            today_used=number("today_used"),
        )

    # -- transport ------------------------------------------------------------------------------
    def _call(self, name: str, body: Any) -> Any:
        """`data` of a successful call, retrying transient failures."""
        attempt = 0
        while True:
            attempt += 1
            self._pace()
            try:
                return self._once(name, body)
            except ConnectorError as exc:
                if exc.permanent or attempt >= self.max_attempts:
                    raise
                wait = exc.retry_after if exc.retry_after is not None else self.backoff * 2 ** (attempt - 1)
                self.sleep(min(max(wait, self.min_interval), self.max_wait))
                self._last_call = float("-inf")  # the retry wait was at least the pacing interval

    def _pace(self) -> None:
        """At most one call per `min_interval` seconds from this client (batches of a run)."""
        wait = self._last_call + self.min_interval - self.monotonic()
        if wait > 0:
            self.sleep(wait)
        self._last_call = self.monotonic()

    def _once(self, name: str, body: Any) -> Any:
        import httpx

        url = f"{self.base_url}{API_PATH}/{name}"
        headers = {"17token": self._key, "Content-Type": "application/json", "Accept": "application/json"}
        try:
            response = httpx.post(url, headers=headers, json=body, timeout=self.timeout)
        except httpx.TimeoutException:
            raise ConnectorError(f"17TRACK {name}: timed out", code="timeout") from None
        except httpx.TransportError as exc:
            raise ConnectorError(f"17TRACK {name}: {type(exc).__name__}", code="network") from None
        if response.status_code == 429:
            raise RateLimited(
                f"17TRACK {name}: too many requests", retry_after=_retry_after(response), status=429, code="429"
            )
        try:
            payload = response.json()
        except ValueError:
            payload = None
        code, message = _error_message(payload)
        if response.status_code == 401 or code in AUTH_CODES:
            raise AuthError(
                f"17TRACK refused the key: {message or 'unauthorised'}", status=response.status_code, code=str(code)
            )
        if response.status_code >= 500:
            raise ConnectorError(
                f"17TRACK {name}: HTTP {response.status_code}",
                status=response.status_code,
                retry_after=_retry_after(response),
                code=str(code or response.status_code),
            )
        if response.status_code >= 400:
            raise ConnectorError(
                f"17TRACK {name}: HTTP {response.status_code} {message}".strip(),
                permanent=True,
                status=response.status_code,
                code=str(code or response.status_code),
            )
        if not isinstance(payload, dict) or not isinstance(payload.get("code"), int):
            raise ConnectorError(f"17TRACK {name}: the answer is not the documented JSON", code="malformed")
        if code in TRANSIENT_CODES:
            raise ConnectorError(f"17TRACK {name}: {message or 'internal error'}", code=str(code))
        if payload["code"] != 0:
            raise ConnectorError(f"17TRACK {name}: {message or code}", permanent=True, code=str(code))
        return payload.get("data")
