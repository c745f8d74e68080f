"""Connecting a Shopee store: the credentials schema holds every key the connector reads, and
POST /api/v1/stores checks Shopee credentials naming the field (secrets never shown again)."""

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
VALID = {"partner_id": "2001234", "partner_key": "pk-secret", "shop_id": "880001", "refresh_token": "rt-secret"}


def test_the_schema_declares_every_key_the_connector_reads_and_requires_its_own() -> None:
    read: set[str] = set()
    for source in FOLDER.glob("*.py"):
        if source.name != "fake.py":
            read |= set(re.findall(r'cred(?:entials|s)(?:\[|\.get\()"(\w+)"', source.read_text()))
    fields = {f.name: f for f in PLATFORM_CREDENTIALS["shopee"]}
    assert read and read <= set(fields), read - set(fields)
    connector = registry.get_connector("shopee")
    for name in getattr(connector, "credential_fields", ()):
        assert fields[name].required, name
    assert {n for n, f in fields.items() if f.secret} >= {"partner_key", "refresh_token", "push_key", "access_token"}


class Admin:
    """JSON calls to /api/v1 as a signed-in admin (the API's own tests have a fuller client)."""

    def __init__(self, user: Any) -> None:
        self.client = Client()
        self.client.force_login(user)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.post(f"/api/v1{path}", data=json.dumps(body), content_type="application/json")

    def get(self, path: str) -> Any:
        return self.client.get(f"/api/v1{path}")


def assert_error(response: Any, status: int, *, field: str) -> None:
    assert response.status_code == status, response.content[:300]
    assert response.json()["error"]["field"] == field


@pytest.mark.django_db
def test_creating_a_shopee_store_checks_its_credentials(world) -> None:  # type: ignore[no-untyped-def]
    admin = Admin(world.admin)
    base = {"name": "Shopee SG", "platform": "shopee", "site": "shopee.sg", "currency": "SGD"}
    for credentials, field in [
        ({k: v for k, v in VALID.items() if k != "shop_id"}, "credentials.shop_id"),
        ({**VALID, "shop_id": "88x"}, "credentials.shop_id"),
        ({**VALID, "partner_id": "abc"}, "credentials.partner_id"),
        ({**VALID, "dispute_email": "nope"}, "credentials.dispute_email"),
        ({**VALID, "environment": "staging"}, "credentials.environment"),
        ({**VALID, "app_secret": "x"}, "credentials.app_secret"),
    ]:
        assert_error(admin.post("/stores", {**base, "credentials": credentials}), 422, field=field)
    assert not Store.objects.filter(name="Shopee SG").exists()
    created = admin.post("/stores", {**base, "credentials": {**VALID, "dispute_email": "ops@gadgets.example"}})
    assert created.status_code == 201, created.content
    sync = admin.get(f"/stores/{created.json()['id']}/sync")
    fields = {f["name"]: f for f in sync.json()["credential_fields"]}
    assert fields["partner_key"]["is_set"] is True and fields["partner_key"]["value"] is None
    assert fields["shop_id"]["value"] == "880001"
    assert "access_token" not in fields  # written by the connector, never asked for
    assert b"pk-secret" not in sync.content and b"rt-secret" not in sync.content
    supported = {c["capability"] for c in sync.json()["capabilities"] if c["supported"]}
    assert {"pull_orders", "pull_messages", "pull_returns", "decide_return", "send_message"} <= supported
