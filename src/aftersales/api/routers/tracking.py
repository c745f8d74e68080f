"""Parcel tracking settings: the organization's account at a tracking provider (17TRACK). Admins
only; the API key is write-only. The same services as the agent UI's settings page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from aftersales.tracking.selectors import tracking_account_view
from aftersales.tracking.services import tracking_account_save, tracking_account_test

from ..auth import current_user
from ..schemas.common import with_errors
from ..schemas.tracking import ConnectionCheckOut, TrackingAccountIn, TrackingAccountOut, TrackingProviderName

router = Router(tags=["tracking"])


@router.get("/tracking/accounts/{provider}", response=with_errors({200: TrackingAccountOut}))
def get_tracking_account(request: HttpRequest, provider: TrackingProviderName) -> Any:
    """The organization's account at the provider (defaults when never saved). Admins only."""
    return tracking_account_view(current_user(request), provider.value)


@router.put("/tracking/accounts/{provider}", response=with_errors({200: TrackingAccountOut}))
def save_tracking_account(request: HttpRequest, provider: TrackingProviderName, payload: TrackingAccountIn) -> Any:
    """Create or change the account. `api_key` is write-only; fields left out are kept. Admins only."""
    user = current_user(request)
    tracking_account_save(
        user=user,
        provider=provider.value,
        api_key=payload.api_key,
        clear_api_key=payload.clear_api_key,
        is_active=payload.is_active,
        poll_interval_hours=payload.poll_interval_hours,
    )
    return tracking_account_view(user, provider.value)


@router.post("/tracking/accounts/{provider}/test", response=with_errors({200: ConnectionCheckOut}))
def test_tracking_account(request: HttpRequest, provider: TrackingProviderName) -> Any:
    """One cheap call to the provider (17TRACK: getquota) with the stored key; the outcome is also
    kept on the account. 404 when the account was never saved, 422 `api_key` without a key."""
    return tracking_account_test(user=current_user(request), provider=provider.value)
