"""Template context every page of the agent UI gets."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from aftersales.accounts.permissions import is_admin


def agent(request: HttpRequest) -> dict[str, Any]:
    """`can_administer`: whether the signed-in user may change the organization's settings (the
    settings navigation shows the admin sections only to them; the views check again)."""
    user = getattr(request, "user", None)
    return {"can_administer": bool(user is not None and user.is_authenticated and is_admin(user))}
