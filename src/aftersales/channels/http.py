"""The base HTTP transport of the connectors (httpx + tenacity).

`PlatformClient` owns what every platform shares: the store's endpoint, timeouts, the rate limiter
(`ctx.throttle(bucket, cost)` before each request), retries with backoff of transient failures
(honouring Retry-After), and the classification of responses into the engine's errors:

- 429 -> RateLimited(retry_after from Retry-After: seconds or an HTTP date); the store's bucket is
  emptied for that long so the other workers wait too;
- 5xx, timeouts, connection errors -> ConnectorError (transient: retried);
- 401 / 403 -> AuthError (permanent: the store's sync is paused with the platform's message);
- other 4xx -> ConnectorError(permanent=True, status, code, message = the platform's error text).

A platform subclass overrides `auth_headers(ctx)` (tokens, signatures) and, where its errors look
different (Shopify's THROTTLED in a 200, eBay's errorId), `classify(response)` and
`error_text(response)`. Credentials and Authorization headers are never logged."""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from django.conf import settings

from .base import AuthError, ConnectorError, RateLimited, StoreContext

if TYPE_CHECKING:
    import httpx  # imported where a client is made or called: the web process loads this module, never calls
    from tenacity import RetryCallState

logger = logging.getLogger(__name__)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), else None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def wait_seconds(seconds: float) -> None:
    """How retries wait (a module function so that tests can record the waits instead)."""
    time.sleep(seconds)


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, ConnectorError) and not exc.permanent


def _surely_not_acted_on(exc: BaseException) -> bool:
    """A transient failure after which the platform surely did nothing: no connection was made, or it
    answered 429 / 503 (refused before processing)."""
    if not _is_transient(exc):
        return False
    assert isinstance(exc, ConnectorError)
    return isinstance(exc, RateLimited) or exc.status == 503 or bool(getattr(exc, "not_sent", False))


class PlatformClient:
    """Subclass per platform. `bucket` is the default rate-limit bucket of its calls."""

    bucket = "default"
    timeout = 30.0
    user_agent = "aftersales/1.0"

    def __init__(
        self,
        ctx: StoreContext,
        *,
        base_url: str | None = None,
        timeout: float | None = None,
        max_attempts: int | None = None,
        backoff: float | None = None,
        max_backoff: float | None = None,
        sleep: Callable[[float], None] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.ctx = ctx
        self.base_url = (base_url if base_url is not None else ctx.base_url).rstrip("/")
        self.max_attempts = max_attempts or int(getattr(settings, "CHANNELS_HTTP_MAX_ATTEMPTS", 4))
        self.backoff = backoff if backoff is not None else float(getattr(settings, "CHANNELS_HTTP_BACKOFF", 1.0))
        self.max_backoff = max_backoff if max_backoff is not None else 60.0
        self.max_retry_after = float(getattr(settings, "CHANNELS_HTTP_MAX_RETRY_AFTER", 300.0))
        self.sleep = sleep or wait_seconds
        import httpx

        self.http = httpx.Client(
            timeout=timeout or self.timeout,
            transport=transport,
            verify=_ssl_context(),
            headers={"User-Agent": self.user_agent},
            follow_redirects=False,
        )

    # -- to override ---------------------------------------------------------------------------
    def auth_headers(self, ctx: StoreContext) -> dict[str, str]:
        """Headers that authenticate a request (computed per request: tokens may be refreshed)."""
        return {}

    def classify(self, response: httpx.Response) -> ConnectorError | None:
        """The error a response stands for, or None when it is a success."""
        status = response.status_code
        if status < 400:
            return None
        message = self.error_text(response) or f"HTTP {status}"
        code = self.error_code(response)
        if status == 429:
            return RateLimited(
                message, retry_after=parse_retry_after(response.headers.get("Retry-After")), status=status, code=code
            )
        if status in (401, 403):
            return AuthError(message, status=status, code=code)
        if status >= 500 or status in (408, 425):
            return ConnectorError(message, status=status, code=code)
        return ConnectorError(message, permanent=True, status=status, code=code)

    def error_text(self, response: httpx.Response) -> str:
        """The platform's own words about an error (shown to the seller)."""
        try:
            data = response.json()
        except ValueError:
            return response.text[:500].strip()
        return _find_message(data)[:1000]

    def error_code(self, response: httpx.Response) -> str:
        try:
            data = response.json()
        except ValueError:
            return ""
        return _find_code(data)

    # -- calls ---------------------------------------------------------------------------------
    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        *,
        bucket: str | None = None,
        cost: float = 1.0,
        retry: bool = True,
        idempotent: bool = True,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """One call, throttled, retried on transient errors (when `retry`), classified: returns a
        successful response or raises ConnectorError / AuthError / RateLimited.

        `idempotent=False` for a call that must not happen twice and carries no idempotency key the
        platform honours (sending a buyer a message): it is then retried only when the platform surely
        did not act on it (no connection, 429, 503), never after a timeout or another 5xx."""
        from tenacity import Retrying, retry_if_exception, stop_after_attempt  # where it retries (issue 13)

        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts if retry else 1),
            wait=self._wait,
            retry=retry_if_exception(_is_transient if idempotent else _surely_not_acted_on),
            sleep=self.sleep,
            reraise=True,
        )
        return retrying(self._once, method, path, bucket or self.bucket, cost, headers, kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, **kwargs)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> PlatformClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _once(
        self,
        method: str,
        path: str,
        bucket: str,
        cost: float,
        headers: Mapping[str, str] | None,
        kwargs: dict[str, Any],
    ) -> httpx.Response:
        import httpx

        self.ctx.throttle(bucket, cost)
        all_headers = {**self.auth_headers(self.ctx), **(headers or {})}
        started = time.monotonic()
        try:
            response = self.http.request(method, self.url(path), headers=all_headers, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            logger.warning("platform unreachable", extra={"platform": self.ctx.platform, "path": path})
            unreachable = ConnectorError(f"the platform could not be reached ({type(exc).__name__})")
            unreachable.not_sent = True  # type: ignore[attr-defined]  # the request never left
            raise unreachable from exc
        except httpx.TimeoutException as exc:
            logger.warning("platform call timed out", extra={"platform": self.ctx.platform, "path": path})
            raise ConnectorError(f"the platform did not answer in time ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            logger.warning("platform connection failed", extra={"platform": self.ctx.platform, "path": path})
            raise ConnectorError(f"the platform could not be reached ({type(exc).__name__})") from exc
        error = self.classify(response)
        logger.info(
            "platform call",
            extra={
                "platform": self.ctx.platform,
                "store_id": self.ctx.store_id,
                "method": method,
                "path": path,
                "status": response.status_code,
                "ms": int((time.monotonic() - started) * 1000),
            },
        )
        if error is not None:
            if isinstance(error, RateLimited) and error.retry_after:
                _penalise(self.ctx, bucket, error.retry_after)
            raise error
        return response

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, ConnectorError) and exc.retry_after is not None:
            return min(exc.retry_after, self.max_retry_after)
        return min(self.max_backoff, self.backoff * (2 ** (state.attempt_number - 1)))


_ssl_contexts: list[ssl.SSLContext] = []


def _ssl_context() -> ssl.SSLContext:
    """The TLS context every client of this process verifies with: httpx's default (certifi's bundle,
    SSL_CERT_FILE / SSL_CERT_DIR honoured), made once. A context per client loaded the CA bundle
    again for every page a sync pulled (~25 ms of CPU each, bench/RESULTS.md, ingest ninth session);
    one context serves any number of clients and threads."""
    import httpx

    if not _ssl_contexts:
        _ssl_contexts.append(httpx.create_ssl_context())
    return _ssl_contexts[0]


def json_object(response: httpx.Response) -> Mapping[str, Any]:
    """The response's JSON object, or {} when the body is not JSON or not an object."""
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, Mapping) else {}


