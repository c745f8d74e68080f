"""The signed-in user: profile and API tokens. Colleagues, teams and roles: routers/people.py."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status

from aftersales.accounts.selectors import api_tokens_of
from aftersales.accounts.services import api_token_create, api_token_revoke, user_set_language

from ..auth import current_token, current_user
from ..schemas.accounts import (
    MeOut,
    MePatchIn,
    TokenCreatedOut,
    TokenCreateIn,
    TokenOut,
)
from ..schemas.common import Id, with_errors

router = Router(tags=["accounts"])


def _me(user: Any) -> dict[str, Any]:
    return {
        "id": user.pk,
        "username": user.username,
        "display_name": str(user),
        "email": user.email,
        "language": user.language,
        "organization": user.organization,
        "role": user.role,
        "teams": list(user.teams.order_by("name")),
    }


@router.get("/me", response=with_errors({200: MeOut}))
def me(request: HttpRequest) -> dict[str, Any]:
    """You: organization, role with its permissions, teams."""
    return _me(current_user(request))


@router.patch("/me", response=with_errors({200: MeOut}))
def update_me(request: HttpRequest, payload: MePatchIn) -> dict[str, Any]:
    """Your preferences: the UI and working language (en or zh-hans)."""
    user = user_set_language(user=current_user(request), language=payload.language.value)
    return _me(user)


@router.get("/me/tokens", response=with_errors({200: list[TokenOut]}))
def list_tokens(request: HttpRequest) -> Any:
    """Your active API tokens (the secrets themselves are never shown again)."""
    return api_tokens_of(current_user(request))


@router.post("/me/tokens", response=with_errors({201: TokenCreatedOut}))
def create_token(request: HttpRequest, payload: TokenCreateIn) -> Status[Any]:
    """Create an API token. The `token` in the answer is shown this once only.

    From a signed-in session; with a token only if it has the `tokens` scope, and then the new
    token has no scope it lacks and expires no later than it."""
    token, raw = api_token_create(
        user=current_user(request),
        name=payload.name,
        scopes=[scope.value for scope in payload.scopes],
        expires_at=payload.expires_at,
        created_by_token=current_token(request),
    )
    return Status(
        201,
        {
            "id": token.pk,
            "name": token.name,
            "prefix": token.prefix,
            "scopes": token.scopes,
            "created_at": token.created_at,
            "last_used_at": token.last_used_at,
            "expires_at": token.expires_at,
            "token": raw,
        },
    )


@router.delete("/me/tokens/{token_id}", response=with_errors({204: None}))
def revoke_token(request: HttpRequest, token_id: Id) -> Status[None]:
    """Revoke one of your tokens; it stops working at once."""
    api_token_revoke(user=current_user(request), token_id=token_id)
    return Status(204, None)
