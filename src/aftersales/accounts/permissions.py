"""The one permission model, used by the web UI and the API alike.

Two questions are asked everywhere:
- may this user do X at all? (`has_perm`, from the user's role);
- may this user see this ticket? (`ticket_scope_q`: admins see the whole organization; everyone
  else sees the tickets inside the scope of one of their teams, routed to one of their teams, or
  assigned to them).
Objects of another organization are reported as "not found", never as "forbidden", so that ids
of other sellers cannot be probed."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.utils.translation import gettext as _

from aftersales.core.errors import NotFound, PermissionDenied

from .models import Permission, TokenScope, User

if TYPE_CHECKING:
    from aftersales.inbox.models import Ticket

# The token scope each permission needs when the request came with an API token.
TOKEN_SCOPE_FOR_PERMISSION: dict[str, str] = {
    Permission.VIEW: TokenScope.READ,
    Permission.PROCESS: TokenScope.WRITE,
    Permission.REPLY: TokenScope.WRITE,
    Permission.APPROVE: TokenScope.WRITE,
    Permission.ADMINISTER: TokenScope.ADMIN,
}


def has_perm(user: Any, perm: str) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.organization_id is None or user.role_id is None:
        return False
    # An API request made with a token: the token's scopes narrow the role (api/auth.py sets
    # `token_scopes`; docs/adr/0002-api-tokens.md). A token never exceeds its user's role.
    token_scopes = getattr(user, "token_scopes", None)
    if token_scopes is not None and TOKEN_SCOPE_FOR_PERMISSION.get(perm, TokenScope.ADMIN) not in token_scopes:
        return False
    perms = user.role.permissions
    return perm in perms or Permission.ADMINISTER in perms


def organization_of(user: Any) -> int:
    """The user's organization id; a user without one has no permission anywhere."""
    if getattr(user, "organization_id", None) is None:
        raise PermissionDenied(_("your account does not belong to an organization"))
    return int(user.organization_id)


def check_perm(user: Any, perm: str) -> None:
    if not has_perm(user, perm):
        raise PermissionDenied(_("your role does not allow: %(label)s") % {"label": Permission(perm).label})


def is_admin(user: Any) -> bool:
    return has_perm(user, Permission.ADMINISTER)


@dataclass(frozen=True)
class TeamScope:
    team_id: int
    store_ids: frozenset[int]
    platforms: frozenset[str]
    languages: frozenset[str]
    sku_categories: frozenset[str]

    def q(self, prefix: str = "") -> Q:
        q = Q()
        if self.store_ids:
            q &= Q(**{f"{prefix}store_id__in": sorted(self.store_ids)})
        if self.platforms:
            q &= Q(**{f"{prefix}platform__in": sorted(self.platforms)})
        if self.languages:
            q &= Q(**{f"{prefix}language__in": sorted(self.languages)})
        if self.sku_categories:
            q &= Q(**{f"{prefix}sku_category__in": sorted(self.sku_categories)})
        return q

    def matches(self, ticket: Ticket) -> bool:
        return (
            (not self.store_ids or ticket.store_id in self.store_ids)
            and (not self.platforms or ticket.platform in self.platforms)
            and (not self.languages or ticket.language in self.languages)
            and (not self.sku_categories or ticket.sku_category in self.sku_categories)
        )


def team_scopes(user: User) -> list[TeamScope]:
    """The user's team scopes, computed once per user object (one query per request)."""
    cached = getattr(user, "_team_scopes", None)
    if cached is None:
        cached = [
            TeamScope(
                team_id=team.pk,
                store_ids=frozenset(s.pk for s in team.stores.all()),
                platforms=frozenset(team.platforms or ()),
                languages=frozenset(team.languages or ()),
                sku_categories=frozenset(team.sku_categories or ()),
            )
            for team in user.teams.prefetch_related("stores")
        ]
        user._team_scopes = cached  # type: ignore[attr-defined]
    return cached


def ticket_scope_q(user: Any) -> Q:
    """Q over Ticket restricting to what `user` may see. Always includes the organization."""
    if not has_perm(user, Permission.VIEW):
        return Q(pk__in=[])
    base = Q(organization_id=user.organization_id)
    if is_admin(user):
        return base
    scopes = team_scopes(user)
    visible = Q(assignee_id=user.pk)
    if scopes:
        visible |= Q(team_id__in=[s.team_id for s in scopes])
        for scope in scopes:
            visible |= scope.q()
    return base & visible


def can_view_ticket(user: Any, ticket: Ticket) -> bool:
    if not has_perm(user, Permission.VIEW) or ticket.organization_id != user.organization_id:
        return False
    if is_admin(user) or ticket.assignee_id == user.pk:
        return True
    scopes = team_scopes(user)
    return any(ticket.team_id == s.team_id or s.matches(ticket) for s in scopes)


def check_ticket(user: Any, ticket: Ticket, perm: str = Permission.VIEW) -> None:
    """Raise NotFound if the ticket is outside the user's sight, PermissionDenied if the role
    does not allow `perm` on it."""
    if not can_view_ticket(user, ticket):
        raise NotFound(_("ticket not found"), field="ticket_id")
    check_perm(user, perm)


def check_same_organization(user: Any, obj: Any, *, field: str, label: str) -> None:
    if obj is None or getattr(obj, "organization_id", None) != user.organization_id:
        raise NotFound(_("%(label)s not found") % {"label": label}, field=field)


def approval_limit(user: Any) -> tuple[Decimal, str]:
    """The largest amount this user may approve, with its currency (0 if none)."""
    if not has_perm(user, Permission.APPROVE):
        return Decimal("0"), "USD"
    return user.role.approval_limit_amount, user.role.approval_limit_currency


def can_approve_amount(user: Any, amount: Decimal, currency: str) -> bool:
    limit, limit_currency = approval_limit(user)
    if is_admin(user):
        return True
    return currency == limit_currency and amount <= limit
