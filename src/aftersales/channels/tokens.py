"""Short-lived access tokens renewed from a refresh token, shared by the marketplace clients
(Shopee, TikTok Shop). The client keeps its own copy of the store's credentials; a renewal runs on
the stored credentials under the store's row lock (StoreContext.refresh_credentials) when the
engine provides it, so two workers never spend one refresh token: the second finds the token the
first one saved and uses it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from .base import AuthError, StoreContext

REFRESH_MARGIN = timedelta(minutes=5)


class RefreshingTokens:
    """Mixin: `credentials` (this client's copy), `ctx`, `clock` (epoch seconds) and
    `fetch_tokens(refresh_token) -> {"access_token", "access_token_expires_at", ...}` come from
    the client."""

    credentials: dict[str, Any]
    ctx: StoreContext
    clock: Callable[[], float]
    platform_name = ""

    def fetch_tokens(self, refresh_token: str) -> dict[str, Any]:  # pragma: no cover (abstract)
        raise NotImplementedError

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), tz=UTC)

    def _fresh(self, credentials: Mapping[str, Any]) -> bool:
        token = str(credentials.get("access_token") or "")
        try:
            expires = datetime.fromisoformat(str(credentials.get("access_token_expires_at") or ""))
        except ValueError:
            return False
        return bool(token) and expires.tzinfo is not None and expires - REFRESH_MARGIN > self._now()

    def _refresh_from(self, current: Mapping[str, Any], stale: str) -> dict[str, Any]:
        """The new tokens for `current` (the credentials as stored), or {} when another worker has
        already replaced the `stale` token with a fresh one."""
        if self._fresh(current) and str(current.get("access_token")) != stale:
            return {}
        refresh_token = str(current.get("refresh_token") or self.credentials.get("refresh_token") or "")
        if not refresh_token:
            raise AuthError(f"{self.platform_name} credentials are missing refresh_token", code="credentials")
        return self.fetch_tokens(refresh_token)

    def refresh_access_token(self, stale: str = "") -> str:
        """A new access token (and the refresh token the platform answers with), saved at once."""
        if self.ctx.refresh_credentials is not None:
            self.credentials.update(self.ctx.refresh_credentials(lambda current: self._refresh_from(current, stale)))
        else:
            updates = self._refresh_from(self.credentials, stale)
            self.credentials.update(updates)
            self.ctx.save_credentials(updates)
        return str(self.credentials.get("access_token") or "")

    def access_token(self) -> str:
        if self._fresh(self.credentials):
            return str(self.credentials["access_token"])
        return self.refresh_access_token(stale=str(self.credentials.get("access_token") or ""))
