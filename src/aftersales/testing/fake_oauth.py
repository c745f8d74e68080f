"""A local OAuth 2.0 provider for mailbox sign-in tests (what Google's and Microsoft's identity
platforms do for IMAP/SMTP XOAUTH2, on 127.0.0.1):

- GET /authorize: the authorization-code grant with PKCE (S256 only), checks the client id, the
  registered redirect URI and the scopes, and "consents" at once: 302 to the redirect URI with a
  one-time code and the state (or `error=access_denied` when told to refuse);
- POST /token: client_secret_basic; `authorization_code` (code, redirect URI and code_verifier must
  match; one use) and `refresh_token` grants; access tokens expire after `token_lifetime` seconds;
  refresh tokens can be revoked (`invalid_grant`); `rotate_refresh_tokens` (Microsoft-like);
- POST /introspect (RFC 7662): what dovecot's oauth2 passdb asks to check a token
  ({"active": true, "email": <user>}), and `valid_token(user, token)` for the test SMTP server.

Every grant and check is recorded in `requests` (FakePlatform)."""

from __future__ import annotations

import base64
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

from authlib.oauth2.rfc7636 import create_s256_code_challenge

from .fake_platform import FakePlatform, FakeRequest, FakeResponse, json_response


@dataclass
class _Grant:
    user: str
    redirect_uri: str
    challenge: str
    scope: str


@dataclass
class _Token:
    user: str
    expires: float
    scope: str = ""


@dataclass
class FakeOAuthProvider(FakePlatform):
    client_id: str = "fake-mail-client"
    client_secret: str = "fake-mail-secret"  # noqa: S105 (a fake's test secret)
    redirect_uris: set[str] = field(default_factory=set)
    scopes: tuple[str, ...] = ("mail.imap", "mail.smtp", "offline_access")
    user: str = "support@example.com"  # who consents
    token_lifetime: int = 3600
    rotate_refresh_tokens: bool = False
    refuse_consent: bool = False
    give_refresh_token: bool = True

    def __post_init__(self) -> None:
        self.codes: dict[str, _Grant] = {}
        self.access_tokens: dict[str, _Token] = {}
        self.refresh_tokens: dict[str, _Token] = {}
        super().__init__()

    name = "oauth"

    def setup_routes(self) -> None:
        self.route("GET", r"/authorize", self._authorize)
        self.route("POST", r"/token", self._token)
        self.route("POST", r"/introspect", self._introspect)

    # -- helpers for tests -------------------------------------------------------------------------
    def valid_token(self, user: str, token: str) -> bool:
        with self.lock:
            found = self.access_tokens.get(token)
        return found is not None and found.user == user and found.expires > time.time()

    def expire_access_tokens(self) -> None:
        with self.lock:
            for token in self.access_tokens.values():
                token.expires = 0

    def revoke_refresh_tokens(self) -> None:
        with self.lock:
            self.refresh_tokens.clear()

    # -- endpoints -----------------------------------------------------------------------------------
    def _authorize(self, request: FakeRequest) -> FakeResponse:
        args = {k: v[0] for k, v in request.query.items()}
        if args.get("client_id") != self.client_id:
            return json_response({"error": "unauthorized_client"}, 400)
        redirect = args.get("redirect_uri", "")
        if redirect not in self.redirect_uris:
            return json_response({"error": "invalid_request", "error_description": "redirect_uri not registered"}, 400)
        if args.get("response_type") != "code" or args.get("code_challenge_method") != "S256":
            return json_response({"error": "invalid_request", "error_description": "code + S256 PKCE only"}, 400)
        asked = set((args.get("scope") or "").split())
        if not asked or not asked <= set(self.scopes):
            return self._back(redirect, {"error": "invalid_scope", "state": args.get("state", "")})
        if self.refuse_consent:
            return self._back(redirect, {"error": "access_denied", "state": args.get("state", "")})
        code = secrets.token_urlsafe(16)
        with self.lock:
            self.codes[code] = _Grant(self.user, redirect, args.get("code_challenge", ""), " ".join(sorted(asked)))
        return self._back(redirect, {"code": code, "state": args.get("state", "")})

    @staticmethod
    def _back(redirect: str, params: dict[str, str]) -> FakeResponse:
        return FakeResponse(status=302, body=b"", headers={"Location": f"{redirect}?{urlencode(params)}"})

    def _client_ok(self, request: FakeRequest) -> bool:
        header = request.headers.get("authorization", "")
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        return header == f"Basic {expected}"

    def _token(self, request: FakeRequest) -> FakeResponse:
        if not self._client_ok(request):
            return json_response({"error": "invalid_client"}, 401)
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        grant = form.get("grant_type")
        with self.lock:
            if grant == "authorization_code":
                found = self.codes.pop(form.get("code", ""), None)
                if found is None or found.redirect_uri != form.get("redirect_uri"):
                    return json_response({"error": "invalid_grant", "error_description": "unknown or used code"}, 400)
                if create_s256_code_challenge(form.get("code_verifier", "")) != found.challenge:
                    return json_response(
                        {"error": "invalid_grant", "error_description": "PKCE verification failed"}, 400
                    )
                return self._issue(found.user, found.scope, refresh=self.give_refresh_token)
            if grant == "refresh_token":
                old = form.get("refresh_token", "")
                found_token = self.refresh_tokens.get(old)
                if found_token is None:
                    return json_response({"error": "invalid_grant", "error_description": "refresh token revoked"}, 400)
                if self.rotate_refresh_tokens:
                    del self.refresh_tokens[old]
                return self._issue(found_token.user, found_token.scope, refresh=self.rotate_refresh_tokens)
        return json_response({"error": "unsupported_grant_type"}, 400)

    def _issue(self, user: str, scope: str, *, refresh: bool) -> FakeResponse:
        access = "at-" + secrets.token_urlsafe(24)
        self.access_tokens[access] = _Token(user, time.time() + self.token_lifetime, scope)
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.token_lifetime,
            "scope": scope,
        }
        if refresh:
            token = "rt-" + secrets.token_urlsafe(24)
            self.refresh_tokens[token] = _Token(user, time.time() + 90 * 86400, scope)
            body["refresh_token"] = token
        return json_response(body)

    def _introspect(self, request: FakeRequest) -> FakeResponse:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        with self.lock:
            found = self.access_tokens.get(form.get("token", ""))
        if found is None or found.expires <= time.time():
            return json_response({"active": False})
        return json_response({"active": True, "email": found.user, "scope": found.scope})
