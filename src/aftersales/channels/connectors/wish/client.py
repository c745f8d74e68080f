"""A thin httpx client for the Wish Merchant API v3 on the engine's PlatformClient: OAuth2 bearer
tokens (`Authorization: Bearer <access_token>`), renewed from the refresh token
(GET /api/v3/oauth/refresh_token with client_id, client_secret, refresh_token,
grant_type=refresh_token; saved at once, encrypted, under the store's row lock). A call Wish
refuses with 401 is renewed once and sent again; a second refusal, or a refused renewal, is an
AuthError with Wish's own words (the engine pauses the store with them).

Answers are {"code": 0, "data": ..., "message": ""}; errors carry a non-zero `code` and `message`.
Credentials (Store.credentials, never logged):
  client_id, client_secret   the app's (Wish Merchant Dashboard > Settings > API settings)
  refresh_token              from the merchant's authorisation (oauth/access_token), renewed here
  access_token, access_token_expires_at   written by this client
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from aftersales.channels.base import AuthError, ConnectorError, StoreContext
from aftersales.channels.http import PlatformClient, json_object
from aftersales.channels.tokens import RefreshingTokens

DEFAULT_BASE_URL = "https://merchant.wish.com"
REFRESH_PATH = "/api/v3/oauth/refresh_token"
DEFAULT_TOKEN_LIFE = timedelta(days=30)


class WishClient(RefreshingTokens, PlatformClient):
    bucket = "wish"
    platform_name = "Wish"

    def __init__(self, ctx: StoreContext, *, clock: Callable[[], float] = time.time, **options: Any) -> None:
        super().__init__(ctx, **options)
        self.credentials: dict[str, Any] = dict(ctx.credentials)
        self.clock = clock

    def __enter__(self) -> WishClient:
        return self

    def base(self) -> str:
        return (self.ctx.base_url or "").rstrip("/") or DEFAULT_BASE_URL

    def error_text(self, response: httpx.Response) -> str:
        data = json_object(response)
        if not data:
            return response.text[:300].strip()
        code, message = data.get("code"), str(data.get("message") or "")
        return (f"{message} (code {code})" if code not in (None, 0) and message else message or str(code or ""))[:1000]

    def error_code(self, response: httpx.Response) -> str:
        code = json_object(response).get("code")
        return "" if code in (None, 0) else str(code)

    def fetch_tokens(self, refresh_token: str) -> dict[str, Any]:
        missing = [n for n in ("client_id", "client_secret") if not str(self.credentials.get(n) or "").strip()]
        if missing:
            raise AuthError(f"Wish credentials are missing {', '.join(missing)}", code="credentials")
        try:
            response = self.request(
                "GET",
                self.base() + REFRESH_PATH,
                bucket="wish:auth",
                retry=False,
                params={
                    "client_id": self.credentials["client_id"],
                    "client_secret": self.credentials["client_secret"],
                    "refresh_token": refresh_token,
                    "grant_type": "refresh_token",
                },
            )
        except ConnectorError as exc:
            if exc.permanent:
                raise AuthError(f"Wish refused the token refresh: {exc}", status=exc.status, code=exc.code) from exc
            raise
        data = json_object(response).get("data")
        token = data.get("access_token") if isinstance(data, Mapping) else None
        if not isinstance(data, Mapping) or not isinstance(token, str) or not token:
            raise ConnectorError("Wish answered the token refresh without an access_token")
        try:
            expires = datetime.fromisoformat(str(data["expiry_time"]))
            expires = expires if expires.tzinfo else expires.replace(tzinfo=UTC)
        except (KeyError, ValueError):
            expires = self._now() + DEFAULT_TOKEN_LIFE
        updates = {"access_token": token, "access_token_expires_at": expires.isoformat()}
        if isinstance(data.get("refresh_token"), str) and data["refresh_token"]:
            updates["refresh_token"] = data["refresh_token"]
        return updates

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        bucket: str = "wish",
        idempotent: bool = True,
    ) -> Any:
        """One call; returns the answer's `data`. A 401 renews the token once; the second is final."""
        refreshed = False
        while True:
            token = self.access_token()
            content = None if body is None else json.dumps(body, separators=(",", ":")).encode()
            headers = {"Authorization": f"Bearer {token}"}
            if content is not None:
                headers["Content-Type"] = "application/json"
            try:
                response = self.request(
                    method,
                    self.base() + path,
                    bucket=bucket,
                    idempotent=idempotent,
                    params=params,
                    content=content,
                    headers=headers,
                )
            except AuthError as exc:
                if exc.status == 401 and not refreshed:
                    refreshed = True
                    self.refresh_access_token(stale=token)
                    continue
                raise AuthError(f"Wish refused the credentials: {exc}", status=exc.status, code=exc.code) from exc
            data = json_object(response)
            if "data" not in data:
                raise ConnectorError(f"Wish answered {method} {path} without data")
            return data["data"]
