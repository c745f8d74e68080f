"""Reads for pickers and profiles."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from .models import ApiToken, Permission, Team, User
from .permissions import has_perm
from .tokens import token_digest


def users_of_organization(user: Any, *, can_process: bool = False) -> list[User]:
    """Active colleagues (for assignee pickers and @mention completion)."""
    qs = User.objects.filter(organization_id=user.organization_id, is_active=True).select_related("role")
    users = list(qs.order_by("username"))
    if can_process:
        users = [u for u in users if has_perm(u, Permission.PROCESS)]
    return users


def teams_of_organization(user: Any) -> QuerySet[Team]:
    return Team.objects.filter(organization_id=user.organization_id).order_by("name")


def api_tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at")


def token_for_secret(raw: str) -> ApiToken | None:
    """The valid (unrevoked, unexpired) token of an active user with this secret, or None; its user
    is loaded with role and organization. Records the use (at most once a minute)."""
    if not raw or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user", "user__role", "user__organization")
        .filter(digest=token_digest(raw), revoked_at__isnull=True)
        .first()
    )
    now = timezone.now()
    if token is None or token.expires_at <= now or not token.user.is_active:
        return None
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def user_for_token(raw: str) -> User | None:
    """The active user owning a valid (unrevoked, unexpired) token, or None. Updates last use."""
    token = token_for_secret(raw)
    return token.user if token is not None else None
