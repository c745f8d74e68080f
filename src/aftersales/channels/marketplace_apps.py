"""The organization's marketplace apps: one developer app per platform, typed once, which every
store of that platform connects through (the platform's consent page: channels/authorization.py).

A seller registers an app in each platform's developer console (Shopify client id + secret, eBay
App ID + Cert ID + RuName, Amazon LWA client id + secret + SP-API application id, Shopee partner
id + key, TikTok Shop / AliExpress app key + secret, Wish client id + secret, Meta's app secret for
WhatsApp and Messenger) and enters its keys here (Settings > Marketplace apps, or
`PUT /api/v1/marketplace-apps/{platform}`), organization admins only. The keys are checked per
platform (a 4xx naming `credentials.<key>`), stored encrypted (channels.models.MarketplaceApp, the
same Fernet field as a store's credentials) and never shown again: a secret is "set" with a
fingerprint (the first 8 hex digits of its SHA-256). Leaving a secret empty keeps it; typing a new
one rotates it (`rotated_at`; Shopify's previous client secret is kept as `old_client_secret` so
webhooks and install callbacks signed with it still verify until it is dropped).

A store's credentials as its connector sees them (`effective_credentials`, used by
context.store_context): the app's keys under the store platform's own names, overlaid with the
store's. A store that holds any of the app's required keys itself (stores connected before apps
existed whose keys differ from the other stores', e.g. Shopify custom apps: the data migration
channels 0012 moved the keys that agreed into the app) keeps using its own app; any other store
reads the app's, with no copy kept on the store, so a rotation reaches every store at once."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.accounts.audit import setting_audit
from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm, organization_of
from aftersales.catalog.models import Store
from aftersales.core.clock import now
from aftersales.core.errors import Conflict, NotFound, ValidationFailed

from .credentials import (
    ALIEXPRESS_FIELDS,
    AMAZON_FIELDS,
    EBAY_FIELDS,
    MESSENGER_FIELDS,
    SHOPEE_FIELDS,
    SHOPIFY_FIELDS,
    TIKTOK_FIELDS,
    WISH_FIELDS,
    CredentialField,
    blank,
    clean_field,
    credential_fields,
    fail,
)
from .grants import redirect_uri
from .models import MarketplaceApp

logger = logging.getLogger(__name__)
audit = logging.getLogger("aftersales.audit")
# The settings audit (accounts.audit) of an app: its environment and its keys, all as a secret.
APP_AUDIT_FIELDS = ("environment", "credentials")
APP_SECRET = ("credentials",)

ENVIRONMENTS = ("production", "sandbox")


def _pick(fields: tuple[CredentialField, ...], name: str, **changes: Any) -> CredentialField:
    spec = next(f for f in fields if f.name == name)
    return dataclasses.replace(spec, by_connect=False, **changes)


@dataclass(frozen=True)
class AppPlatform:
    """One platform's app: its fields (the store schema's names where the store has them), the
    store platforms it serves and how its environment reads in the store's credentials."""

    code: str
    label: str
    store_platforms: tuple[str, ...]
    fields: tuple[CredentialField, ...]
    console: str | Promise  # where the developer console shows the keys
    environment_key: str = ""  # the store credential the environment becomes (eBay, Shopee)
    environment_values: Mapping[str, str] = dataclasses.field(default_factory=dict)
    consent: bool = True  # stores connect through the platform's consent page (the redirect URL)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    def environment_value(self, environment: str) -> str:
        return self.environment_values.get(environment, environment)


