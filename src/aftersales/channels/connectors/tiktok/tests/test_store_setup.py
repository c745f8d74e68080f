"""Connecting a TikTok Shop store: the credentials schema holds every key the connector reads, and
POST /api/v1/stores checks TikTok Shop credentials naming the field (secrets never shown again)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from aftersales.catalog.models import Store
from aftersales.channels import registry
from aftersales.channels.credentials import PLATFORM_CREDENTIALS

FOLDER = Path(__file__).parent.parent
VALID = {"app_key": "6abcdtts01", "app_secret": "as-secret", "shop_cipher": "ROW_x1", "refresh_token": "rt-secret"}


def test_the_schema_declares_every_key_the_connector_reads_and_requires_its_own() -> None:
    read: set[str] = set()
    for source in FOLDER.glob("*.py"):
        if source.name != "fake.py":
            read |= set(re.findall(r'cred(?:entials|s)(?:\[|\.get\()"(\w+)"', source.read_text()))
    fields = {f.name: f for f in PLATFORM_CREDENTIALS["tiktok"]}
    assert read and read <= set(fields), read - set(fields)
    connector = registry.get_connector("tiktok")
    for name in getattr(connector, "credential_fields", ()):
        assert fields[name].required, name
    assert {n for n, f in fields.items() if f.secret} >= {"app_secret", "refresh_token", "access_token"}


@pytest.mark.django_db
def test_creating_a_tiktok_store_checks_its_credentials(world) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(world.admin)

    def post(body: dict[str, Any]) -> Any:
        return client.post("/api/v1/stores", data=json.dumps(body), content_type="application/json")

    base = {"name": "TikTok Shop US", "platform": "tiktok", "site": "shop.tiktok.com/us", "currency": "USD"}
    for credentials, field in [
        ({k: v for k, v in VALID.items() if k != "shop_cipher"}, "credentials.shop_cipher"),
        ({k: v for k, v in VALID.items() if k != "app_secret"}, "credentials.app_secret"),
        ({**VALID, "shop_id": "74x"}, "credentials.shop_id"),
        ({**VALID, "partner_key": "x"}, "credentials.partner_key"),
    ]:
        refused = post({**base, "credentials": credentials})
        assert refused.status_code == 422, refused.content[:300]
        assert refused.json()["error"]["field"] == field
    assert not Store.objects.filter(name="TikTok Shop US").exists()
    created = post({**base, "credentials": {**VALID, "shop_id": "7494000000000000001"}})
    assert created.status_code == 201, created.content
    sync = client.get(f"/api/v1/stores/{created.json()['id']}/sync")
    fields = {f["name"]: f for f in sync.json()["credential_fields"]}
    assert fields["app_secret"]["is_set"] is True and fields["app_secret"]["value"] is None
    assert fields["shop_cipher"]["value"] == "ROW_x1"
    assert "access_token" not in fields  # written by the connector, never asked for
    assert b"as-secret" not in sync.content and b"rt-secret" not in sync.content
    supported = {c["capability"] for c in sync.json()["capabilities"] if c["supported"]}
    assert {"pull_orders", "pull_messages", "pull_returns", "decide_return", "send_message"} <= supported
