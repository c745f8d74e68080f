"""Mark shipped with the seller's tracking number on Shopee (issue 12): the agent's action on the
order's ticket records the shipment and, after the commit, asks Shopee which details its logistics
channel needs (get_shipping_parameter) and ships the order (ship_order) with exactly that; a second
click is answered by the ledger; an order Shopee already shows shipped with the number is
reconciled; another number, or a channel for which Shopee issues the number, is refused with
Shopee's facts. Over real HTTP against the fake, SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aftersales.catalog.models import Store
from aftersales.channels.base import ShipmentConfirmation, Stream
from aftersales.channels.connectors.shopee.fake import ShopeeFake
from aftersales.channels.context import store_context
from aftersales.channels.models import WriteBack, WriteBackStatus
from aftersales.channels.registry import get_connector
from aftersales.channels.sync import sync_stream
from aftersales.core.errors import ValidationFailed
from aftersales.testing.acceptance import fake_store, mark_shipped_from_ticket, store_admin
from aftersales.testing.factories import StoreFactory, TicketFactory

from .conftest import load

ORDER_SN = "2612015QK8S7SH"
NUMBER = "SPXSG0123456789"


def ago(minutes: int) -> int:
    return int((datetime.now(UTC) - timedelta(minutes=minutes)).timestamp())


@pytest.fixture
def store(db: Any, fake: ShopeeFake) -> Store:
    order = load("order.json")
    order.update(order_sn=ORDER_SN, order_status="READY_TO_SHIP", update_time=ago(30))
    fake.add_order(order)
    shop = fake_store(
        fake,
        platform="shopee",
        external_id=str(fake.shop_id),
        credentials=fake.credentials(),
        site="shopee.sg",
        currency="SGD",
    )
    assert sync_stream(store_id=shop.pk, stream=Stream.ORDERS).created == 1
    return shop


def _signed(fake: ShopeeFake, request: Any, path: str) -> None:
    token, stamp = request.arg("access_token"), request.arg("timestamp")
    base = f"{fake.partner_id}{path}{stamp}{token}{fake.shop_id}"
    assert request.arg("sign") == hmac.new(fake.partner_key.encode(), base.encode(), hashlib.sha256).hexdigest()
    assert request.arg("shop_id") == str(fake.shop_id)


def test_mark_shipped_sends_the_exact_requests_once(store: Store, fake: ShopeeFake, waits: list[float]) -> None:
    shipment, sync = mark_shipped_from_ticket(store, ORDER_SN, carrier=" Ninja Van ", tracking_number=NUMBER)
    assert (shipment.carrier, shipment.tracking_number, shipment.status) == ("Ninja Van", NUMBER, "info_received")
    assert sync is not None and sync.status == WriteBackStatus.SUCCEEDED, sync
    [parameter] = fake.requests_to("/api/v2/logistics/get_shipping_parameter", "GET")
    _signed(fake, parameter, "/api/v2/logistics/get_shipping_parameter")
    assert parameter.arg("order_sn") == ORDER_SN
    [ship] = fake.requests_to("/api/v2/logistics/ship_order", "POST")
    _signed(fake, ship, "/api/v2/logistics/ship_order")
    assert ship.headers["content-type"] == "application/json"
    assert ship.json() == {"order_sn": ORDER_SN, "non_integrated": {"tracking_number": NUMBER}}
    assert fake.orders[ORDER_SN]["order_status"] == "PROCESSED" and fake.tracking_numbers[ORDER_SN] == NUMBER

    # The same click again: the same shipment, the ledger answers, Shopee hears nothing more.
    again, _sync = mark_shipped_from_ticket(store, ORDER_SN, carrier="Ninja Van", tracking_number=NUMBER)
    assert again.pk == shipment.pk and WriteBack.objects.filter(store=store, kind="mark_shipped").count() == 1
    assert len(fake.requests_to("/api/v2/logistics/ship_order", "POST")) == 1

    # A resend after a lost answer finds the order shipped with the number: reconciled, not shipped.
    connector: Any = get_connector("shopee")
    confirmation = ShipmentConfirmation(ORDER_SN, "Ninja Van", NUMBER, datetime.now(UTC))
    receipt = connector.mark_shipped(store_context(store, connector=connector), confirmation)
    assert receipt.detail == f"reconciled: shipped with {NUMBER}"
    [known] = fake.requests_to("/api/v2/logistics/get_tracking_number", "GET")
    assert known.arg("order_sn") == ORDER_SN
    assert len(fake.requests_to("/api/v2/logistics/ship_order", "POST")) == 1

    # Another number for the shipped order is refused with Shopee's number.
    _other, refused = mark_shipped_from_ticket(store, ORDER_SN, carrier="Ninja Van", tracking_number="SPXSG999")
    assert refused is not None and refused.status == WriteBackStatus.FAILED
    assert "is PROCESSED, not READY_TO_SHIP" in refused.detail and NUMBER in refused.detail


def test_a_channel_where_shopee_issues_the_number_is_refused(
    store: Store, fake: ShopeeFake, waits: list[float]
) -> None:
    fake.info_needed_by_order[ORDER_SN] = {"pickup": ["address_id", "pickup_time_id"]}
    _shipment, sync = mark_shipped_from_ticket(store, ORDER_SN, carrier="SPX", tracking_number=NUMBER)
    assert sync is not None and sync.status == WriteBackStatus.FAILED
    assert "arrange the shipment in Seller Centre" in sync.detail and "pickup" in sync.detail
    assert fake.requests_to("/api/v2/logistics/ship_order", "POST") == []
    # A drop-off channel that asks for the seller's number takes it under `dropoff`.
    fake.info_needed_by_order[ORDER_SN] = {"dropoff": ["tracking_number"]}
    _shipment, sync = mark_shipped_from_ticket(store, ORDER_SN, carrier="SPX", tracking_number="SPXSG02")
    assert sync is not None and sync.status == WriteBackStatus.SUCCEEDED, sync
    [ship] = fake.requests_to("/api/v2/logistics/ship_order", "POST")
    assert ship.json() == {"order_sn": ORDER_SN, "dropoff": {"tracking_number": "SPXSG02"}}


@pytest.mark.parametrize(
    ("carrier", "number", "field"),
    [
        ("", NUMBER, "carrier"),
        ("x" * 81, NUMBER, "carrier"),
        ("SPX", "", "tracking_number"),
        ("SPX", "SPX 1", "tracking_number"),
    ],
)
def test_bad_input_names_the_field(store: Store, fake: ShopeeFake, carrier: str, number: str, field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        mark_shipped_from_ticket(store, ORDER_SN, carrier=carrier, tracking_number=number)
    assert caught.value.field == field
    assert fake.requests_to("/api/v2/logistics/") == []


def test_a_store_whose_connector_cannot_mark_shipped_is_refused(db: Any) -> None:
    from aftersales.channels.shipping import check_order_mark_shipped
    from aftersales.testing.factories import OrderFactory

    # Every marketplace marks shipped now (AliExpress and Wish since ca56d3e); a mailbox cannot.
    mailbox = StoreFactory(platform="email", site="")
    ticket = TicketFactory(store=mailbox, order=OrderFactory(store=mailbox))
    with pytest.raises(ValidationFailed) as caught:
        check_order_mark_shipped(user=store_admin(mailbox), ticket_id=ticket.pk, carrier="USPS", tracking_number="9400")
    assert caught.value.field == "order"
