"""Writes of accounts: API tokens, user preferences."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from aftersales.core.errors import NotFound, ValidationFailed

from .models import ApiToken, User, UserLanguage

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
