"""Amazon SP-API calls: Login with Amazon tokens, python-amazon-sp-api for the documented
operations, the engine's PlatformClient underneath every request.

How the pieces fit (ADR 0016):
- `python-amazon-sp-api` (sp_api) builds the calls of Orders 2026-01-01 (searchOrders, getOrder),
  Orders v0 confirmShipment, Reports 2021-06-30 and Finances v0: paths, parameter encoding,
  pagination tokens. Its HTTP transport is replaced by `_EngineTransport`, which sends each request
  through `AmazonHttp` (a channels.http.PlatformClient): the store's rate limiter per SP-API
  operation, retries with backoff of transient errors, 429s honoured, errors classified before
  sp_api parses anything (sp_api reads an error body without an `errors` key, e.g. an empty 429 or
  an HTML 503, as a success).
- Its endpoint is the store's (`ctx.base_url`: the region's SP-API host, or a loopback fake).
- Its token client is replaced by `LwaTokens`: the refresh-token grant against Login with Amazon,
  the access token cached in the store's encrypted credentials until a minute before it expires,
  refreshed once on a 401/403 (a token revoked or expired early). sp_api's own token client keeps
  tokens in a process-wide cache for a fixed 3200 s and cannot be pointed at another token URL.
- The Feeds API calls (createFeedDocument, the upload, createFeed, getFeed, getFeedDocument) are
  made directly: sp_api's feed helpers put their own `path` argument (and a second `MarketplaceIds`
  key) into the JSON body, upload with a bare httpx client (no timeout, no error check beyond the
  status), and createFeed must never be retried blindly (a feed has no idempotency key).
- Presigned document URLs (report downloads, feed uploads) go through a client that sends no
  SP-API token: those URLs point at S3, and the access token must not leave SP-API.

Tokens, secrets and headers are never logged.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import cache, cached_property
from typing import Any
from urllib.parse import urlsplit

import httpx

from aftersales.channels.base import AuthError, ConnectorError, RateLimited, StoreContext
from aftersales.channels.http import PlatformClient, parse_retry_after

LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"  # noqa: S105 (a URL, not a secret)
TOKEN_MARGIN = timedelta(seconds=60)  # refresh this long before the token's expiry

# SP-API's documented default usage plans (requests per second, burst) per operation: the
# connector's rate_limits, one bucket per operation (the model files' "Usage Plan" tables).
RATE_LIMITS: dict[str, tuple[float, int]] = {
    "searchOrders": (0.0056, 20),
    "getOrder": (0.5, 30),
    "confirmShipment": (2.0, 10),
    "createReport": (0.0167, 15),
    "getReport": (2.0, 15),
    "getReportDocument": (0.0167, 15),
    "createFeedDocument": (0.5, 15),
    "createFeed": (0.0083, 15),
    "getFeed": (2.0, 15),
    "getFeedDocument": (0.0222, 10),
    "listFinancialEventsByOrderId": (0.5, 30),
}

# (method, path pattern) -> operation (the rate-limit bucket of a request sp_api builds)
_OPERATIONS: list[tuple[str, re.Pattern[str], str]] = [
    ("GET", re.compile(r"/orders/2026-01-01/orders"), "searchOrders"),
    ("GET", re.compile(r"/orders/2026-01-01/orders/[^/]+"), "getOrder"),
    ("POST", re.compile(r"/orders/v0/orders/[^/]+/shipmentConfirmation"), "confirmShipment"),
    ("POST", re.compile(r"/reports/2021-06-30/reports"), "createReport"),
    ("GET", re.compile(r"/reports/2021-06-30/reports/[^/]+"), "getReport"),
    ("GET", re.compile(r"/reports/2021-06-30/documents/[^/]+"), "getReportDocument"),
    ("GET", re.compile(r"/finances/v0/orders/[^/]+/financialEvents"), "listFinancialEventsByOrderId"),
]

# Marketplaces by the store's site (Store.site, e.g. "amazon.de"): (marketplace id, SP-API host).
_NA = "https://sellingpartnerapi-na.amazon.com"
_EU = "https://sellingpartnerapi-eu.amazon.com"
_FE = "https://sellingpartnerapi-fe.amazon.com"
SITES: dict[str, tuple[str, str]] = {
    "amazon.com": ("ATVPDKIKX0DER", _NA),
    "amazon.ca": ("A2EUQ1WTGCTBG2", _NA),
    "amazon.com.mx": ("A1AM78C64UM0Y8", _NA),
    "amazon.com.br": ("A2Q3Y263D00KWC", _NA),
    "amazon.co.uk": ("A1F83G8C2ARO7P", _EU),
    "amazon.de": ("A1PA6795UKMFR9", _EU),
    "amazon.fr": ("A13V1IB3VIYZZH", _EU),
    "amazon.it": ("APJ6JRA9NG5V4", _EU),
    "amazon.es": ("A1RKKUPIHCS9HS", _EU),
    "amazon.nl": ("A1805IZSGTT6HS", _EU),
    "amazon.se": ("A2NODRKZP88ZB9", _EU),
    "amazon.pl": ("A1C3SOZRARQ6R3", _EU),
    "amazon.com.be": ("AMEN7PMS3EDWL", _EU),
    "amazon.com.tr": ("A33AVAJ2PDY3EV", _EU),
    "amazon.ae": ("A2VIGQ35RCS4UG", _EU),
    "amazon.sa": ("A17E79C6D8DWNP", _EU),
    "amazon.eg": ("ARBP9OOSHTCHU", _EU),
    "amazon.in": ("A21TJRUUN4KGV", _EU),
    "amazon.co.jp": ("A1VC38T7YXB528", _FE),
    "amazon.com.au": ("A39IBJ37TRP1C6", _FE),
    "amazon.sg": ("A19VAU5U5O7RUS", _FE),
}


def site_of(site: str) -> tuple[str, str]:
    key = (site or "amazon.com").strip().lower().removeprefix("www.")
    if key not in SITES:
        raise ConnectorError(f"unknown Amazon site {site!r} (known: {', '.join(sorted(SITES))})", permanent=True)
    return SITES[key]


def default_base_url(site: str) -> str:
    """The region's SP-API endpoint; "" for a site we do not know (the client then refuses with
    the list of known sites, and building a store's context never fails for it)."""
    try:
        return site_of(site)[1]
    except ConnectorError:
        return ""


