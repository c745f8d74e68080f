"""Mailboxes that sign in with OAuth 2.0 (XOAUTH2): Gmail / Google Workspace and Microsoft 365.

Google and Microsoft no longer take plain passwords for IMAP and SMTP on most accounts (Microsoft
switched basic authentication off for Exchange Online); they take an OAuth 2.0 access token through
the SASL mechanism XOAUTH2. A mailbox store with `auth = "oauth2"` holds the seller's own OAuth client
(`oauth_client_id`, `oauth_client_secret`, registered in their Google Cloud or Entra ID console with
this site's redirect address) and, once an admin has connected it, a refresh token. The protocol
pieces (authorization URL, PKCE S256 challenge, token requests, the callback's parameters) come
from authlib; the HTTP calls are plain httpx with our error classification.

Flow: `authorization_request` builds the provider's consent URL (state and PKCE verifier returned
to the caller, who keeps them in the admin's session); the provider redirects back with a code;
`exchange_code` trades it (with the verifier) for tokens; `access_token` hands out a valid access
token, refreshing it a minute before it expires (or after the server refused it) and saving the
new one through `ctx.save_credentials` (encrypted at rest; never logged). A refused refresh token
(`invalid_grant`: revoked, expired, password changed) is an AuthError: the store pauses and asks a
human to connect it again.

Providers: "google" and "microsoft" (tenant in `oauth_tenant`, default "organizations"), or
"custom" with `oauth_authorize_url` / `oauth_token_url` / `oauth_scopes` (a self-hosted identity
provider; the tests' local one)."""

from __future__ import annotations

import dataclasses
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from aftersales.channels.base import AuthError, ConnectorError, StoreContext

REFRESH_AHEAD = timedelta(seconds=60)
TIMEOUT_SECONDS = 20.0
_lock = threading.Lock()


@dataclass(frozen=True)
class Provider:
    authorize_url: str
    token_url: str
    scopes: tuple[str, ...]
    extra: tuple[tuple[str, str], ...] = ()  # extra authorization parameters


PROVIDERS: dict[str, Provider] = {
    # https://developers.google.com/gmail/imap/xoauth2-protocol: the full-mail scope covers IMAP and SMTP;
    # access_type=offline + prompt=consent make Google return a refresh token every time.
    "google": Provider(
        authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
        token_url="https://oauth2.googleapis.com/token",  # noqa: S106 (a URL, not a password)
        scopes=("https://mail.google.com/",),
        extra=(("access_type", "offline"), ("prompt", "consent")),
    ),
    # https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth
    "microsoft": Provider(
        authorize_url="https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
        token_url="https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",  # noqa: S106 (a URL)
        scopes=(
            "https://outlook.office.com/IMAP.AccessAsUser.All",
            "https://outlook.office.com/SMTP.Send",
            "offline_access",
        ),
    ),
}
PROVIDER_NAMES = (*PROVIDERS, "custom")


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str
    state: str
    code_verifier: str


def _credentials_error(message: str) -> ConnectorError:
    return ConnectorError(message, permanent=True, code="credentials")


def provider_of(credentials: Mapping[str, Any]) -> Provider:
    """The provider's endpoints and scopes for this mailbox's credentials."""
    name = str(credentials.get("oauth_provider") or "")
    if name == "custom":
        authorize = str(credentials.get("oauth_authorize_url") or "")
        token = str(credentials.get("oauth_token_url") or "")
        scopes = credentials.get("oauth_scopes") or []
        if isinstance(scopes, str):
            scopes = scopes.replace(",", " ").split()
        if not authorize or not token:
            raise _credentials_error("a custom OAuth provider needs oauth_authorize_url and oauth_token_url")
        return Provider(authorize_url=authorize, token_url=token, scopes=tuple(str(s) for s in scopes))
    if name not in PROVIDERS:
        raise _credentials_error(f"unknown OAuth provider {name!r}: choose google, microsoft or custom")
    provider = PROVIDERS[name]
    tenant = str(credentials.get("oauth_tenant") or "organizations")
    return dataclasses.replace(
        provider,
        authorize_url=provider.authorize_url.format(tenant=tenant),
        token_url=provider.token_url.format(tenant=tenant),
    )


def _client(credentials: Mapping[str, Any]) -> tuple[str, str]:
    client_id = str(credentials.get("oauth_client_id") or "")
    secret = str(credentials.get("oauth_client_secret") or "")
    if not client_id or not secret:
        raise _credentials_error("the mailbox's OAuth client id and secret are not set")
    return client_id, secret


def authorization_request(credentials: Mapping[str, Any], *, redirect_uri: str) -> AuthorizationRequest:
    """The provider's consent URL for this mailbox (authorization code with PKCE S256). The caller
    keeps `state` and `code_verifier` until the provider redirects back."""
    provider = provider_of(credentials)
    client_id, _secret = _client(credentials)
    state = secrets.token_urlsafe(24)
    from authlib.oauth2.rfc6749.parameters import prepare_grant_uri  # authlib where it is used (issue 13)
    from authlib.oauth2.rfc7636 import create_s256_code_challenge

    verifier = secrets.token_urlsafe(48)
    extra = dict(provider.extra)
    login_hint = str(credentials.get("address") or "")
    if login_hint:
        extra["login_hint"] = login_hint
    url = prepare_grant_uri(
        provider.authorize_url,
        client_id,
        "code",
        redirect_uri=redirect_uri,
        scope=list(provider.scopes),
        state=state,
        code_challenge=create_s256_code_challenge(verifier),
        code_challenge_method="S256",
        **extra,
    )
    return AuthorizationRequest(url=url, state=state, code_verifier=verifier)


