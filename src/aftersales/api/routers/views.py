"""Saved inbox views: a user's named filter sets."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status

from aftersales.inbox.selectors import saved_views
from aftersales.inbox.services import saved_view_create, saved_view_delete

from ..auth import current_user
from ..schemas.accounts import SavedViewIn, SavedViewOut
from ..schemas.common import Id, with_errors

router = Router(tags=["views"])


@router.get("/views", response=with_errors({200: list[SavedViewOut]}))
def list_views(request: HttpRequest) -> Any:
    """Your saved inbox views (use one with GET /tickets?view=<id>)."""
    return saved_views(current_user(request))


@router.post("/views", response=with_errors({201: SavedViewOut}))
def create_view(request: HttpRequest, payload: SavedViewIn) -> Status[Any]:
    """Save a named set of inbox filters (validated like GET /tickets)."""
    view = saved_view_create(user=current_user(request), name=payload.name, filters=payload.filters, sort=payload.sort)
    return Status(201, view)


@router.delete("/views/{view_id}", response=with_errors({204: None}))
def delete_view(request: HttpRequest, view_id: Id) -> Status[None]:
    """Delete one of your saved views."""
    saved_view_delete(user=current_user(request), view_id=view_id)
    return Status(204, None)
