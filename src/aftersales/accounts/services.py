"""Writes of accounts: API tokens, user preferences."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from aftersales.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

from .audit import org_setting_change_record  # noqa: F401 (the services' entry to the settings audit)
from .models import (
    DEFAULT_ROLE_PERMISSIONS,
    ApiToken,
    Organization,
    Permission,
    Role,
    RoleKind,
    TokenScope,
    User,
    UserLanguage,
)
from .permissions import has_perm
from .tokens import token_digest

TOKEN_PREFIX = "as_"  # noqa: S105 (a public prefix, not a secret)
# Every token expires: 90 days unless asked otherwise, at most a year (docs/adr/0002-api-tokens.md).
TOKEN_DEFAULT_LIFETIME = timedelta(days=90)
TOKEN_MAX_LIFETIME = timedelta(days=365)
# Least privilege: a token reads unless it is given more.
TOKEN_DEFAULT_SCOPES: tuple[str, ...] = (TokenScope.READ,)


def check_token_request(
    *, user: User, scopes: Iterable[str], expires_at: datetime | None, created_by_token: ApiToken | None
) -> tuple[list[str], datetime]:
    """Validate what a new token asks for; returns its scopes (in TokenScope order) and its expiry.

    `created_by_token` is the token the request came with when a token mints this one (None: a
    signed-in session). Only a token with the `tokens` scope may, and what it mints can be neither
    wider nor longer-lived than itself, so a token cannot escape its own expiry."""
    if created_by_token is not None and TokenScope.TOKENS not in created_by_token.scopes:
        raise PermissionDenied(
            _("API tokens are created from a signed-in session, or with a token that has the “tokens” scope")
        )
    wanted = {str(scope) for scope in scopes}
    unknown = sorted(wanted - set(TokenScope.values))
    if unknown:
        raise ValidationFailed(
            _("unknown scope %(scope)s; expected some of %(expected)s")
            % {"scope": unknown[0][:40], "expected": ", ".join(TokenScope.values)},
            field="scopes",
        )
    if not wanted:
        raise ValidationFailed(_("choose at least one scope"), field="scopes")
    wanted.add(TokenScope.READ)  # every scope reads: a change needs the object in sight
    if created_by_token is not None:
        wider = [scope for scope in TokenScope.values if scope in wanted and scope not in created_by_token.scopes]
        if wider:
            raise ValidationFailed(
                _("a token cannot create a token with scopes it does not have: %(scopes)s")
                % {"scopes": ", ".join(wider)},
                field="scopes",
            )
    if TokenScope.ADMIN in wanted and not has_perm(user, Permission.ADMINISTER):
        raise ValidationFailed(_("your role does not allow the “admin” scope"), field="scopes")
    now = timezone.now()
    expiry = expires_at if expires_at is not None else now + TOKEN_DEFAULT_LIFETIME
    if expiry <= now:
        raise ValidationFailed(_("the expiry must be in the future"), field="expires_at")
    if expiry > now + TOKEN_MAX_LIFETIME:
        raise ValidationFailed(
            _("the expiry must be within %(days)d days") % {"days": TOKEN_MAX_LIFETIME.days}, field="expires_at"
        )
    if created_by_token is not None and expiry > created_by_token.expires_at:
        raise ValidationFailed(
            _("a token cannot create a token that outlives it (it expires %(when)s)")
            % {"when": created_by_token.expires_at.isoformat(timespec="seconds")},
            field="expires_at",
        )
    return [scope for scope in TokenScope.values if scope in wanted], expiry


def api_token_create(
    *,
    user: User,
    name: str,
    scopes: Iterable[str] = TOKEN_DEFAULT_SCOPES,
    expires_at: datetime | None = None,
    created_by_token: ApiToken | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; returns it with the raw secret, which is shown once and never stored.
    `expires_at` None means the default lifetime; see check_token_request for the rules."""
    clean = " ".join(name.split())
    if not clean or len(clean) > 80:
        raise ValidationFailed(_("the token name must have 1 to 80 characters"), field="name")
    token_scopes, expiry = check_token_request(
        user=user, scopes=scopes, expires_at=expires_at, created_by_token=created_by_token
    )
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, name=clean, prefix=raw[:10], digest=token_digest(raw), scopes=token_scopes, expires_at=expiry
        )
    return token, raw


def api_token_revoke(*, user: User, token_id: int) -> None:
    updated = ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if not updated:
        raise NotFound(_("token not found"), field="token_id")


def user_set_language(*, user: User, language: str) -> User:
    if language not in UserLanguage.values:
        raise ValidationFailed(
            _("unknown language %(language)r; expected one of %(join)s")
            % {"language": language, "join": ", ".join(UserLanguage.values)},
            field="language",
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
    """Start a seller's installation: the organization, its four default roles, its first admin and
    the default RMA notification templates (returns.notify_templates, in its nine LANGUAGES).

    The admin administers the organization in the agent UI's settings. They are never Django staff
    or a superuser: the Django admin is not scoped by organization and belongs to the installation's
    operator alone (an account without organization, see accounts/admin.py)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    clean_name = " ".join(name.split())
    if not clean_name or len(clean_name) > 200:
        raise ValidationFailed(_("organization name must have 1 to 200 characters"), field="name")
    try:
        ZoneInfo(timezone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            _("unknown time zone %(timezone_name)r") % {"timezone_name": timezone_name}, field="timezone"
        ) from None
    if language not in UserLanguage.values:
        raise ValidationFailed(_("unknown language %(language)r") % {"language": language}, field="language")
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
            # The seller's default reply templates for the RMA notifications (the data migration
            # returns 0006 seeded the organizations that existed then): in the same transaction.
            from aftersales.returns.notify_templates import rma_templates_seed

            rma_templates_seed(organization_id=org.pk)
    except IntegrityError:
        raise Conflict(
            _("an organization with that name or a user with that username already exists"), field="name"
        ) from None
    return org, user