def parse_callback(uri: str, *, state: str) -> str:
    """The authorization code of the provider's redirect back to us; AuthError when it carries an
    error (the admin refused consent) or another state (a forged or stale callback)."""
    from authlib.oauth2.rfc6749.errors import OAuth2Error
    from authlib.oauth2.rfc6749.parameters import parse_authorization_code_response

    try:
        return str(parse_authorization_code_response(uri, state=state)["code"])
    except OAuth2Error as exc:
        raise AuthError(f"the provider did not authorise the mailbox: {exc.error}", code="oauth_callback") from exc


def _token_call(provider: Provider, credentials: Mapping[str, Any], body: str) -> dict[str, Any]:
    client_id, secret = _client(credentials)
    try:
        with httpx.Client(timeout=TIMEOUT_SECONDS) as http:
            response = http.post(
                provider.token_url,
                content=body,
                auth=(client_id, secret),  # client_secret_basic (Google and Microsoft both take it)
                headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            )
    except httpx.HTTPError as exc:
        raise ConnectorError(
            f"the OAuth token endpoint could not be reached: {type(exc).__name__}", code="oauth"
        ) from exc
    try:
        data = response.json()
    except ValueError:
        data = {}
    if response.status_code >= 500 or response.status_code == 429:
        raise ConnectorError(f"the OAuth token endpoint failed for now (HTTP {response.status_code})", code="oauth")
    if response.status_code != 200 or not isinstance(data, dict) or not data.get("access_token"):
        error = data.get("error", "") if isinstance(data, dict) else ""
        described = data.get("error_description", "") if isinstance(data, dict) else ""
        raise AuthError(
            f"the OAuth provider refused the mailbox's tokens ({error or response.status_code}"
            f"{': ' + described if described else ''}): connect the mailbox again",
            code=str(error or "oauth"),
        )
    return data


def _token_updates(data: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
    updates: dict[str, Any] = {"oauth_access_token": str(data["access_token"])}
    try:
        lifetime = int(data.get("expires_in") or 3600)
    except (TypeError, ValueError):
        lifetime = 3600
    updates["oauth_access_token_expires_at"] = (now + timedelta(seconds=lifetime)).isoformat()
    if data.get("refresh_token"):  # Microsoft rotates refresh tokens; Google keeps the first one
        updates["oauth_refresh_token"] = str(data["refresh_token"])
    return updates


def exchange_code(
    credentials: Mapping[str, Any], *, code: str, redirect_uri: str, code_verifier: str, now: datetime | None = None
) -> dict[str, Any]:
    """Trade the authorization code for tokens; returns the credential updates to save. A provider
    that returns no refresh token (the consent screen was skipped) is refused: the mailbox could
    not stay connected."""
    from authlib.oauth2.rfc6749.parameters import prepare_token_request

    provider = provider_of(credentials)
    body = prepare_token_request(
        "authorization_code", code=code, redirect_uri=redirect_uri, code_verifier=code_verifier
    )
    data = _token_call(provider, credentials, body)
    if not data.get("refresh_token"):
        raise AuthError(
            "the OAuth provider gave no refresh token (offline access was not granted): connect again",
            code="oauth_no_refresh_token",
        )
    return _token_updates(data, now=now or datetime.now(UTC))


def needs_refresh(credentials: Mapping[str, Any], *, now: datetime | None = None) -> bool:
    if not credentials.get("oauth_access_token"):
        return True
    expires = credentials.get("oauth_access_token_expires_at")
    try:
        at = datetime.fromisoformat(str(expires))
    except ValueError:
        return True
    return at <= (now or datetime.now(UTC)) + REFRESH_AHEAD


def access_token(ctx: StoreContext, *, force: bool = False, now: datetime | None = None) -> tuple[StoreContext, str]:
    """A valid access token for the mailbox (refreshed and saved when due, or when `force`: the
    server refused the one we had). Returns the context with the current credentials and the token."""
    creds = dict(ctx.credentials or {})
    if not creds.get("oauth_refresh_token"):
        raise AuthError(
            "the mailbox is not connected to its OAuth provider yet: connect it", code="oauth_not_connected"
        )
    if not force and not needs_refresh(creds, now=now):
        return ctx, str(creds["oauth_access_token"])
    from authlib.oauth2.rfc6749.parameters import prepare_token_request

    with _lock:
        provider = provider_of(creds)
        body = prepare_token_request("refresh_token", refresh_token=str(creds["oauth_refresh_token"]))
        updates = _token_updates(_token_call(provider, creds, body), now=now or datetime.now(UTC))
        ctx.save_credentials(updates)
    return dataclasses.replace(ctx, credentials={**creds, **updates}), str(updates["oauth_access_token"])


def xoauth2(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial client response (before base64)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"