APP_PLATFORMS: Mapping[str, AppPlatform] = {
    app.code: app
    for app in (
        AppPlatform(
            "shopify",
            "Shopify",
            ("shopify",),
            (
                _pick(SHOPIFY_FIELDS, "client_id", required=True),
                _pick(SHOPIFY_FIELDS, "client_secret", required=True, max_length=200),
                _pick(SHOPIFY_FIELDS, "old_client_secret", internal=True, max_length=200),
            ),
            gettext_lazy(
                "Shopify Dev Dashboard (or Partner Dashboard) > Apps > your app > Settings: Client ID, Secret."
            ),
        ),
        AppPlatform(
            "ebay",
            "eBay",
            ("ebay",),
            (
                _pick(EBAY_FIELDS, "client_id"),
                _pick(EBAY_FIELDS, "client_secret", max_length=200),
                CredentialField(
                    "dev_id",
                    gettext_lazy("Dev ID"),
                    max_length=200,
                    help=gettext_lazy(
                        "Shown next to the App ID; kept for reference (the REST APIs used here do not send it)."
                    ),
                ),
                _pick(EBAY_FIELDS, "ru_name"),
            ),
            gettext_lazy("developer.ebay.com > Application Keys (App ID, Dev ID, Cert ID) and User Tokens (RuName)."),
            environment_key="environment",
        ),
        AppPlatform(
            "amazon",
            "Amazon",
            ("amazon",),
            (
                _pick(AMAZON_FIELDS, "lwa_client_id"),
                _pick(AMAZON_FIELDS, "lwa_client_secret", max_length=200),
                _pick(AMAZON_FIELDS, "application_id"),
                _pick(AMAZON_FIELDS, "draft_app"),
            ),
            gettext_lazy("Seller Central > Apps and Services > Develop Apps > your app: LWA credentials and App ID."),
        ),
        AppPlatform(
            "shopee",
            "Shopee",
            ("shopee",),
            (
                _pick(SHOPEE_FIELDS, "partner_id"),
                _pick(SHOPEE_FIELDS, "partner_key"),
                _pick(SHOPEE_FIELDS, "push_key"),
            ),
            gettext_lazy("Shopee Open Platform console > App List > your app: Partner ID and Key."),
            environment_key="environment",
            environment_values={"production": "live", "sandbox": "test"},
        ),
        AppPlatform(
            "tiktok",
            "TikTok Shop",
            ("tiktok",),
            (_pick(TIKTOK_FIELDS, "app_key"), _pick(TIKTOK_FIELDS, "app_secret")),
            gettext_lazy("TikTok Shop Partner Center > App & Service > your app: App key and App secret."),
        ),
        AppPlatform(
            "aliexpress",
            "AliExpress",
            ("aliexpress",),
            (_pick(ALIEXPRESS_FIELDS, "app_key"), _pick(ALIEXPRESS_FIELDS, "app_secret")),
            gettext_lazy("AliExpress Open Platform console > App Management > your app: App Key and App Secret."),
        ),
        AppPlatform(
            "wish",
            "Wish",
            ("wish",),
            (_pick(WISH_FIELDS, "client_id"), _pick(WISH_FIELDS, "client_secret")),
            gettext_lazy("Wish Merchant Dashboard > Settings > API settings: client id and client secret."),
        ),
        AppPlatform(
            "meta",
            "Meta (WhatsApp, Messenger)",
            ("whatsapp", "facebook"),
            (
                CredentialField(
                    "app_id",
                    gettext_lazy("App ID"),
                    max_length=40,
                    help=gettext_lazy("For reference: which Meta app the secret belongs to."),
                ),
                _pick(MESSENGER_FIELDS, "app_secret"),
            ),
            gettext_lazy("Meta for Developers > your app > App settings > Basic: App ID and App secret."),
            consent=False,
        ),
    )
}

BY_STORE_PLATFORM: Mapping[str, AppPlatform] = {p: app for app in APP_PLATFORMS.values() for p in app.store_platforms}


def app_platform_of(store_platform: str) -> AppPlatform | None:
    """The app platform whose app a store of `store_platform` connects through (None: e-mail...)."""
    return BY_STORE_PLATFORM.get(store_platform)


def fingerprint(secret: Any) -> str:
    """What the page shows of a secret: the first 8 hex digits of its SHA-256 (compare with
    `printf %s "$SECRET" | sha256sum | cut -c1-8`)."""
    return hashlib.sha256(str(secret).encode()).hexdigest()[:8]


# -- what a store's connector reads -----------------------------------------------------------


def _store_names(store_platform: str) -> set[str]:
    return {f.name for f in credential_fields(store_platform) or ()}


def _as_store_credentials(app: AppPlatform, row: MarketplaceApp, store_platform: str) -> dict[str, Any]:
    """The app's keys under the store platform's names (only those its schema knows), and the
    environment where the store's connector reads one."""
    names = _store_names(store_platform)
    values = {k: v for k, v in (row.credentials or {}).items() if k in names and not blank(v)}
    if app.environment_key and app.environment_key in names:
        values[app.environment_key] = app.environment_value(row.environment)
    return values


def uses_own_app(store_platform: str, stored: Mapping[str, Any]) -> bool:
    """True when the store's own credentials hold any of the app's required keys (a store connected
    before apps existed, with an app of its own, e.g. a Shopify custom app's secret): the
    organization's app is not read for it."""
    app = app_platform_of(store_platform)
    if app is None:
        return True
    names = _store_names(store_platform)
    return any(not blank(stored.get(name)) for name in app.required if name in names)


