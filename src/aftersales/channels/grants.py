"""What a connector's first authorisation (`connectors/<platform>/auth.py`) takes and gives: the
types shared by those modules and the service that drives them (channels/authorization.py).

A platform's auth module offers:

- `APP_FIELDS`: the app keys the store must hold first; `CALLBACK_FIELDS`: the query parameters
  its redirect back must carry (besides `state`); `consent_origin(ctx)`: where the admin is sent
  (the store page allows it as a form target);
- `authorize_url(ctx, *, redirect_uri, state, clock) -> str`: the platform's consent page for the
  store's app (its keys are in `ctx.credentials`);
- `exchange(ctx, *, params, redirect_uri, clock) -> Grant`: the callback's parameters (already
  known to carry CALLBACK_FIELDS) traded for tokens at the platform (ctx.base_url: the local fake
  in tests). A parameter that is malformed or forged: `CallbackRefused(field, message)` before
  any call; the platform refusing the code: AuthError with its words; transient: ConnectorError.

Optional: `validate_start(ctx, *, shop) -> str` (Shopify: the shop domain the admin typed, checked
and normalised) and `state_in_redirect = True` (Shopee sends no `state` back: the state rides in
the redirect address's own query)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CODE = re.compile(r"^[A-Za-z0-9._~+/=-]{1,512}$")
REDIRECT_PATH = "/settings/stores/authorization/callback/"


def redirect_uri() -> str:
    """The address the platforms send the admin back to: register it in each app's settings
    (Settings > Marketplace apps shows it)."""
    from django.conf import settings

    return settings.SITE_URL.rstrip("/") + REDIRECT_PATH


@dataclass(frozen=True)
class Grant:
    """The credentials to merge into the store's (encrypted), and what the platform said the
    authorised account is."""

    credentials: Mapping[str, Any]
    account_id: str = ""  # the shop / seller / merchant id on the platform
    account_name: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)


class CallbackRefused(Exception):
    """A callback parameter is missing, malformed or forged: nothing is called, nothing saved."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def callback_code(params: Mapping[str, str], name: str = "code") -> str:
    """The authorization code of a callback, checked for shape (one token of URL-safe characters)."""
    value = str(params.get(name) or "")
    if not CODE.match(value):
        raise CallbackRefused(name, f"{name} must be the platform's authorization code (1-512 URL-safe characters)")
    return value


def callback_digits(params: Mapping[str, str], name: str) -> str:
    value = str(params.get(name) or "")
    if not value.isascii() or not value.isdigit() or len(value) > 20:
        raise CallbackRefused(name, f"{name} must be a number")
    return value


def refused_or_transient(exc: Exception, platform: str) -> Exception:
    """A token call's ConnectorError as the authorization service reads it: the platform refusing
    (permanent, or an AuthError) becomes an AuthError with its words; the rest stays transient."""
    from .base import AuthError, ConnectorError

    if isinstance(exc, AuthError):
        return AuthError(f"{platform} refused the authorization code: {exc}", status=exc.status, code=exc.code)
    if isinstance(exc, ConnectorError) and exc.permanent:
        return AuthError(f"{platform} refused the authorization code: {exc}", status=exc.status, code=exc.code)
    return exc


def token_call(client: Any, platform: str, method: str, url: str, **kwargs: Any) -> Any:
    """One call of a token endpoint through the connector's PlatformClient (throttled, classified,
    not retried: a code is valid once); its JSON answer. Errors as `refused_or_transient` says."""
    from .base import ConnectorError

    try:
        response = client.request(method, url, retry=False, **kwargs)
    except ConnectorError as exc:
        raise refused_or_transient(exc, platform) from exc
    try:
        return response.json() if response.content else {}
    except ValueError:
        raise ConnectorError(f"{platform} answered the token call with malformed JSON", permanent=True) from None
