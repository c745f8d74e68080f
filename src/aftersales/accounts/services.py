"""Writes of accounts: API tokens, user preferences."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from aftersales.core.errors import Conflict, NotFound, ValidationFailed

from .models import DEFAULT_ROLE_PERMISSIONS, ApiToken, Organization, Role, RoleKind, User, UserLanguage

TOKEN_PREFIX = "as_"  # noqa: S105 (a public prefix, not a secret)


def token_digest(raw: str) -> str:
    # Tokens carry 256 bits of randomness, so a fast hash is safe here (no brute force is feasible);
    # a slow KDF would only slow every API call. See docs/adr/0002-api-tokens.md.
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_create(*, user: User, name: str, expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """Create a token; returns it with the raw secret, which is shown once and never stored."""
    clean = " ".join(name.split())
    if not clean or len(clean) > 80:
        raise ValidationFailed("token name must have 1 to 80 characters", field="name")
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed("expiry must be in the future", field="expires_at")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, name=clean, prefix=raw[:10], digest=token_digest(raw), expires_at=expires_at
        )
    return token, raw


def api_token_revoke(*, user: User, token_id: int) -> None:
    updated = ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if not updated:
        raise NotFound("token not found", field="token_id")


def user_set_language(*, user: User, language: str) -> User:
    if language not in UserLanguage.values:
        raise ValidationFailed(
            f"unknown language {language!r}; expected one of {', '.join(UserLanguage.values)}", field="language"
        )
    user.language = language
    user.save(update_fields=["language"])
    return user


def organization_create(
    *,
    name: str,
    admin_username: str,
    admin_email: str,
    admin_password: str,
    timezone_name: str = "Asia/Shanghai",
    language: str = UserLanguage.ZH_HANS,
) -> tuple[Organization, User]:
    """Start a seller's installation: the organization, its four default roles and its first admin.

    The admin administers the organization in the agent UI's settings. They are never Django staff
    or a superuser: the Django admin is not scoped by organization and belongs to the installation's
    operator alone (an account without organization, see accounts/admin.py)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    clean_name = " ".join(name.split())
    if not clean_name or len(clean_name) > 200:
        raise ValidationFailed("organization name must have 1 to 200 characters", field="name")
    try:
        ZoneInfo(timezone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(f"unknown time zone {timezone_name!r}", field="timezone") from None
    if language not in UserLanguage.values:
        raise ValidationFailed(f"unknown language {language!r}", field="language")
    user = User(username=admin_username, email=admin_email)
    try:
        validate_password(admin_password, user)
    except ValidationError as exc:
        raise ValidationFailed(" ".join(exc.messages), field="admin_password") from None
    slug = slugify(clean_name)[:80] or "seller"
    try:
        with transaction.atomic():
            org = Organization.objects.create(name=clean_name, slug=slug, timezone=timezone_name)
            roles = {
                kind: Role.objects.create(
                    organization=org,
                    kind=kind,
                    name=str(kind.label),
                    permissions=[str(p) for p in DEFAULT_ROLE_PERMISSIONS[kind]],
                )
                for kind in RoleKind
            }
            user.organization = org
            user.role = roles[RoleKind.ADMIN]
            user.language = language
            user.is_staff = False
            user.is_superuser = False
            user.set_password(admin_password)
            user.save()
    except IntegrityError:
        raise Conflict(
            "an organization with that name or a user with that username already exists", field="name"
        ) from None
    return org, user
