"""The demo seller's connected stores: "eBay DE (demo)", "Shopify (demo)", "Amazon US (demo)", "Shopee SG (demo)",
"TikTok Shop US (demo)", "AliExpress (demo)" and "Wish (demo)" pointed at the local fakes of `manage.py fakes`
(aftersales.demo.fakes), and the organization's 17TRACK account pointed at the fake 17TRACK. Created by
`demo --fakes`; `demo --no-fakes` deactivates them (nothing listens on their ports then)."""

from __future__ import annotations

from django.db import transaction

from aftersales.accounts.models import Organization, RoleKind, User
from aftersales.catalog.models import Store
from aftersales.tracking.models import Provider, TrackingAccount
from aftersales.tracking.services import tracking_account_save

from . import data
from .fakes import DEMO_STORES, TRACK_TOKEN, store_credentials

TRACKING_POLL_HOURS = 1


def demo_stores_connect(*, organization: Organization, urls: dict[str, str]) -> list[Store]:
    """Create (or re-point and re-activate) the demo stores; `urls` maps a fakes.PLATFORMS key to
    its fake's base URL. Idempotent: a second call with other ports moves the stores there."""
    stores = []
    with transaction.atomic():
        for spec in DEMO_STORES:
            store = Store.objects.filter(organization=organization, name=spec.name).first() or Store(
                organization=organization, name=spec.name
            )
            store.platform = spec.platform
            store.site = spec.site
            store.external_id = spec.external_id
            store.default_language = spec.language
            store.timezone = spec.timezone
            store.currency = spec.currency
            store.endpoint_url = urls[spec.key]
            store.credentials = store_credentials(spec.platform)  # an EncryptedJSONField: encrypted at rest
            store.is_active = True
            store.save()
            stores.append(store)
        admin = User.objects.filter(organization=organization, role__kind=RoleKind.ADMIN).order_by("pk").first()
        if admin is None:
            raise ValueError(f"{organization} has no admin to set up its tracking account")
        account = tracking_account_save(
            user=admin, api_key=TRACK_TOKEN, is_active=True, poll_interval_hours=TRACKING_POLL_HOURS
        )
        TrackingAccount.objects.filter(pk=account.pk).update(endpoint_url=urls["17track"])
    return stores


def demo_stores_disconnect(*, organization: Organization) -> int:
    """Deactivate the demo stores and a tracking account pointed at a fake (the fakes are off)."""
    with transaction.atomic():
        count = Store.objects.filter(organization=organization, name__in=[s.name for s in DEMO_STORES]).update(
            is_active=False
        )
        TrackingAccount.objects.filter(
            organization=organization, provider=Provider.SEVENTEENTRACK, endpoint_url__startswith="http://127.0.0.1"
        ).update(is_active=False)
    return count


def demo_sync_queue(*, tracking_delay: float = 45.0) -> int:
    """Queue a sync of every pulled stream of the demo stores now, and of the tracking account a
    little later (it registers the shipments the orders sync brings). Returns the streams queued."""
    from aftersales.channels.sync import pull_streams
    from aftersales.channels.tasks import sync_store_stream
    from aftersales.tracking.tasks import tracking_account_sync

    organization = Organization.objects.filter(slug=data.ORG_SLUG).first()
    if organization is None:
        return 0
    queued = 0
    for store in Store.objects.filter(
        organization=organization, name__in=[s.name for s in DEMO_STORES], is_active=True
    ).order_by("pk"):
        for stream in pull_streams(store):
            sync_store_stream(store.pk, stream.value)
            queued += 1
    for account_id in TrackingAccount.objects.filter(organization=organization, is_active=True).values_list(
        "pk", flat=True
    ):
        tracking_account_sync.schedule(args=(account_id,), delay=tracking_delay)
    return queued
