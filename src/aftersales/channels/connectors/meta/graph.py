"""A thin client for Meta's Graph API (WhatsApp Cloud API, Messenger Platform) on the engine's
PlatformClient, and the webhook pieces both platforms share.

Calls carry `Authorization: Bearer <access_token>` and go to https://graph.facebook.com/<version>/...
Errors come as {"error": {"message", "type", "code", "error_subcode", "error_data", "fbtrace_id"}}:
- code 190 and 102 (token expired, revoked or invalid) and 10 / 200-299 (permissions) are an
  AuthError whatever the HTTP status (Meta answers 400 or 401): the engine pauses the store with
  Meta's own message. Not the error type: Meta calls most errors "OAuthException";
- codes 4, 17, 32, 613, 80007, 130429, 131056 (rate limits) are RateLimited;
- codes 1, 2, 131000, 131016 and any 5xx are transient; anything else is permanent with Meta's words.

Webhooks (both platforms): Meta signs the raw body with the app secret, HMAC-SHA256, in
`X-Hub-Signature-256: sha256=<hex>`, compared in constant time here. Subscribing the callback URL is a
GET with hub.mode=subscribe, hub.verify_token (the one typed in the app dashboard) and hub.challenge,
answered with the challenge as plain text."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import httpx

from aftersales.channels.base import AuthError, ConnectorError, RateLimited, SignatureInvalid, StoreContext
from aftersales.channels.http import PlatformClient, parse_retry_after

GRAPH_HOST = "https://graph.facebook.com"
GRAPH_VERSION = "v23.0"
SIGNATURE_HEADER = "X-Hub-Signature-256"

TOKEN_ERRORS = frozenset({102, 190, 10}) | frozenset(range(200, 300))
# Code 10 with these subcodes is Messenger's "outside of allowed window", not a permission problem.
WINDOW_SUBCODES = frozenset({2018278, 2018108})
RATE_ERRORS = frozenset({4, 17, 32, 613, 80007, 130429, 131056})
TRANSIENT_ERRORS = frozenset({1, 2, 131000, 131016})


def graph_error(response: httpx.Response) -> Mapping[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    error = data.get("error") if isinstance(data, Mapping) else None
    return error if isinstance(error, Mapping) else {}


def _code(error: Mapping[str, Any]) -> int | None:
    try:
        return int(error.get("code"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


class GraphClient(PlatformClient):
    """One store's Graph API session: the token is the store's `access_token` (a system user's
    permanent token, or a long-lived page token for Messenger)."""

    bucket = "meta"

    def auth_headers(self, ctx: StoreContext) -> dict[str, str]:
        token = str(ctx.credentials.get("access_token") or "")
        if not token:
            raise AuthError("the store has no access token", permanent=True, code="access_token")
        return {"Authorization": f"Bearer {token}"}

    @property
    def version(self) -> str:
        return str(self.ctx.credentials.get("api_version") or GRAPH_VERSION)

    def path(self, *parts: object) -> str:
        return "/" + "/".join([self.version, *(str(p) for p in parts)])

    def classify(self, response: httpx.Response) -> ConnectorError | None:
        if response.status_code < 400:
            return None
        error = graph_error(response)
        code = _code(error)
        message = self.error_text(response) or f"HTTP {response.status_code}"
        # Meta types most errors "OAuthException" (a bad parameter, a closed messaging window too):
        # only the token and permission codes are auth failures (they pause the store).
        if code in TOKEN_ERRORS and error.get("error_subcode") not in WINDOW_SUBCODES:
            return AuthError(message, status=response.status_code, code=str(code or ""))
        if code in RATE_ERRORS or response.status_code == 429:
            return RateLimited(
                message,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
                status=response.status_code,
                code=str(code or ""),
            )
        if code in TRANSIENT_ERRORS or response.status_code >= 500:
            return ConnectorError(message, status=response.status_code, code=str(code or ""))
        return ConnectorError(message, permanent=True, status=response.status_code, code=str(code or ""))

    def error_text(self, response: httpx.Response) -> str:
        error = graph_error(response)
        if not error:
            return super().error_text(response)
        message = str(error.get("message") or "")
        details = error.get("error_data")
        if isinstance(details, Mapping) and details.get("details"):
            message = f"{message}: {details['details']}"
        code = _code(error)
        return (f"{message} (code {code})" if code is not None else message)[:1000]

    def call(self, method: str, *parts: object, **kwargs: Any) -> Mapping[str, Any]:
        response = self.request(method, self.path(*parts), **kwargs)
        try:
            data = response.json()
        except ValueError as exc:
            raise ConnectorError("Meta answered with a body that is not JSON") from exc
        if not isinstance(data, Mapping):
            raise ConnectorError("Meta answered with a body that is not an object")
        return data


def hub_signature(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def verify_hub_signature(*, app_secret: str, headers: Mapping[str, str], body: bytes) -> None:
    """Raise SignatureInvalid unless X-Hub-Signature-256 is the HMAC-SHA256 of the raw body."""
    given = str(headers.get(SIGNATURE_HEADER) or headers.get(SIGNATURE_HEADER.lower()) or "").strip()
    if not app_secret or not given.startswith("sha256="):
        raise SignatureInvalid("missing X-Hub-Signature-256 or app secret")
    if not hmac.compare_digest(hub_signature(app_secret, body).encode(), given.lower().encode()):
        raise SignatureInvalid("X-Hub-Signature-256 does not verify")


def hub_handshake(params: Mapping[str, str], *, verify_token: str) -> str | None:
    """The challenge to echo when Meta subscribes the callback URL with this store's verify token,
    else None (answered 403)."""
    if params.get("hub.mode") != "subscribe" or not verify_token:
        return None
    given = str(params.get("hub.verify_token") or "")
    if not hmac.compare_digest(given.encode(), verify_token.encode()):
        return None
    challenge = str(params.get("hub.challenge") or "")
    return challenge or None
