"""Sign-in lockouts of the organization's users (admins): who is locked out after too many wrong
passwords, and unlocking them. The rules live in accounts.lockout."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status

from aftersales.accounts.lockout import lockouts_of_organization, user_unlock

from ..auth import current_user
from ..schemas.accounts import LockoutOut
from ..schemas.common import Id, with_errors

router = Router(tags=["security"])


@router.get("/security/lockouts", response=with_errors({200: list[LockoutOut]}))
def list_lockouts(request: HttpRequest) -> Any:
    """Users of your organization with failed sign-ins within the cool-off, locked ones first."""
    return lockouts_of_organization(current_user(request))


@router.delete("/security/lockouts/{user_id}", response=with_errors({204: None}))
def unlock_user(request: HttpRequest, user_id: Id) -> Status[None]:
    """Clear a user's failed sign-ins, which ends a lockout at once (logged)."""
    user_unlock(actor=current_user(request), user_id=user_id)
    return Status(204, None)
