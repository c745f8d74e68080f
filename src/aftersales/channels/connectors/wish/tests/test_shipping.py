"""Mark shipped on Wish (issue 12): Wish Merchant API v3 "Ship or update tracking"
(PUT /api/v3/orders/{id}/tracking, body UpdateTracking: tracking_number, shipping_provider,
origin_country). The agent's action on the order's ticket records the shipment and, after the commit,
reads the order, matches the carrier to Wish's accepted carriers (GET
/api/v3/orders/shipping_carriers?order_type=GENERAL) and sends exactly that body with the bearer
token, once; a second click is answered by the ledger; a resend finds the number on the order and
reconciles; an unknown carrier, a missing origin country and an order not awaiting shipment are
refused with the reason and nothing is sent. Real HTTP against the fake, SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from aftersales.catalog.models import Store
from aftersales.channels.base import ShipmentConfirmation, Stream
from aftersales.channels.connectors.wish.fake import WishFake, iso_ago
from aftersales.channels.context import store_context
from aftersales.channels.models import WriteBack, WriteBackStatus
from aftersales.channels.registry import get_connector
from aftersales.channels.sync import sync_stream
from aftersales.testing.acceptance import fake_store, mark_shipped_from_ticket

from .conftest import load

ORDER_ID = "6401a2b3c4d5e6f708192a3b"
NUMBER = "LX123456789CN"
TRACKING = f"/api/v3/orders/{ORDER_ID}/tracking"
CARRIERS = "/api/v3/orders/shipping_carriers"


def _store(fake: WishFake, **credentials: Any) -> Store:
    fake.add_order({**load("order.json"), "updated_at": iso_ago(30)})
    shop = fake_store(
        fake,
        platform="wish",
        external_id=fake.merchant_id,
        credentials=fake.credentials(**credentials),
        site="wish.com",
        currency="USD",
    )
    assert sync_stream(store_id=shop.pk, stream=Stream.ORDERS).created == 1
    return shop


@pytest.fixture
def store(db: Any, fake: WishFake) -> Store:
    return _store(fake, origin_country="CN")


def test_mark_shipped_sends_the_exact_request_once(store: Store, fake: WishFake, waits: list[float]) -> None:
    shipment, sync = mark_shipped_from_ticket(store, ORDER_ID, carrier="chinapost", tracking_number=NUMBER)
    assert sync is not None and sync.status == WriteBackStatus.SUCCEEDED, sync
    [carriers] = fake.requests_to(CARRIERS, "GET")
    assert carriers.arg("order_type") == "GENERAL"
    [put] = fake.requests_to(TRACKING)
    assert put.method == "PUT" and put.headers["content-type"] == "application/json"
    assert put.headers["authorization"].startswith("Bearer at-")
    assert json.loads(put.body) == {"tracking_number": NUMBER, "shipping_provider": "ChinaPost", "origin_country": "CN"}
    assert fake.orders[ORDER_ID]["state"] == "SHIPPED"
    row = WriteBack.objects.get(store=store, kind="mark_shipped")
    assert (row.idempotency_key, row.external_id) == (f"shipment:{shipment.pk}:mark_shipped", ORDER_ID)

    again, _sync = mark_shipped_from_ticket(store, ORDER_ID, carrier="ChinaPost", tracking_number=NUMBER)
    assert again.pk == shipment.pk and len(fake.requests_to(TRACKING)) == 1  # the ledger answered

    connector: Any = get_connector("wish")
    confirmation = ShipmentConfirmation(ORDER_ID, "ChinaPost", NUMBER, datetime.now(UTC))
    receipt = connector.mark_shipped(store_context(store, connector=connector), confirmation)
    assert receipt.detail == f"reconciled: shipped with {NUMBER}" and len(fake.requests_to(TRACKING)) == 1

    _other, refused = mark_shipped_from_ticket(store, ORDER_ID, carrier="UPS", tracking_number="1Z999")
    assert refused is not None and refused.status == WriteBackStatus.FAILED
    assert "is SHIPPED, not awaiting shipment" in refused.detail and len(fake.requests_to(TRACKING)) == 1


def test_unknown_carrier_and_bad_number_are_refused_before_any_write(
    store: Store, fake: WishFake, waits: list[float]
) -> None:
    _shipment, sync = mark_shipped_from_ticket(store, ORDER_ID, carrier="Pony Express", tracking_number=NUMBER)
    assert sync is not None and sync.status == WriteBackStatus.FAILED
    assert "no shipping carrier 'Pony Express'" in sync.detail and "USPS, UPS, FedEx" in sync.detail
    _shipment, sync = mark_shipped_from_ticket(store, ORDER_ID, carrier="USPS", tracking_number="LX-1234")
    assert sync is not None and sync.status == WriteBackStatus.FAILED
    assert "letters and digits only" in sync.detail
    assert fake.requests_to(TRACKING) == []


def test_without_an_origin_country_nothing_is_sent(db: Any, fake: WishFake, waits: list[float]) -> None:
    store = _store(fake)
    _shipment, sync = mark_shipped_from_ticket(store, ORDER_ID, carrier="USPS", tracking_number=NUMBER)
    assert sync is not None and sync.status == WriteBackStatus.FAILED
    assert "origin_country" in sync.detail and fake.requests_to(TRACKING) == []


def test_the_stores_origin_country_is_checked_naming_the_field_and_used(world: Any, fake: WishFake) -> None:
    """`origin_country` is an optional Wish store setting (POST/PATCH /api/v1/stores, the store page):
    an ISO 3166-1 alpha-2 code, stored upper case; anything else is refused naming
    `credentials.origin_country` and no store is written. The stored value is what the PUT carries."""
    from django.test import Client

    from aftersales.channels.credentials import check_platform_credentials

    admin = Client()
    admin.force_login(world.admin)
    base = {"name": "Wish", "platform": "wish", "site": "wish.com", "currency": "USD"}
    for bad in ("XX", "CHN", "c1", 86):
        refused = admin.post(
            "/api/v1/stores",
            data=json.dumps({**base, "credentials": fake.credentials(origin_country=bad)}),
            content_type="application/json",
        )
        assert refused.status_code == 422, (bad, refused.content)
        assert refused.json()["error"]["field"] == "credentials.origin_country", refused.content
    assert not Store.objects.filter(name="Wish").exists()
    created = admin.post(
        "/api/v1/stores",
        data=json.dumps({**base, "credentials": fake.credentials(origin_country=" gb ")}),
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    sync = admin.get(f"/api/v1/stores/{created.json()['id']}/sync").json()
    assert {f["name"]: f["value"] for f in sync["credential_fields"]}["origin_country"] == "GB"

    store = _store(fake, **check_platform_credentials("wish", fake.credentials(origin_country="hk")))
    _shipment, sync_row = mark_shipped_from_ticket(store, ORDER_ID, carrier="USPS", tracking_number=NUMBER)
    assert sync_row is not None and sync_row.status == WriteBackStatus.SUCCEEDED, sync_row
    [put] = fake.requests_to(TRACKING)
    assert json.loads(put.body) == {"tracking_number": NUMBER, "shipping_provider": "USPS", "origin_country": "HK"}
