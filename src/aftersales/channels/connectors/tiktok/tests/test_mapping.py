"""TikTok Shop payloads -> records (pure): published shapes, and the malformed or unknown ones
raise MappingError naming TikTok's field."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from aftersales.catalog.models import OrderStatus
from aftersales.channels.base import IgnoredRecord, MappingError, MessageRecord, ReturnKind
from aftersales.channels.connectors.tiktok import mapping
from aftersales.channels.connectors.tiktok.regions import region_code

from .conftest import load


def test_order() -> None:
    order = mapping.map_order(load("order.json"))
    assert (order.external_id, order.status, order.total, order.currency) == (
        "576461413038785752",
        OrderStatus.UNSHIPPED,
        Decimal("59.86"),
        "USD",
    )
    assert [(li.external_line_id, li.sku, li.quantity, li.unit_price) for li in order.lines] == [
        ("577086512123755123", "USB-C-65W", 1, Decimal("29.99")),
        ("577086512123755124", "CABLE-2M", 1, Decimal("24.99")),
    ]
    assert order.buyer is not None and order.buyer.external_id == "7021436810468230477"
    assert (order.buyer.country, order.ship_country, order.placed_at) == (
        "US",
        "US",
        datetime.fromtimestamp(1764806400, tz=UTC),
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"status": "TELEPORTED"}, "status"),
        ({"line_items": []}, "line_items"),
        ({"payment": {"currency": "USD", "total_amount": "lots"}}, "payment.total_amount"),
        ({"create_time": "yesterday"}, "create_time"),
        ({"id": None}, "id"),
    ],
)
def test_malformed_orders_name_the_field(change: dict, field: str) -> None:
    data = {**load("order.json"), **change}
    with pytest.raises(MappingError) as caught:
        mapping.map_order(data)
    assert caught.value.field == field


def test_a_malformed_line_names_its_index() -> None:
    data = load("order.json")
    data["line_items"][1]["sale_price"] = {"amount": 1}
    with pytest.raises(MappingError) as caught:
        mapping.map_order(data)
    assert caught.value.field == "line_items[1].sale_price"


def test_return_keeps_tiktoks_deadline_as_respond_by() -> None:
    data = load("return.json")
    data["seller_next_action_response"].append({"action": "SELLER_RESPOND_RECEIVE_PACKAGE", "deadline": 1765200000})
    item = mapping.map_return(data)
    assert (item.kind, item.status, item.requested_amount, item.currency) == (
        ReturnKind.RETURN,
        "RETURN_OR_REFUND_REQUEST_PENDING",
        Decimal("29.99"),
        "USD",
    )
    assert item.respond_by == datetime.fromtimestamp(1765065600, tz=UTC)  # the earliest deadline
    assert [(li.sku, li.external_line_id) for li in item.lines] == [("USB-C-65W", "577086512123755123")]
    assert mapping.map_return({**data, "return_type": "REFUND"}).kind == ReturnKind.REFUND_REQUEST
    assert mapping.map_return({**data, "seller_next_action_response": []}).respond_by is None
    with pytest.raises(MappingError) as caught:
        mapping.map_return({**data, "return_status": "LOST_IN_SPACE"})
    assert caught.value.field == "return_status"


def test_cancellation() -> None:
    item = mapping.map_cancellation(load("cancellation.json"))
    assert (item.kind, item.status, item.order_external_id) == (
        ReturnKind.CANCELLATION,
        "CANCELLATION_REQUEST_PENDING",
        "576461413038785799",
    )
    assert item.respond_by == datetime.fromtimestamp(1764982800, tz=UTC)


def test_messages() -> None:
    chat = load("conversation.json")
    conversation, (text, card, answer) = chat["conversation"], chat["messages"]
    first = mapping.map_message(conversation, text, region="US")
    assert isinstance(first, MessageRecord)
    assert (first.external_id, first.body, first.from_seller, first.conversation_id) == (
        "tiktok:7282834513211418901",
        "Hello, when will my charger ship?",
        False,
        "tiktok:7282834513211418882",
    )
    assert first.buyer.external_id == "7021436810468230477"  # the order's user_id: one customer
    order_card = mapping.map_message(conversation, card)
    assert isinstance(order_card, MessageRecord) and order_card.order_external_id == "576461413038785752"
    seller = mapping.map_message(conversation, answer)
    assert isinstance(seller, MessageRecord) and seller.from_seller
    notice = {**text, "type": "NOTIFICATION", "sender": {"role": "SYSTEM"}}
    assert isinstance(mapping.map_message(conversation, notice), IgnoredRecord)
    for bad, field in (
        ({**text, "type": "HOLOGRAM"}, "type"),
        ({**text, "content": "{not json"}, "content"),
        ({**text, "sender": {"role": "ALIEN"}}, "sender.role"),
    ):
        with pytest.raises(MappingError) as caught:
            mapping.map_message(conversation, bad)
        assert caught.value.field == field
    with pytest.raises(MappingError) as caught:
        mapping.map_message({**conversation, "participants": []}, text)
    assert caught.value.field == "participants"


def test_regions() -> None:
    assert [region_code(s) for s in ("shop.tiktok.com/us", "tiktok.gb", "UK", "id", "shop.tiktok.com/zz")] == [
        "US",
        "GB",
        "GB",
        "ID",
        "",
    ]


def test_the_delivery_address_unless_tiktok_masks_it() -> None:
    from aftersales.channels.base import ShipAddress

    order = load("order.json")
    address = ShipAddress("US", "10001", ("350 Fifth Avenue, New York, NY 10001",))
    assert mapping.map_order(order, currency="USD").ship_address == address
    order["recipient_address"].update(address_line1="350 Fifth Avenue", address_line2="Floor 20")
    assert mapping.map_order(order, currency="USD").ship_address == ShipAddress(
        "US", "10001", ("350 Fifth Avenue", "Floor 20")
    )
    order["recipient_address"].update(address_line1="3** F*** Avenue", postal_code="1****")
    assert mapping.map_order(order, currency="USD").ship_address is None