def effective_credentials(store: Store, stored: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The store's credentials as its connector reads them: the organization's app keys (for its
    platform) overlaid with the store's own. One query, only when the store lacks the app's keys."""
    own = dict(store.credentials or {} if stored is None else stored)
    if uses_own_app(store.platform, own):
        return own
    app = app_platform_of(store.platform)
    assert app is not None  # uses_own_app is True without an app platform
    row = MarketplaceApp.objects.filter(organization_id=store.organization_id, platform=app.code).first()
    if row is None:
        return own
    return {**_as_store_credentials(app, row, store.platform), **own}


def app_supplied_fields(organization_id: int, store_platform: str) -> frozenset[str]:
    """The store credential names the organization's app fills for stores of `store_platform`
    (their schema does not require them on the store then)."""
    app = app_platform_of(store_platform)
    if app is None:
        return frozenset()
    row = MarketplaceApp.objects.filter(organization_id=organization_id, platform=app.code).first()
    if row is None:
        return frozenset()
    return frozenset(_as_store_credentials(app, row, store_platform))


# -- checking and saving an app ----------------------------------------------------------------


def _app(platform: str) -> AppPlatform:
    app = APP_PLATFORMS.get(str(platform or "").strip().lower())
    if app is None:
        raise ValidationFailed(
            _("platform: must be one of %(choices)s") % {"choices": ", ".join(APP_PLATFORMS)}, field="platform"
        )
    return app


def check_app_credentials(platform: str, credentials: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of a `platform` app checked against its fields, in their order; blank optional ones
    dropped. Unknown keys, missing required ones, wrong types: ValidationFailed naming
    `credentials.<key>`."""
    app = _app(platform)
    if not isinstance(credentials, Mapping) or not all(isinstance(k, str) for k in credentials):
        raise ValidationFailed(_("credentials must be an object with string keys"), field="credentials")
    known = {f.name: f for f in app.fields}
    unknown = sorted(set(credentials) - set(known))
    if unknown:
        raise fail(
            unknown[0],
            _("unknown for the %(platform)s app; expected some of %(names)s")
            % {"platform": app.label, "names": ", ".join(f.name for f in app.fields if not f.internal)},
        )
    clean: dict[str, Any] = {}
    for spec in app.fields:
        value = credentials.get(spec.name)
        if blank(value):
            if spec.required:
                raise fail(spec.name, _("required for the %(platform)s app") % {"platform": app.label})
            continue
        clean[spec.name] = clean_field(spec, value)
    return clean


def check_marketplace_app(
    *, user: Any, platform: str, environment: str, credentials: Mapping[str, Any]
) -> tuple[AppPlatform, str]:
    """Permission (organization admins), platform and environment; the credentials are checked
    with what is stored by marketplace_app_save."""
    check_perm(user, Permission.ADMINISTER)
    app = _app(platform)
    env = str(environment or "production").strip().lower()
    if env not in ENVIRONMENTS:
        raise ValidationFailed(
            _("environment: must be one of %(choices)s") % {"choices": ", ".join(ENVIRONMENTS)}, field="environment"
        )
    if not isinstance(credentials, Mapping):
        raise ValidationFailed(_("credentials must be an object with string keys"), field="credentials")
    return app, env


def marketplace_app_save(
    *,
    user: Any,
    platform: str,
    environment: str = "production",
    credentials: Mapping[str, Any],
    drop_previous_secret: bool = False,
    via: str = "ui",
) -> MarketplaceApp:
    """Create or change the organization's `platform` app. A secret left out or empty keeps its
    stored value; a different one rotates it (`rotated_at`; Shopify's previous client secret kept as
    `old_client_secret` until `drop_previous_secret`). Any other field left out or empty is removed.
    All or nothing: a refused key (422 naming `credentials.<key>`) saves nothing. Locks the app row."""
    app, env = check_marketplace_app(user=user, platform=platform, environment=environment, credentials=credentials)
    organization_id = organization_of(user)
    typed = {k: v for k, v in credentials.items() if k != "old_client_secret"}
    try:
        with transaction.atomic():
            row = (
                MarketplaceApp.objects.select_for_update()
                .filter(organization_id=organization_id, platform=app.code)
                .first()
            )
            stored = dict(row.credentials or {}) if row else {}
            merged = dict(typed)
            for spec in app.fields:
                if (
                    spec.secret
                    and not spec.internal
                    and blank(merged.get(spec.name))
                    and not blank(stored.get(spec.name))
                ):
                    merged[spec.name] = stored[spec.name]
            rotated = [
                s.name
                for s in app.fields
                if s.secret and not s.internal and stored.get(s.name) and merged.get(s.name) != stored.get(s.name)
            ]
            if app.code == "shopify":
                previous = stored.get("old_client_secret")
                if "client_secret" in rotated:
                    previous = stored.get("client_secret")
                if previous and not drop_previous_secret and previous != merged.get("client_secret"):
                    merged["old_client_secret"] = previous
            clean = check_app_credentials(app.code, merged)
            if row is None:
                row = MarketplaceApp(organization_id=organization_id, platform=app.code)
            changed = sorted(k for k in set(clean) | set(stored) if clean.get(k) != stored.get(k))
            row.environment = env
            row.credentials = clean
            row.updated_by = user
            if rotated:
                row.rotated_at = now()
            setting_audit(row, APP_AUDIT_FIELDS, actor=user, setting=f"marketplace_app.{app.code}", secret=APP_SECRET)
            row.save()
    except IntegrityError:  # created concurrently by another admin
        raise Conflict(_("another admin saved this app at the same time: reload"), field="platform") from None
    audit.info(
        "marketplace app saved",
        extra={
            "organization_id": organization_id,
            "platform": app.code,
            "environment": env,
            "changed": changed,  # names only, never values
            "rotated": rotated,
            "user_id": getattr(user, "pk", None),
            "via": via,
        },
    )
    return row


def stores_relying_on(organization_id: int, app: AppPlatform) -> list[Store]:
    """The organization's stores of the app's platforms that read its keys (no keys of their own)."""
    stores = Store.objects.filter(organization_id=organization_id, platform__in=app.store_platforms).order_by("pk")
    return [s for s in stores if not uses_own_app(s.platform, s.credentials or {})]


def marketplace_app_delete(*, user: Any, platform: str, via: str = "ui") -> None:
    """Remove the organization's `platform` app. Refused (409 naming `platform`) while active stores
    connect through it; NotFound when there is none."""
    check_perm(user, Permission.ADMINISTER)
    app = _app(platform)
    organization_id = organization_of(user)
    with transaction.atomic():
        row = (
            MarketplaceApp.objects.select_for_update()
            .filter(organization_id=organization_id, platform=app.code)
            .first()
        )
        if row is None:
            raise NotFound(_("no %(platform)s app is registered") % {"platform": app.label}, field="platform")
        relying = [s for s in stores_relying_on(organization_id, app) if s.is_active]
        if relying:
            raise Conflict(
                _("%(count)d active store(s) connect through this app (%(names)s): deactivate them first")
                % {"count": len(relying), "names": ", ".join(s.name for s in relying[:5])},
                field="platform",
                code="app_in_use",
            )
        setting_audit(
            row, APP_AUDIT_FIELDS, actor=user, setting=f"marketplace_app.{app.code}", secret=APP_SECRET, deleted=True
        )
        row.delete()
    audit.info(
        "marketplace app deleted",
        extra={
            "organization_id": organization_id,
            "platform": app.code,
            "user_id": getattr(user, "pk", None),
            "via": via,
        },
    )


# -- what the settings page and the API show ---------------------------------------------------


@dataclass(frozen=True)
class AppFieldState:
    field: CredentialField
    is_set: bool
    value: Any  # a non-secret field's value; None for a secret
    fingerprint: str  # a set secret's fingerprint; "" otherwise


@dataclass(frozen=True)
class MarketplaceAppView:
    platform: str
    label: str
    console: str
    store_platforms: tuple[str, ...]
    configured: bool
    environment: str
    fields: tuple[AppFieldState, ...]
    previous_secret_kept: bool  # Shopify: old_client_secret still verifies
    redirect_uri: str  # "" for an app whose stores do not connect through a consent page
    stores_using: int
    updated_at: datetime | None
    rotated_at: datetime | None


def _view(app: AppPlatform, row: MarketplaceApp | None, stores_using: int, redirect: str) -> MarketplaceAppView:
    stored = (row.credentials or {}) if row else {}
    return MarketplaceAppView(
        platform=app.code,
        label=app.label,
        console=str(app.console),
        store_platforms=app.store_platforms,
        configured=row is not None,
        environment=row.environment if row else "production",
        fields=tuple(
            AppFieldState(
                field=spec,
                is_set=not blank(stored.get(spec.name)),
                value=None if spec.secret else stored.get(spec.name),
                fingerprint=fingerprint(stored[spec.name]) if spec.secret and not blank(stored.get(spec.name)) else "",
            )
            for spec in app.fields
            if not spec.internal
        ),
        previous_secret_kept=not blank(stored.get("old_client_secret")),
        redirect_uri=redirect if app.consent else "",
        stores_using=stores_using,
        updated_at=row.updated_at if row else None,
        rotated_at=row.rotated_at if row else None,
    )


def marketplace_apps(user: Any) -> list[MarketplaceAppView]:
    """Every platform's app of the admin's organization, registered or not, in a fixed order."""
    check_perm(user, Permission.ADMINISTER)
    organization_id = organization_of(user)
    rows = {r.platform: r for r in MarketplaceApp.objects.filter(organization_id=organization_id)}
    redirect = redirect_uri()
    return [
        _view(
            app, rows.get(app.code), len(stores_relying_on(organization_id, app)) if app.code in rows else 0, redirect
        )
        for app in APP_PLATFORMS.values()
    ]


def marketplace_app(user: Any, platform: str) -> MarketplaceAppView:
    app = _app(platform)
    return next(v for v in marketplace_apps(user) if v.platform == app.code)
