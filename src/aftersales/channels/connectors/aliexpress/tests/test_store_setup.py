"""Connecting an AliExpress store: the credentials schema holds every key the connector reads, and
POST /api/v1/stores checks AliExpress credentials naming the field (secrets never shown again)."""

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
VALID = {"app_key": "501234", "app_secret": "ae-secret", "refresh_token": "rt-secret"}


def test_the_schema_declares_every_key_the_connector_reads_and_requires_its_own() -> None:
    read: set[str] = set()
    for source in FOLDER.glob("*.py"):
        if source.name != "fake.py":
            read |= set(re.findall(r'credentials(?:\[|\.get\()"(\w+)"', source.read_text()))
    fields = {f.name: f for f in PLATFORM_CREDENTIALS["aliexpress"]}
    assert read and read <= set(fields), read - set(fields)
    connector = registry.get_connector("aliexpress")
    for name in getattr(connector, "credential_fields", ()):
        assert fields[name].required, name
    assert {n for n, f in fields.items() if f.secret} == {"app_secret", "refresh_token", "access_token"}


@pytest.mark.django_db
def test_creating_an_aliexpress_store_checks_its_credentials(world) -> None:  # type: ignore[no-untyped-def]
    admin = Client()
    admin.force_login(world.admin)

    def post(body: dict) -> Any:
        return admin.post("/api/v1/stores", data=json.dumps(body), content_type="application/json")

    base = {"name": "AliExpress", "platform": "aliexpress", "site": "aliexpress.com", "currency": "USD"}
    for credentials, field in [
        ({k: v for k, v in VALID.items() if k != "app_secret"}, "credentials.app_secret"),
        ({**VALID, "partner_key": "x"}, "credentials.partner_key"),
    ]:
        refused = post({**base, "credentials": credentials})
        assert refused.status_code == 422 and refused.json()["error"]["field"] == field, refused.content
    assert not Store.objects.filter(name="AliExpress").exists()
    # The app keys alone: a store awaiting "Connect" (the seller's consent fills refresh_token).
    awaiting = {k: v for k, v in VALID.items() if k != "refresh_token"}
    assert post({**base, "name": "AliExpress (to connect)", "credentials": awaiting}).status_code == 201
    created = post({**base, "credentials": VALID})
    assert created.status_code == 201, created.content
    sync = admin.get(f"/api/v1/stores/{created.json()['id']}/sync")
    fields = {f["name"]: f for f in sync.json()["credential_fields"]}
    assert fields["app_secret"]["is_set"] is True and fields["app_secret"]["value"] is None
    assert fields["app_key"]["value"] == "501234"
    assert "access_token" not in fields  # written by the connector, never asked for
    assert b"ae-secret" not in sync.content and b"rt-secret" not in sync.content
    supported = {c["capability"] for c in sync.json()["capabilities"] if c["supported"]}
    assert supported == {
        "pull_orders",
        "pull_messages",
        "pull_returns",
        "send_message",
        "decide_return",
        "issue_refund",
        "mark_shipped",
        "test_connection",
    }
