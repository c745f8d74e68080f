"""Reads of parcel tracking: the organization's tracking account as the settings show it, and
"stalled" parcels (no carrier event for N days), for later rules and the shipment views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext as _

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm, organization_of
from aftersales.catalog.models import Shipment
from aftersales.core import clock
from aftersales.core.errors import ValidationFailed

from .models import Provider, ShipmentTracking, TrackingAccount, TrackingPush

MAX_STALLED_DAYS = 3650


@dataclass(frozen=True)
class TrackingProblem:
    """Something the provider refused or we could not read, with its reason (shown to admins)."""

    kind: str  # "shipment" (a number refused or unreadable) or "push" (a push kept unprocessed)
    tracking_number: str
    order_number: str
    detail: str
    at: datetime | None


@dataclass(frozen=True)
class TrackingAccountView:
    """What the settings page and GET /tracking/accounts/{provider} show: never the key itself."""

    provider: str
    provider_label: str
    configured: bool  # an account row exists
    is_active: bool
    api_key_set: bool
    poll_interval_hours: int
    push_path: str  # to append to the site's address in the provider's dashboard
    last_checked_at: datetime | None
    last_check_ok: bool | None
    last_check_detail: str
    last_error: str
    shipments_followed: int
    shipments_registered: int
    shipments_with_errors: int
    problems: tuple[TrackingProblem, ...] = ()


MAX_PROBLEMS = 20


def _problems(account: TrackingAccount) -> tuple[TrackingProblem, ...]:
    refused = (
        ShipmentTracking.objects.filter(account=account)
        .exclude(last_error="")
        .select_related("shipment__order")
        .order_by("-created_at", "-pk")[:MAX_PROBLEMS]
    )
    pushes = (
        TrackingPush.objects.filter(account=account).exclude(error="").order_by("-received_at", "-pk")[:MAX_PROBLEMS]
    )
    found = [
        TrackingProblem("shipment", t.number, t.shipment.order.external_id, t.last_error, t.last_polled_at)
        for t in refused
    ]
    found += [TrackingProblem("push", p.number, "", p.error, p.received_at) for p in pushes]
    return tuple(found[:MAX_PROBLEMS])


def tracking_account_view(user: Any, provider: str = Provider.SEVENTEENTRACK) -> TrackingAccountView:
    """The organization's account at `provider` (admins only); an unconfigured one shows defaults."""
    check_perm(user, Permission.ADMINISTER)
    organization_id = organization_of(user)
    if provider not in Provider.values:
        raise ValidationFailed(_("unknown tracking provider"), field="provider")
    account = TrackingAccount.objects.filter(organization_id=organization_id, provider=provider).first()
    label = str(Provider(provider).label)
    if account is None:
        return TrackingAccountView(provider, label, False, False, False, 6, "", None, None, "", "", 0, 0, 0)
    trackings = ShipmentTracking.objects.filter(account=account)
    return TrackingAccountView(
        provider=provider,
        provider_label=label,
        configured=True,
        is_active=account.is_active,
        api_key_set=account.api_key_set,
        poll_interval_hours=account.poll_interval_hours,
        push_path=reverse("tracking:push", kwargs={"provider": provider, "token": account.push_token}),
        last_checked_at=account.last_checked_at,
        last_check_ok=account.last_check_ok,
        last_check_detail=account.last_check_detail,
        last_error=account.last_error,
        shipments_followed=trackings.count(),
        shipments_registered=trackings.filter(registered_at__isnull=False).count(),
        shipments_with_errors=trackings.exclude(last_error="").count(),
        problems=_problems(account),
    )


def active_tracking_account_ids() -> list[int]:
    """Accounts the periodic sweep works on: active, with a key (the key is encrypted: checked in Python)."""
    return [a.pk for a in TrackingAccount.objects.filter(is_active=True) if a.api_key_set]


# --- stalled parcels -------------------------------------------------------------------------------


def stalled_days(last_event_at: datetime | None, *, at: datetime | None = None) -> int | None:
    """Whole days since the last carrier event (None when there was none)."""
    if last_event_at is None:
        return None
    return max(0, ((at or clock.now()) - last_event_at).days)


def shipments_stalled(organization_id: int, days: int, *, at: datetime | None = None) -> QuerySet[Shipment]:
    """Shipments of the organization still followed (not delivered, returned, lost or stopped) whose
    last carrier event (or, before any, their registration with the provider) is at least `days`
    whole days old. Annotated with `tracking_last_event_at` (the instant measured from)."""
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_STALLED_DAYS:
        raise ValidationFailed(_("days must be 0 to %(max)d") % {"max": MAX_STALLED_DAYS}, field="days")
    cutoff = (at or clock.now()) - timedelta(days=days)
    return (
        Shipment.objects.filter(order__organization_id=organization_id, tracking__stopped_at__isnull=True)
        .annotate(tracking_last_event_at=Coalesce(F("tracking__last_event_at"), F("tracking__registered_at")))
        .filter(tracking_last_event_at__isnull=False, tracking_last_event_at__lte=cutoff)
        .exclude(Q(status__in=("delivered", "returned", "lost")))
        .order_by("tracking_last_event_at", "pk")
    )


@dataclass(frozen=True)
class ShipmentTrackingSummary:
    shipment_id: int
    last_event_at: datetime | None
    stalled_days: int | None
    provider_status: str
    provider_sub_status: str
    last_error: str


def shipment_tracking_summaries(
    shipment_ids: list[int], *, at: datetime | None = None
) -> dict[int, ShipmentTrackingSummary]:
    """The tracking summary of each given shipment that is followed through a provider."""
    rows = ShipmentTracking.objects.filter(shipment_id__in=shipment_ids).values_list(
        "shipment_id", "last_event_at", "provider_status", "provider_sub_status", "last_error"
    )
    return {
        sid: ShipmentTrackingSummary(sid, last, stalled_days(last, at=at), status, sub, error)
        for sid, last, status, sub, error in rows
    }
