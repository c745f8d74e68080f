"""Reads for pickers and profiles."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any, cast

from django.db import connections
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.core.errors import ValidationFailed
from aftersales.core.rows import RowShape, cache_related, row_shape

from .models import ApiToken, Organization, OrgSettingChange, Permission, Role, Team, User
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


def _token_sql(using: str) -> tuple[str, tuple[RowShape, RowShape, RowShape, RowShape]]:
    """The token lookup's one SELECT (token, its user, the user's role and organization), made once per
    database vendor from the models' _meta (core/rows.py): what
    `ApiToken.objects.select_related("user", "user__role", "user__organization")` sends, without
    compiling it on every API request."""
    connection = connections[using]
    key = (connection.vendor, using)
    cached = _token_sqls.get(key)
    if cached is None:
        q = connection.ops.quote_name
        shapes = (
            row_shape(ApiToken, "t", using),
            row_shape(User, "u", using),
            row_shape(Role, "r", using),
            row_shape(Organization, "o", using),
        )
        tok, usr, role, org = (m._meta for m in (ApiToken, User, Role, Organization))
        col = {m: {f.name: q(str(f.column)) for f in m.concrete_fields} for m in (tok, usr, role, org)}
        sql = (
            f"SELECT {', '.join(s.columns for s in shapes)}"  # noqa: S608
            f" FROM {q(tok.db_table)} t"
            f" INNER JOIN {q(usr.db_table)} u ON u.{col[usr]['id']} = t.{col[tok]['user']}"
            f" LEFT OUTER JOIN {q(role.db_table)} r ON r.{col[role]['id']} = u.{col[usr]['role']}"
            f" LEFT OUTER JOIN {q(org.db_table)} o ON o.{col[org]['id']} = u.{col[usr]['organization']}"
            f" WHERE t.{col[tok]['digest']} = %s AND t.{col[tok]['revoked_at']} IS NULL"
        )
        cached = _token_sqls[key] = (sql, shapes)
    return cached


_token_sqls: dict[tuple[str, str], tuple[str, tuple[RowShape, RowShape, RowShape, RowShape]]] = {}


def token_for_secret(raw: str) -> ApiToken | None:
    """The valid (unrevoked, unexpired) token of an active user with this secret, or None; its user
    is loaded with role and organization. Records the use (at most once a minute).

    Nothing is cached between calls: every call reads the token and its user from the database (one
    indexed SELECT over the unique digest), so a revocation, an expiry or a deactivation takes effect on
    the very next request. The statement is prepared once (core/rows.py), which is where the time went
    (issue 13: a quarter of an ingestion request's CPU was the ORM compiling this join)."""
    if not raw or len(raw) > 200:
        return None
    digest = token_digest(raw)
    sql, (tok, usr, role, org) = _token_sql("default")
    with connections["default"].cursor() as cursor:
        cursor.execute(sql, [digest])
        row = cursor.fetchone()
    if row is None:
        return None
    token = cast(ApiToken, tok.instance(row, 0))
    user = cast(User, usr.instance(row, tok.width))
    # The index found the digest; compared again in constant time (no backend's collation can widen it).
    if not hmac.compare_digest(token.digest, digest):
        return None
    cache_related(user, "role", role.instance(row, tok.width + usr.width))
    cache_related(user, "organization", org.instance(row, tok.width + usr.width + role.width))
    cache_related(token, "user", user)
    now = timezone.now()
    if token.expires_at <= now or not user.is_active:
        return None
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def user_for_token(raw: str) -> User | None:
    """The active user owning a valid (unrevoked, unexpired) token, or None. Updates last use."""
    token = token_for_secret(raw)
    return token.user if token is not None else None


# --- organization settings audit ------------------------------------------------------------------

SETTING_HISTORY_LIMIT = 200
SETTING_HISTORY_PAGE = 50


@dataclass(frozen=True)
class SettingChangesPage:
    changes: list[OrgSettingChange]
    next_cursor: str | None  # the cursor of the page after this one (None: this is the last)


def org_setting_changes_page(
    user: Any,
    *,
    group: str | None = None,
    actor_id: int | None = None,
    cursor: str | None = None,
    limit: int = SETTING_HISTORY_PAGE,
) -> SettingChangesPage:
    """A page of the changes of the user's organization's settings, newest first (organization admins:
    PermissionDenied otherwise; never another organization's), for Settings > Settings history and
    GET /settings/history alike. `group`: one setting group (accounts.audit.SETTING_GROUPS: the first
    part of the setting's key); `actor_id`: one user's changes; `cursor`: the page after the one that
    answered it (the id of its last change). A filter or cursor that names nothing of the organization's:
    ValidationFailed naming it."""
    from .audit import SETTING_GROUPS
    from .permissions import check_perm, organization_of

    check_perm(user, Permission.ADMINISTER)
    org_id = organization_of(user)
    rows = OrgSettingChange.objects.filter(organization_id=org_id)
    if group:
        if group not in SETTING_GROUPS:
            raise ValidationFailed(
                _("unknown setting group %(group)r; expected one of %(join)s")
                % {"group": group[:40], "join": ", ".join(SETTING_GROUPS)},
                field="group",
            )
        rows = rows.filter(Q(setting=group) | Q(setting__startswith=f"{group}."))
    if actor_id is not None:
        if not User.objects.filter(pk=actor_id, organization_id=org_id).exists():
            raise ValidationFailed(_("no such user in your organization"), field="actor")
        rows = rows.filter(actor_id=actor_id)
    if cursor:
        last = (
            OrgSettingChange.objects.filter(organization_id=org_id, pk=int(cursor)).values("at", "pk").first()
            if cursor.isdigit() and len(cursor) < 19
            else None
        )
        if last is None:
            raise ValidationFailed(_("unknown cursor"), field="cursor")
        rows = rows.filter(Q(at__lt=last["at"]) | Q(at=last["at"], pk__lt=last["pk"]))
    size = max(1, min(limit, SETTING_HISTORY_LIMIT))
    page = list(rows.select_related("actor").order_by("-at", "-id")[: size + 1])
    more = len(page) > size
    page = page[:size]
    return SettingChangesPage(page, str(page[-1].pk) if more else None)


def org_setting_changes(
    user: Any, *, group: str | None = None, limit: int = SETTING_HISTORY_LIMIT
) -> list[OrgSettingChange]:
    """The latest changes of the user's organization's settings (one group of them), newest first."""
    return org_setting_changes_page(user, group=group, limit=limit).changes
