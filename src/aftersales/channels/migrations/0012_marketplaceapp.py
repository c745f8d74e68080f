"""The organization's marketplace apps (channels/marketplace_apps.py), and the app keys that existing
stores typed one by one moved into them where the stores agree.

For each organization and app platform: the stores of that platform that hold the app's required
keys themselves (a store holding only some of them is left as it is). When they all hold the same
values (every app key, and the environment where the store kept one), the app is created with them
and the keys are removed from those stores, which then read them from the app (a rotation reaches
them all). When they differ (two Shopify custom apps, two eBay keysets), nothing is moved: each
store keeps its own keys and goes on working; an admin can register the app and clear a store's own
keys later. Tokens (refresh/access) always stay on the store. Reversing puts the app's keys back on
the stores that read them."""

from __future__ import annotations

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import aftersales.core.crypto

# app platform -> (store platforms, required keys, optional keys, store environment key, its values)
APPS = {
    "shopify": (("shopify",), ("client_id", "client_secret"), ("old_client_secret",), "", {}),
    "ebay": (("ebay",), ("client_id", "client_secret"), ("ru_name",), "environment", {}),
    "amazon": (("amazon",), ("lwa_client_id", "lwa_client_secret"), ("application_id", "draft_app"), "", {}),
    "shopee": (
        ("shopee",),
        ("partner_id", "partner_key"),
        ("push_key",),
        "environment",
        {"live": "production", "test": "sandbox"},
    ),
    "tiktok": (("tiktok",), ("app_key", "app_secret"), (), "", {}),
    "aliexpress": (("aliexpress",), ("app_key", "app_secret"), (), "", {}),
    "wish": (("wish",), ("client_id", "client_secret"), (), "", {}),
    "meta": (("whatsapp", "facebook"), ("app_secret",), (), "", {}),
}


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    Store = apps.get_model("catalog", "Store")
    MarketplaceApp = apps.get_model("channels", "MarketplaceApp")
    by_org: dict[tuple[int, str], list] = {}
    platforms = {p: code for code, (stores, *_rest) in APPS.items() for p in stores}
    for store in Store.objects.filter(platform__in=list(platforms)).order_by("pk"):
        try:
            creds = dict(store.credentials or {})
        except ValueError:  # not decryptable with the configured keys: left as it is
            continue
        code = platforms[store.platform]
        required = APPS[code][1]
        if all(not _blank(creds.get(k)) for k in required):
            by_org.setdefault((store.organization_id, code), []).append((store, creds))
    for (organization_id, code), stores in by_org.items():
        _platforms, required, optional, env_key, env_values = APPS[code]
        keys = (*required, *optional)
        shapes = {
            (tuple((k, str(c.get(k, ""))) for k in keys), str(c.get(env_key, "")) if env_key else "")
            for _s, c in stores
        }
        if len(shapes) != 1 or MarketplaceApp.objects.filter(organization_id=organization_id, platform=code).exists():
            continue  # the stores disagree (or an app exists): each keeps its own keys
        first = stores[0][1]
        environment = "production"
        if env_key and first.get(env_key):
            environment = env_values.get(str(first[env_key]), str(first[env_key]))
        if environment not in ("production", "sandbox"):
            continue
        MarketplaceApp.objects.create(
            organization_id=organization_id,
            platform=code,
            environment=environment,
            credentials={k: first[k] for k in keys if not _blank(first.get(k))},
        )
        for store, creds in stores:
            for k in (*keys, *((env_key,) if env_key else ())):
                creds.pop(k, None)
            store.credentials = creds
            store.save(update_fields=["credentials"])


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    Store = apps.get_model("catalog", "Store")
    MarketplaceApp = apps.get_model("channels", "MarketplaceApp")
    for app in MarketplaceApp.objects.all():
        store_platforms, required, optional, env_key, env_values = APPS.get(app.platform, ((), (), (), "", {}))
        values = dict(app.credentials or {})
        if env_key:
            back = {v: k for k, v in env_values.items()}
            values[env_key] = back.get(app.environment, app.environment)
        for store in Store.objects.filter(organization_id=app.organization_id, platform__in=store_platforms):
            creds = dict(store.credentials or {})
            if any(not _blank(creds.get(k)) for k in required):
                continue  # a store with an app of its own
            store.credentials = {**{k: v for k, v in values.items() if k in (*required, *optional, env_key)}, **creds}
            store.save(update_fields=["credentials"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("catalog", "0001_initial"),
        ("channels", "0011_storesync_granted_scopes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="MarketplaceApp",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("platform", models.CharField(max_length=20)),
                ("environment", models.CharField(default="production", max_length=10)),
                ("credentials", aftersales.core.crypto.EncryptedJSONField(blank=True, default=dict)),
                ("rotated_at", models.DateTimeField(blank=True, null=True)),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="accounts.organization"
                    ),
                ),
                (
                    "updated_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("organization", "platform"), name="marketplaceapp_unique_platform")
                ],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
