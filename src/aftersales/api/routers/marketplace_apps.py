"""The organization's marketplace apps: one developer app per platform that every store of the
platform connects through (channels/marketplace_apps.py). The same services and permission
(ADMINISTER) as Settings > Marketplace apps."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status

from aftersales.channels.marketplace_apps import (
    MarketplaceAppView,
    marketplace_app,
    marketplace_app_delete,
    marketplace_app_save,
    marketplace_apps,
)

from ..auth import current_user
from ..schemas.common import with_errors
from ..schemas.marketplace_apps import MarketplaceAppIn, MarketplaceAppOut, MarketplaceAppsOut

router = Router(tags=["stores"])


def _out(view: MarketplaceAppView) -> dict[str, Any]:
    return {
        "platform": view.platform,
        "label": view.label,
        "store_platforms": list(view.store_platforms),
        "configured": view.configured,
        "environment": view.environment,
        "fields": [
            {
                "name": f.field.name,
                "label": str(f.field.label),
                "secret": f.field.secret,
                "required": f.field.required,
                "is_set": f.is_set,
                "value": f.value,
                "fingerprint": f.fingerprint,
            }
            for f in view.fields
        ],
        "previous_secret_kept": view.previous_secret_kept,
        "redirect_uri": view.redirect_uri,
        "stores_using": view.stores_using,
        "updated_at": view.updated_at,
        "rotated_at": view.rotated_at,
    }


@router.get("/marketplace-apps", response=with_errors({200: MarketplaceAppsOut}))
def list_marketplace_apps(request: HttpRequest) -> Any:
    """Every platform's app of the organization, registered or not (secrets as set + fingerprint).
    Admins only."""
    return {"apps": [_out(v) for v in marketplace_apps(current_user(request))]}


@router.put("/marketplace-apps/{platform}", response=with_errors({200: MarketplaceAppOut}))
def put_marketplace_app(request: HttpRequest, platform: str, payload: MarketplaceAppIn) -> Any:
    """Register or change the organization's app of `platform`. A refused key is a 422 naming
    `credentials.<key>` (or `platform`, `environment`), nothing saved. Admins only."""
    user = current_user(request)
    marketplace_app_save(
        user=user,
        platform=platform,
        environment=payload.environment,
        credentials=payload.credentials,
        drop_previous_secret=payload.drop_previous_secret,
        via="api",
    )
    return _out(marketplace_app(user, platform))


@router.delete("/marketplace-apps/{platform}", response=with_errors({204: None}))
def delete_marketplace_app(request: HttpRequest, platform: str) -> Status[None]:
    """Remove the app; 409 (`app_in_use`) while active stores connect through it. Admins only."""
    marketplace_app_delete(user=current_user(request), platform=platform, via="api")
    return Status(204, None)
