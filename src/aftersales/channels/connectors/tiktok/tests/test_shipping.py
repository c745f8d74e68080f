"""Mark shipped with the seller's carrier and tracking number on TikTok Shop (issue 12): the agent's
action on the order's ticket records the shipment and, after the commit, reads the order, finds the
carrier among the shipping providers of the order's delivery option (TikTok wants its id) and marks
the package shipped with exactly those lines, that number and that provider id; a second click is
answered by the ledger; a resend finds the number on the order and reconciles; an unknown carrier
and an order TikTok ships with its own label are refused with TikTok's facts. Real HTTP against
the fake, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import TestCase

from aftersales.catalog.models import Store
from aftersales.channels.base import ShipmentConfirmation, Stream
from aftersales.channels.connectors.tiktok.client import sign
from aftersales.channels.connectors.tiktok.fake import TikTokFake
from aftersales.channels.context import store_context
from aftersales.channels.models import WriteBack, WriteBackStatus
from aftersales.channels.registry import get_connector
from aftersales.channels.sync import sync_stream
from aftersales.testing.acceptance import fake_store, mark_shipped_from_ticket

from .conftest import load

ORDER_ID = "576461413038785752"
NUMBER = "9400111899223344556677"
PROVIDERS = "/logistics/202309/delivery_options/7091146663229654789/shipping_providers"
PACKAGES = f"/fulfillment/202309/orders/{ORDER_ID}/packages"


@pytest.fixture
def store(db: Any, fake: TikTokFake) -> Store:
    order = load("order.json")
    order["update_time"] = int((datetime.now(UTC) - timedelta(minutes=30)).timestamp())
    fake.add_order(order)
    shop = fake_store(
        fake,
        platform="tiktok",
        external_id=fake.shop_id,
        credentials=fake.credentials(),
        site="shop.tiktok.com/us",
        currency="USD",
    )
    assert sync_stream(store_id=shop.pk, stream=Stream.ORDERS).created == 1
    return shop


def _signed(fake: TikTokFake, request: Any, path: str) -> None:
    params = {k: v[0] for k, v in request.query.items()}
    assert params["app_key"] == fake.app_key and params["shop_cipher"] == fake.shop_cipher
    assert request.headers["x-tts-access-token"] and "access_token" not in params
    assert params["sign"] == sign(fake.app_secret, path, params, request.body)


def test_mark_shipped_sends_the_exact_requests_once(store: Store, fake: TikTokFake, waits: list[float]) -> None:
    shipment, sync = mark_shipped_from_ticket(store, ORDER_ID, carrier="usps", tracking_number=NUMBER)
    assert sync is not None and sync.status == WriteBackStatus.SUCCEEDED, sync
    [providers] = fake.requests_to(PROVIDERS, "GET")
    _signed(fake, providers, PROVIDERS)
    [package] = fake.requests_to(PACKAGES, "POST")
    _signed(fake, package, PACKAGES)
    assert package.headers["content-type"] == "application/json"
    assert package.json() == {
        "order_line_item_ids": ["577086512123755123", "577086512123755124"],
        "tracking_number": NUMBER,
        "shipping_provider_id": "6617675021119438849",  # USPS, matched whatever the case
    }
    assert fake.orders[ORDER_ID]["status"] == "IN_TRANSIT"
    row = WriteBack.objects.get(store=store, kind="mark_shipped")
    assert row.external_id == fake.orders[ORDER_ID]["line_items"][0]["package_id"]

    again, _sync = mark_shipped_from_ticket(store, ORDER_ID, carrier="usps", tracking_number=NUMBER)
    assert again.pk == shipment.pk and len(fake.requests_to(PACKAGES, "POST")) == 1  # the ledger answered

    connector: Any = get_connector("tiktok")
    confirmation = ShipmentConfirmation(ORDER_ID, "USPS", NUMBER, datetime.now(UTC))
    receipt = connector.mark_shipped(store_context(store, connector=connector), confirmation)
    assert receipt.detail == f"reconciled: shipped with {NUMBER}" and receipt.external_id == row.external_id
    assert len(fake.requests_to(PACKAGES, "POST")) == 1

    _other, refused = mark_shipped_from_ticket(store, ORDER_ID, carrier="USPS", tracking_number="9400999")
    assert refused is not None and refused.status == WriteBackStatus.FAILED
    assert "is IN_TRANSIT, not awaiting shipment" in refused.detail and NUMBER in refused.detail


def test_one_line_of_the_order(store: Store, fake: TikTokFake, waits: list[float]) -> None:
    connector: Any = get_connector("tiktok")
    first = ShipmentConfirmation(ORDER_ID, "FedEx", "7712", datetime.now(UTC), line_ids=["577086512123755124"])
    connector.mark_shipped(store_context(store, connector=connector), first)
    [package] = fake.requests_to(PACKAGES, "POST")
    assert package.json()["order_line_item_ids"] == ["577086512123755124"]
    assert package.json()["shipping_provider_id"] == "6617675021119438851"
    assert fake.orders[ORDER_ID]["status"] == "PARTIALLY_SHIPPING"
    _shipment, sync = mark_shipped_from_ticket(store, ORDER_ID, carrier="UPS", tracking_number="1Z999")
    assert sync is not None and sync.status == WriteBackStatus.SUCCEEDED
    assert fake.requests_to(PACKAGES, "POST")[-1].json()["order_line_item_ids"] == ["577086512123755123"]


def test_unknown_carrier_and_tiktok_shipping_are_refused(store: Store, fake: TikTokFake, waits: list[float]) -> None:
    _shipment, sync = mark_shipped_from_ticket(store, ORDER_ID, carrier="Pony Express", tracking_number=NUMBER)
    assert sync is not None and sync.status == WriteBackStatus.FAILED
    assert "no shipping provider 'Pony Express'" in sync.detail and "USPS, UPS, FedEx" in sync.detail
    fake.orders[ORDER_ID]["shipping_type"] = "TIKTOK"
    _shipment, sync = mark_shipped_from_ticket(store, ORDER_ID, carrier="USPS", tracking_number="9400222")
    assert sync is not None and sync.status == WriteBackStatus.FAILED
    assert "with its own label" in sync.detail
    assert fake.requests_to(PACKAGES, "POST") == []


def test_the_api_marks_shipped_and_names_bad_fields(store: Store, fake: TikTokFake, waits: list[float]) -> None:
    """POST /api/v1/tickets/{id}/shipments: the same service; 201 with where telling TikTok stands."""
    import json

    from django.test import Client

    from aftersales.catalog.models import Order
    from aftersales.testing.acceptance import store_admin
    from aftersales.testing.factories import TicketFactory

    ticket = TicketFactory(store=store, order=Order.objects.get(store=store, external_id=ORDER_ID))
    client = Client()
    client.force_login(store_admin(store))
    url = f"/api/v1/tickets/{ticket.pk}/shipments"

    def post(body: dict[str, Any]) -> Any:
        return client.post(url, data=json.dumps(body), content_type="application/json")

    for body, field in (
        ({"carrier": "USPS", "tracking_number": "94 00"}, "tracking_number"),
        ({"carrier": " ", "tracking_number": NUMBER}, "carrier"),
        ({"carrier": "USPS"}, "tracking_number"),
        ({"carrier": "USPS", "tracking_number": NUMBER, "label": "x"}, "label"),
    ):
        refused = post(body)
        assert refused.status_code == 422, refused.content
        assert field in str(refused.json()["error"]["field"]), refused.json()
    assert fake.requests_to(PACKAGES, "POST") == []

    with TestCase.captureOnCommitCallbacks(execute=True):
        created = post({"carrier": "USPS", "tracking_number": NUMBER})
    assert created.status_code == 201, created.content
    answer = created.json()
    assert (answer["carrier"], answer["tracking_number"], answer["marketplace"]) == ("USPS", NUMBER, None)
    assert len(fake.requests_to(PACKAGES, "POST")) == 1
    again = post({"carrier": "USPS", "tracking_number": NUMBER})
    assert again.status_code == 201 and again.json()["id"] == answer["id"]
    assert again.json()["marketplace"]["status"] == "succeeded"
    assert len(fake.requests_to(PACKAGES, "POST")) == 1
