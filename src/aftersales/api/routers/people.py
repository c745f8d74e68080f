"""Users, teams and roles of the organization (issue 7, finding 1: administered here and in the
agent UI's settings, never in the Django admin).

Reading colleagues (GET /users) and teams (GET /teams) is open to every member; everything else
needs the administer permission (403) and sees only the admin's organization: another seller's ids
answer 404. The same services as the web UI's settings pages (accounts.people)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status

from aftersales.accounts import people
from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm
from aftersales.accounts.selectors import teams_of_organization, users_of_organization

from ..auth import current_user
from ..schemas.accounts import ColleagueOut, TeamOut
from ..schemas.common import Id, with_errors
from ..schemas.people import (
    RoleAdminOut,
    RoleIn,
    RolePatchIn,
    SetPasswordLinkOut,
    TeamAdminOut,
    TeamIn,
    TeamPatchIn,
    UserAdminOut,
    UserInviteIn,
    UserPatchIn,
)

router = Router(tags=["people"])


def _link(user: Any, link: people.SetPasswordLink) -> dict[str, Any]:
    return {
        "user": people.people_user(user, user_id=link.user.pk),
        "set_password_url": link.url,
        "emailed": link.emailed,
    }


# --- users ----------------------------------------------------------------------------------------


@router.get("/users", response=with_errors({200: list[ColleagueOut]}))
def list_users(request: HttpRequest, can_process: bool = False) -> Any:
    """Active colleagues, for assignee pickers (`can_process=true`) and @mention completion."""
    user = current_user(request)
    check_perm(user, Permission.VIEW)
    return users_of_organization(user, can_process=can_process)


@router.post("/users", response=with_errors({201: SetPasswordLinkOut}))
def invite_user(request: HttpRequest, payload: UserInviteIn) -> Status[Any]:
    """Invite a user: created without a password, with a one-time `set_password_url` (shown this
    once, and e-mailed when `email` is given). Admins only."""
    user = current_user(request)
    link = people.user_invite(
        actor=user,
        username=payload.username,
        email=payload.email,
        display_name=payload.display_name,
        role_id=payload.role_id,
        team_ids=payload.team_ids,
        language=payload.language.value,
    )
    return Status(201, _link(user, link))


@router.get("/organization/users", response=with_errors({200: list[UserAdminOut]}))
def list_organization_users(request: HttpRequest) -> Any:
    """Every user of the organization, active first, with e-mail, role and teams. Admins only."""
    return people.people_users(current_user(request))


@router.get("/users/{user_id}", response=with_errors({200: UserAdminOut}))
def get_user(request: HttpRequest, user_id: Id) -> Any:
    """One user of the organization. Admins only."""
    return people.people_user(current_user(request), user_id=user_id)


@router.patch("/users/{user_id}", response=with_errors({200: UserAdminOut}))
def update_user(request: HttpRequest, user_id: Id, payload: UserPatchIn) -> Any:
    """Change a user's display name, e-mail, role, teams, language or `is_active`. Admins only."""
    user = current_user(request)
    changes = payload.dict(exclude_none=True)
    if payload.language is not None:
        changes["language"] = payload.language.value
    people.user_update(actor=user, user_id=user_id, **changes)
    return people.people_user(user, user_id=user_id)


@router.post("/users/{user_id}/password-reset", response=with_errors({200: SetPasswordLinkOut}))
def reset_user_password(request: HttpRequest, user_id: Id) -> Any:
    """A new one-time `set_password_url` for the user (shown this once, e-mailed when they have an
    address). Their password keeps working until they choose a new one. Admins only."""
    user = current_user(request)
    return _link(user, people.user_password_reset(actor=user, user_id=user_id))


# --- teams ----------------------------------------------------------------------------------------


@router.get("/teams", response=with_errors({200: list[TeamOut]}))
def list_teams(request: HttpRequest) -> Any:
    """The organization's teams with their scopes."""
    user = current_user(request)
    check_perm(user, Permission.VIEW)
    return teams_of_organization(user).prefetch_related("stores")


@router.post("/teams", response=with_errors({201: TeamAdminOut}))
def create_team(request: HttpRequest, payload: TeamIn) -> Status[Any]:
    """Create a team with its scope (an empty list means all) and members. Admins only."""
    user = current_user(request)
    team = people.team_create(actor=user, **payload.dict())
    return Status(201, people.people_team(user, team_id=team.pk))


@router.get("/teams/{team_id}", response=with_errors({200: TeamAdminOut}))
def get_team(request: HttpRequest, team_id: Id) -> Any:
    """One team with its scope and members. Admins only."""
    return people.people_team(current_user(request), team_id=team_id)


@router.patch("/teams/{team_id}", response=with_errors({200: TeamAdminOut}))
def update_team(request: HttpRequest, team_id: Id, payload: TeamPatchIn) -> Any:
    """Rename a team, change its scope or replace its members. Admins only."""
    user = current_user(request)
    people.team_update(actor=user, team_id=team_id, **payload.dict(exclude_none=True))
    return people.people_team(user, team_id=team_id)


@router.delete("/teams/{team_id}", response=with_errors({204: None}))
def delete_team(request: HttpRequest, team_id: Id) -> Status[None]:
    """Delete a team; its tickets are no longer routed to a team. Admins only."""
    people.team_delete(actor=current_user(request), team_id=team_id)
    return Status(204, None)


# --- roles ----------------------------------------------------------------------------------------


@router.get("/roles", response=with_errors({200: list[RoleAdminOut]}))
def list_roles(request: HttpRequest) -> Any:
    """The organization's roles with their permissions, approval limits and user counts. Admins only."""
    return people.people_roles(current_user(request))


@router.post("/roles", response=with_errors({201: RoleAdminOut}))
def create_role(request: HttpRequest, payload: RoleIn) -> Status[Any]:
    """Create a role. Admins only."""
    user = current_user(request)
    role = people.role_create(actor=user, **payload.dict())
    return Status(201, people.people_role(user, role_id=role.pk))


@router.get("/roles/{role_id}", response=with_errors({200: RoleAdminOut}))
def get_role(request: HttpRequest, role_id: Id) -> Any:
    """One role. Admins only."""
    return people.people_role(current_user(request), role_id=role_id)


@router.patch("/roles/{role_id}", response=with_errors({200: RoleAdminOut}))
def update_role(request: HttpRequest, role_id: Id, payload: RolePatchIn) -> Any:
    """Rename a role, change its permissions or approval limit. Your own role, and the role of the
    organization's last active admins, keep `administer`. Admins only."""
    user = current_user(request)
    people.role_update(actor=user, role_id=role_id, **payload.dict(exclude_none=True))
    return people.people_role(user, role_id=role_id)


@router.delete("/roles/{role_id}", response=with_errors({204: None}))
def delete_role(request: HttpRequest, role_id: Id) -> Status[None]:
    """Delete a role nobody has (409 while it is in use). Admins only."""
    people.role_delete(actor=current_user(request), role_id=role_id)
    return Status(204, None)
