"""The demo seller's connected stores: "eBay DE (demo)", "Shopify (demo)", "Amazon US (demo)", "Shopee SG (demo)",
"TikTok Shop US (demo)", "AliExpress (demo)" and "Wish (demo)" pointed at the local fakes of `manage.py fakes`
(aftersales.demo.fakes), and the organization's 17TRACK account pointed at the fake 17TRACK. Created by
`demo --fakes`; `demo --no-fakes` deactivates them (nothing listens on their ports then).

As a seller does it: `demo --fakes` registers the organization's marketplace app of each platform
(channels/marketplace_apps.py: the fakes' developer-app keys, typed once) and creates the stores
with only what belongs to a store (the Shopify shop, eBay's signing key, Shopee's dispute e-mail:
no app key, no token). `manage.py fakes`, once its fakes listen, connects each store through the
platform's consent flow (`demo_stores_authorize`: channels/authorization.py's start and finish,
with the fake's consent page in between), so the tokens come from the platform, as Connect on the
store page gets them. The chat stores (WhatsApp, Messenger: demo/messaging.py) keep pasted tokens:
Meta has no consent flow for them here, and their two fakes are two Meta apps with different app
secrets (each store keeps its own)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction

from aftersales.accounts.models import Organization, RoleKind, User
from aftersales.catalog.models import Store
from aftersales.channels.connectors.aliexpress import fake_auth as aliexpress_auth
from aftersales.channels.connectors.amazon import fake_auth as amazon_auth
from aftersales.channels.connectors.ebay import fake_auth as ebay_auth
from aftersales.channels.connectors.shopee import fake_auth as shopee_auth
from aftersales.channels.connectors.shopify import fake_auth as shopify_auth
from aftersales.channels.connectors.tiktok import fake_auth as tiktok_auth
from aftersales.channels.connectors.wish import fake_auth as wish_auth
from aftersales.channels.credentials import credential_fields
from aftersales.channels.marketplace_apps import app_platform_of, marketplace_app_save
from aftersales.tracking.models import Provider, TrackingAccount
from aftersales.tracking.services import tracking_account_save

from . import data
from .fakes import DEMO_STORES, TRACK_TOKEN, store_credentials

# What each demo platform's developer app holds beyond the keys a store used to carry: the eBay
# RuName and the Amazon application id the consent pages check, the Shopify fake's client id.
APP_EXTRAS: dict[str, dict[str, Any]] = {
    "ebay": {"ru_name": ebay_auth.RU_NAME},
    "amazon": {"application_id": amazon_auth.APPLICATION_ID},
    "shopify": {"client_id": "fake-client-id"},
}
# How each fake's consent page is installed, given our redirect URL.
CONSENT: dict[str, Callable[[Any, str], Any]] = {
    "ebay": lambda fake, uri: ebay_auth.install(fake, accept_url=uri),
    "shopify": lambda fake, uri: shopify_auth.install(fake),
    "amazon": lambda fake, uri: amazon_auth.install(fake, redirect_uri=uri),
    "shopee": lambda fake, uri: shopee_auth.install(fake),
    "tiktok": lambda fake, uri: tiktok_auth.install(fake, redirect_uri=uri),
    "aliexpress": lambda fake, uri: aliexpress_auth.install(fake),
    "wish": lambda fake, uri: wish_auth.install(fake, redirect_uri=uri),
}


def demo_app_keys(platform: str) -> dict[str, Any]:
    """The demo's developer app of `platform`: the fake's app keys."""
    app = app_platform_of(platform)
    assert app is not None
    creds = store_credentials(platform)
    keys = {f.name: creds[f.name] for f in app.fields if f.name in creds}
    return {**keys, **APP_EXTRAS.get(platform, {})}


def demo_store_credentials(platform: str) -> dict[str, Any]:
    """What the demo store itself holds before it is connected: neither the app's keys (the
    organization's app has them) nor tokens (the consent flow brings them)."""
    app = app_platform_of(platform)
    app_names = {f.name for f in app.fields} if app else set()
    tokens = {f.name for f in credential_fields(platform) or () if f.by_connect or f.internal} | {"access_token"}
    return {k: v for k, v in store_credentials(platform).items() if k not in app_names | tokens}


def _admin(organization: Organization) -> User:
    admin = User.objects.filter(organization=organization, role__kind=RoleKind.ADMIN).order_by("pk").first()
    if admin is None:
        raise ValueError(f"{organization} has no admin to set up its marketplace apps and tracking account")
    return admin


TRACKING_POLL_HOURS = 1


def demo_stores_connect(*, organization: Organization, urls: dict[str, str]) -> list[Store]:
    """Create (or re-point and re-activate) the demo stores; `urls` maps a fakes.PLATFORMS key to
    its fake's base URL. Idempotent: a second call with other ports moves the stores there."""
    stores = []
    with transaction.atomic():
        admin = _admin(organization)
        for spec in DEMO_STORES:
            app = app_platform_of(spec.platform)
            assert app is not None
            marketplace_app_save(user=admin, platform=app.code, credentials=demo_app_keys(spec.platform), via="demo")
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
            # Connected by `manage.py fakes` through the consent flow (demo_stores_authorize).
            store.credentials = demo_store_credentials(spec.platform)  # encrypted at rest
            store.is_active = True
            store.save()
            stores.append(store)
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


def demo_stores_authorize(*, organization: Organization, fakes: Any) -> list[str]:
    """Connect the active demo stores through their platform's consent flow against the running
    fakes (`fakes`: demo.fakes.DemoFakes): the demo admin starts the authorization, the fake's
    consent page approves at once and redirects with a code, and the callback's query is finished
    like the store page's callback does. A line per store (connected, or why not)."""
    from urllib.parse import parse_qsl, urlsplit

    import httpx

    from aftersales.channels.authorization import (
        session_binding,
        store_authorization_finish,
        store_authorization_start,
    )
    from aftersales.channels.grants import redirect_uri
    from aftersales.core.errors import DomainError

    admin = _admin(organization)
    binding = session_binding("demo-fakes")
    uri = redirect_uri()
    installed = getattr(fakes, "consent_installed", None)
    if installed is None:
        installed = fakes.consent_installed = set()
    lines = []
    for spec in DEMO_STORES:
        store = Store.objects.filter(organization=organization, name=spec.name, is_active=True).first()
        if store is None:
            continue
        if spec.key not in installed:  # once per fake: a second install would shadow the first's codes
            CONSENT[spec.key](fakes.servers[spec.key], uri)
            installed.add(spec.key)
        try:
            started = store_authorization_start(
                user=admin, store_id=store.pk, binding=binding, shop=str((store.credentials or {}).get("shop") or "")
            )
            answer = httpx.get(started.url, follow_redirects=False, timeout=10)
            location = answer.headers.get("location", "")
            if answer.status_code not in (302, 303) or not location:
                raise DomainError(f"the consent page answered {answer.status_code}: {answer.text[:200]}")
            params = dict(parse_qsl(urlsplit(location).query, keep_blank_values=True))
            done = store_authorization_finish(user=admin, binding=binding, params=params)
        except (DomainError, httpx.HTTPError) as exc:
            lines.append(f"{spec.name}: not connected ({exc})")
            continue
        lines.append(f"{spec.name}: connected through its marketplace app ({done.account_name or done.account_id})")
    return lines