def marketplace_id(ctx: StoreContext) -> str:
    """The store's marketplace: its credentials may name it, else its site's."""
    explicit = str(ctx.credentials.get("marketplace_id") or "").strip()
    return explicit or site_of(ctx.site)[0]


def rate_limit_retry_after(headers: Mapping[str, str]) -> float | None:
    """SP-API sends no Retry-After with a 429: x-amzn-RateLimit-Limit is the operation's rate
    (requests per second), so one token comes back after 1 / rate seconds."""
    retry_after = parse_retry_after(headers.get("Retry-After"))
    if retry_after is not None:
        return retry_after
    try:
        rate = float(headers.get("x-amzn-RateLimit-Limit") or "")
    except ValueError:
        return None
    return 1.0 / rate if rate > 0 else None


def _error_details(response: httpx.Response) -> tuple[str, str]:
    """SP-API's ErrorList: ("message (details)", code)."""
    try:
        data = response.json()
    except ValueError:
        return response.text[:300].strip(), ""
    errors = data.get("errors") if isinstance(data, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        message = str(first.get("message") or "")
        if first.get("details"):
            message = f"{message} ({first['details']})"
        return message, str(first.get("code") or "")
    if isinstance(data, dict) and data.get("error"):  # Login with Amazon
        return str(data.get("error_description") or data["error"]), str(data["error"])
    return "", ""


class AmazonHttp(PlatformClient):
    """SP-API requests: x-amz-access-token from LWA, Amazon's error shapes, 429 without
    Retry-After, one token refresh on 401/403."""

    user_agent = "aftersales/1.0 (Language=Python)"

    def __init__(self, ctx: StoreContext, tokens: LwaTokens | None, **kwargs: Any) -> None:
        super().__init__(ctx, **kwargs)
        self.tokens = tokens

    def auth_headers(self, ctx: StoreContext) -> dict[str, str]:
        if self.tokens is None:  # presigned document URLs: no SP-API token
            return {}
        return {"x-amz-access-token": self.tokens.access_token(), "x-amz-date": _amz_date()}

    def classify(self, response: httpx.Response) -> ConnectorError | None:
        status = response.status_code
        if status < 400:
            return None
        message, code = _error_details(response)
        message = message or f"HTTP {status}"
        if status == 429:
            return RateLimited(message, retry_after=rate_limit_retry_after(response.headers), status=status, code=code)
        if status in (401, 403):
            return AuthError(message, status=status, code=code)
        if status >= 500 or status in (408, 425):
            return ConnectorError(message, status=status, code=code)
        return ConnectorError(message, permanent=True, status=status, code=code)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if self.tokens is not None:
            self.tokens.just_refreshed = False
        try:
            return super().request(method, path, **kwargs)
        except AuthError:
            # An access token can be revoked or expire before its announced expiry: refresh once.
            if self.tokens is None or self.tokens.just_refreshed:
                raise
            self.tokens.invalidate()
            return super().request(method, path, **kwargs)


class DocumentHttp(AmazonHttp):
    """Presigned document URLs (S3): no SP-API token, and the signed query string is never what
    the engine logs (it logs the path a request is given: here the URL without its query)."""

    def __init__(self, ctx: StoreContext, **kwargs: Any) -> None:
        super().__init__(ctx, None, **kwargs)
        self._urls: dict[str, str] = {}

    def url(self, path: str) -> str:
        return self._urls.get(path, path)

    def fetch(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        parts = urlsplit(url)
        shown = f"{parts.scheme}://{parts.netloc}{parts.path}"
        self._urls[shown] = url
        return self.request(method, shown, bucket="documents", **kwargs)


def _amz_date() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


_TOKENS: dict[tuple[int, str], tuple[str, datetime]] = {}  # (store, refresh-token digest) -> token
_TOKENS_LOCK = threading.Lock()


class LwaTokens:
    """Login with Amazon, refresh-token grant. The access token lives in the store's credentials
    (`access_token`, `access_token_expires_at`, encrypted at rest by the store's field) and in
    this object for the run; it is refreshed a minute before it expires and after a 401/403."""

    def __init__(self, ctx: StoreContext, http: PlatformClient, token_url: str) -> None:
        self.ctx = ctx
        self.http = http
        self.token_url = token_url
        self.just_refreshed = False
        self._token = str(ctx.credentials.get("access_token") or "")
        self._expires_at = _parse_expiry(ctx.credentials.get("access_token_expires_at"))
        # A StoreContext carries the credentials of when it was made: a token refreshed since
        # (by an earlier page of the same run) is taken from this process's cache.
        self._cache_key = (ctx.store_id, hashlib.sha256(str(ctx.credentials.get("refresh_token")).encode()).hexdigest())
        with _TOKENS_LOCK:
            cached = _TOKENS.get(self._cache_key)
        if cached and (self._expires_at is None or cached[1] > self._expires_at):
            self._token, self._expires_at = cached

    def _require(self, name: str) -> str:
        value = str(self.ctx.credentials.get(name) or "")
        if not value:
            raise AuthError(f"the store's Amazon credentials have no {name}", code="missing_credentials")
        return value

    def access_token(self) -> str:
        if not self._token or self._expires_at is None or datetime.now(UTC) >= self._expires_at - TOKEN_MARGIN:
            self.refresh()
        return self._token

    def invalidate(self) -> None:
        self._token = ""
        with _TOKENS_LOCK:
            _TOKENS.pop(self._cache_key, None)

    def refresh(self) -> None:
        response = self.http.post(
            self.token_url,
            bucket="lwa",
            data={
                "grant_type": "refresh_token",
                "refresh_token": self._require("refresh_token"),
                "client_id": self._require("lwa_client_id"),
                "client_secret": self._require("lwa_client_secret"),
            },
        )
        try:
            data = response.json()
            token = str(data["access_token"])
            expires_in = int(data.get("expires_in") or 3600)
        except (ValueError, KeyError, TypeError) as exc:
            raise ConnectorError("Login with Amazon answered without an access token") from exc
        self._token = token
        self._expires_at = datetime.now(UTC) + timedelta(seconds=expires_in)
        self.just_refreshed = True
        with _TOKENS_LOCK:
            _TOKENS[self._cache_key] = (token, self._expires_at)
        self.ctx.save_credentials({"access_token": token, "access_token_expires_at": self._expires_at.isoformat()})

    # sp_api's token-client interface (used only if sp_api asks for `auth` itself)
    def get_auth(self) -> Any:  # sp_api.auth.AccessTokenResponse
        from sp_api.auth import AccessTokenResponse

        return AccessTokenResponse(access_token=self.access_token(), token_type="bearer")  # noqa: S106 (a token type)


class LwaHttp(PlatformClient):
    """Login with Amazon's token endpoint: its errors are OAuth errors; a rejected client or
    refresh token is permanent (the seller must re-authorise the app)."""

    def classify(self, response: httpx.Response) -> ConnectorError | None:
        status = response.status_code
        if status < 400:
            return None
        message, code = _error_details(response)
        if status == 429:
            return RateLimited(
                message or "HTTP 429", retry_after=parse_retry_after(response.headers.get("Retry-After"))
            )
        if status >= 500:
            return ConnectorError(message or f"HTTP {status}", status=status, code=code)
        return AuthError(f"Login with Amazon refused the credentials: {message or status}", status=status, code=code)


def _parse_expiry(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class _EngineTransport:
    """sp_api's transport interface (`request`, `close`) over AmazonHttp: every request sp_api
    builds is throttled per operation, retried and classified by the engine's client."""

    def __init__(self, http: AmazonHttp) -> None:
        self.http = http

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Any = None,
        data: Any = None,
        content: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        path = urlsplit(url).path
        bucket = next((op for m, rx, op in _OPERATIONS if m == method and rx.fullmatch(path)), "default")
        kept = {k: v for k, v in (headers or {}).items() if k.lower() in ("content-type", "user-agent")}
        return self.http.request(method, url, bucket=bucket, params=params or None, content=content, headers=kept)

    def close(self) -> None:
        return None


class _SpApiClient:
    """What the four sp_api classes this client uses share here: no `host`/token headers of their
    own (AmazonHttp sets them properly: sp_api derives `host` by cutting the endpoint string) and
    no marketplace parameters added behind our back (sp_api adds MarketplaceId, MarketplaceIds,
    marketplace_ids and marketplaceIds to every call that does not name one; the calls here name
    the marketplace where the operation takes it)."""

    @property
    def headers(self) -> dict[str, str]:
        return {"content-type": "application/json"}

    def _request(self, path: str, **kwargs: Any) -> Any:
        kwargs["add_marketplace"] = False
        return super()._request(path, **kwargs)  # type: ignore[misc]


@cache
def _sp_api_class(name: str) -> type:
    """The sp_api class `name` ("OrdersV20260101", "OrdersV0", "Reports", "FinancesV0") with _SpApiClient's
    overrides. python-amazon-sp-api (~18 MiB, ~390 modules) is imported here, on the first SP-API call,
    not with this module: the ticket page imports the connector for its capabilities (issue 13, memory)."""
    import sp_api.api

    return type(f"_{name}", (_SpApiClient, getattr(sp_api.api, name)), {})


def _sp_api(name: str, ctx: StoreContext, http: AmazonHttp, tokens: LwaTokens) -> Any:
    from sp_api.base import Marketplaces
    from sp_api.base.credential_provider import FromCodeCredentialProvider

    client = _sp_api_class(name)(
        Marketplaces.US,
        credentials={
            "lwa_app_id": str(ctx.credentials.get("lwa_client_id") or "-"),
            "lwa_client_secret": str(ctx.credentials.get("lwa_client_secret") or "-"),
            "refresh_token": "-",  # the token is LwaTokens' business, never sp_api's
        },
        credential_providers=(FromCodeCredentialProvider,),  # never the environment or config files
        auth_token_client_class=lambda **_kwargs: tokens,
        # sp_api builds an httpx client of its own here, replaced below by _EngineTransport before
        # any request: verify=False only spares loading the CA bundle for a client never used
        # (every request goes through AmazonHttp, which verifies TLS).
        verify=False,
    )
    client._transport.close()
    client.endpoint = http.base_url
    client.marketplace_id = marketplace_id(ctx)
    client._transport = _EngineTransport(http)
    return client


class AmazonClient:
    """The SP-API operations the connector uses, for one store."""

    ORDER_DATA = ["BUYER", "RECIPIENT", "PROCEEDS", "FULFILLMENT", "PACKAGES"]

    def __init__(self, ctx: StoreContext, *, sleep: Callable[[float], None] | None = None) -> None:
        if not ctx.base_url:
            site_of(ctx.site)  # an unknown site: a permanent error naming the known ones
            raise ConnectorError("the store has no SP-API endpoint", permanent=True)
        self.ctx = ctx
        self.marketplace_id = marketplace_id(ctx)
        self.sleep = sleep  # None: the engine's wait_seconds (PlatformClient's default)
        token_url = (
            f"{ctx.base_url}/auth/o2/token" if _is_loopback(ctx.base_url) else LWA_TOKEN_URL
        )  # a local fake serves Login with Amazon too
        self.lwa = LwaHttp(ctx, base_url="", sleep=self.sleep)
        self.tokens = LwaTokens(ctx, self.lwa, token_url)
        self.http = AmazonHttp(ctx, self.tokens, sleep=self.sleep)

    @cached_property
    def documents(self) -> DocumentHttp:
        return DocumentHttp(self.ctx, base_url="", sleep=self.sleep)

    @cached_property
    def orders(self) -> Any:
        return _sp_api("OrdersV20260101", self.ctx, self.http, self.tokens)

    @cached_property
    def orders_v0(self) -> Any:
        return _sp_api("OrdersV0", self.ctx, self.http, self.tokens)

    @cached_property
    def reports(self) -> Any:
        return _sp_api("Reports", self.ctx, self.http, self.tokens)

    @cached_property
    def finances(self) -> Any:
        return _sp_api("FinancesV0", self.ctx, self.http, self.tokens)

    def close(self) -> None:
        self.lwa.close()
        self.http.close()
        if "documents" in self.__dict__:
            self.documents.close()

    def __enter__(self) -> AmazonClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- orders -----------------------------------------------------------------------------------
    def search_orders(
        self, *, last_updated_after: datetime, pagination_token: str | None, page_size: int
    ) -> tuple[list[Any], str | None]:
        params: dict[str, Any] = {
            "lastUpdatedAfter": _iso(last_updated_after),
            "marketplaceIds": [self.marketplace_id],
            "includedData": self.ORDER_DATA,
            "maxResultsPerPage": page_size,
        }
        if pagination_token:
            params["paginationToken"] = pagination_token
        response = _call(self.orders.search_orders, **params)
        orders = response.payload.get("orders")
        if not isinstance(orders, list):
            raise ConnectorError("searchOrders answered without an orders list")
        return orders, response.next_token

    def get_order(self, order_id: str) -> Any:
        response = _call(self.orders.get_order, order_id, includedData=self.ORDER_DATA)
        order = response.payload.get("order")
        if order is None:
            raise ConnectorError(f"getOrder answered without the order {order_id}")
        return order

    def confirm_shipment(self, order_id: str, body: dict[str, Any]) -> None:
        _call(self.orders_v0.confirm_shipment, order_id, **body)

    # -- reports ----------------------------------------------------------------------------------
    def create_report(self, report_type: str, start: datetime, end: datetime) -> str:
        response = _call(
            self.reports.create_report,
            reportType=report_type,
            dataStartTime=_iso(start),
            dataEndTime=_iso(end),
            marketplaceIds=[self.marketplace_id],
        )
        report_id = response.payload.get("reportId")
        if not report_id:
            raise ConnectorError("createReport answered without a reportId")
        return str(report_id)

    def get_report(self, report_id: str) -> dict[str, Any]:
        return dict(_call(self.reports.get_report, report_id).payload)

    def download_report(self, document_id: str) -> str:
        meta = _call(self.reports.get_report_document, document_id).payload
        url = meta.get("url")
        if not url:
            raise ConnectorError("getReportDocument answered without a url")
        response = self.documents.fetch("GET", url)
        data = response.content
        if meta.get("compressionAlgorithm") == "GZIP":
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError) as exc:
                raise ConnectorError(f"the report document is not valid GZIP: {exc}") from exc
        charset = response.charset_encoding or "utf-8"
        try:
            return data.decode(charset)
        except (UnicodeDecodeError, LookupError):
            return data.decode("cp1252", errors="replace")  # EU reports are often Cp1252

    # -- feeds (direct: see the module docstring) ---------------------------------------------------
    def submit_feed(self, feed_type: str, content: bytes, content_type: str) -> str:
        created = self.http.post(
            "/feeds/2021-06-30/documents", bucket="createFeedDocument", json={"contentType": content_type}
        ).json()
        try:
            document_id, upload_url = str(created["feedDocumentId"]), str(created["url"])
        except (KeyError, TypeError) as exc:
            raise ConnectorError("createFeedDocument answered without feedDocumentId and url") from exc
        self.documents.fetch("PUT", upload_url, content=content, headers={"Content-Type": content_type})
        # createFeed is never retried: a feed has no idempotency key, a retry after a lost answer
        # could submit the adjustment twice (the caller decides, with the WriteBack row).
        try:
            feed = self.http.post(
                "/feeds/2021-06-30/feeds",
                bucket="createFeed",
                retry=False,
                json={
                    "feedType": feed_type,
                    "marketplaceIds": [self.marketplace_id],
                    "inputFeedDocumentId": document_id,
                },
            ).json()
        except RateLimited:
            raise  # refused before processing: nothing was submitted, a later retry is safe
        except ConnectorError as exc:
            if exc.status is None or exc.status >= 500:  # no answer or a server error: outcome unknown
                raise ConnectorError(
                    f"Amazon did not confirm the feed ({exc}); it is not resent automatically: check the "
                    "feed history in Seller Central before retrying",
                    permanent=True,
                    code="feed_unconfirmed",
                ) from exc
            raise
        if not isinstance(feed, dict) or not feed.get("feedId"):
            raise ConnectorError("createFeed answered without a feedId", permanent=True, code="feed_unconfirmed")
        return str(feed["feedId"])

    def get_feed(self, feed_id: str) -> dict[str, Any]:
        data = self.http.get(f"/feeds/2021-06-30/feeds/{feed_id}", bucket="getFeed").json()
        if not isinstance(data, dict):
            raise ConnectorError("getFeed answered something else than a feed")
        return data

    def download_feed_document(self, document_id: str) -> bytes:
        meta = self.http.get(f"/feeds/2021-06-30/documents/{document_id}", bucket="getFeedDocument").json()
        data = self.documents.fetch("GET", str(meta["url"])).content
        if meta.get("compressionAlgorithm") == "GZIP":
            data = gzip.decompress(data)
        return data

    # -- finances ---------------------------------------------------------------------------------
    def financial_events_for_order(self, order_id: str) -> dict[str, Any]:
        events: dict[str, list[Any]] = {}
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"MaxResultsPerPage": 100}
            if token:
                kwargs["NextToken"] = token
            response = _call(self.finances.get_financial_events_for_order, order_id, **kwargs)
            for name, items in (response.payload.get("FinancialEvents") or {}).items():
                if isinstance(items, list):
                    events.setdefault(name, []).extend(items)
            token = response.payload.get("NextToken")
            if not token:
                return events


def _call(operation: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """An sp_api operation; what sp_api raises on an answer it cannot read (a 2xx body that is not
    the operation's JSON, an `errors` list in a 2xx) becomes a transient ConnectorError (HTTP
    errors were classified by AmazonHttp before sp_api saw them)."""
    from sp_api.base.exceptions import SellingApiException

    try:
        response = operation(*args, **kwargs)
    except ConnectorError:
        raise
    except SellingApiException as exc:
        raise ConnectorError(f"SP-API answered an error: {getattr(exc, 'message', '') or exc.error}") from exc
    except (ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
        raise ConnectorError(f"SP-API answered something unreadable ({type(exc).__name__})") from exc
    if not isinstance(response.payload, dict):
        raise ConnectorError("SP-API answered something else than a JSON object")
    return response


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in ("127.0.0.1", "localhost", "::1")


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