ClientT = TypeVar("ClientT", bound="PlatformClient")


class ClientPerCall(Generic[ClientT]):
    """Connector mixin: `client(ctx)` opens the connector's `client_class` for one operation (with
    the options the connector was built with: transport, sleep... in tests) and closes it after."""

    client_class: type[ClientT]

    def __init__(self, **client_options: Any) -> None:
        self.client_options = client_options

    @contextmanager
    def client(self, ctx: StoreContext) -> Iterator[ClientT]:
        client = self.client_class(ctx, **self.client_options)
        try:
            yield client
        finally:
            client.close()


def _penalise(ctx: StoreContext, bucket: str, seconds: float) -> None:
    """Empty the store's bucket for `seconds` so its other workers wait too (best effort)."""
    try:
        from .ratelimit import Limiter
        from .registry import get_connector

        limits = getattr(get_connector(ctx.platform), "rate_limits", {}) or {}
        Limiter(ctx.store_id, limits).penalise(bucket, seconds)
    except Exception:  # the limiter is an optimisation here: never fail the call for it
        logger.exception("could not record a 429 in the rate limiter", extra={"store_id": ctx.store_id})


def _find_message(data: Any) -> str:
    """The first error text in common shapes: {"message"}, {"error_description"}, {"error": "..."},
    {"errors": [{"message" | "longMessage"}]}, {"error": {"message"}}."""
    if isinstance(data, str):
        return data
    if isinstance(data, list):
        for item in data:
            found = _find_message(item)
            if found:
                return found
        return ""
    if not isinstance(data, dict):
        return ""
    for key in ("longMessage", "message", "error_description", "errorMessage", "detail", "title"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
    for key in ("errors", "error", "fault"):
        if key in data:
            found = _find_message(data[key])
            if found:
                return found
    return ""


def _find_code(data: Any) -> str:
    if isinstance(data, list):
        return _find_code(data[0]) if data else ""
    if not isinstance(data, dict):
        return ""
    for key in ("code", "errorId", "error_code", "errorCode"):
        value = data.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            return str(value)
    for key in ("errors", "error"):
        if isinstance(data.get(key), dict | list):
            found = _find_code(data[key])
            if found:
                return found
    if isinstance(data.get("error"), str):
        return str(data["error"])
    return ""
