"""Shopee payloads (fixtures in the documented shapes) -> records; bad ones raise MappingError
naming Shopee's field."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from aftersales.channels.base import IgnoredRecord, MappingError, MessageRecord, OrderRecord, ReturnKind, ReturnRecord
from aftersales.channels.connectors.shopee import mapping
from aftersales.channels.connectors.shopee.sites import SITES, site_code

from .conftest import load

SHOP = "880001"


def refused_field(payload: dict) -> str:
    """The field a MappingError names for this payload."""
    with pytest.raises(MappingError) as caught:
        mapping.map_payload(payload, shop_id=SHOP)
    return caught.value.field


def test_order_with_lines_unit_prices_and_buyer() -> None:
    [order] = mapping.map_payload({"kind": "order", "data": load("order.json")}, shop_id=SHOP)
    assert isinstance(order, OrderRecord)
    assert (order.external_id, order.status, order.total, order.currency) == (
        "2612015QK8S7BX",
        "completed",
        Decimal("63.8"),
        "SGD",
    )
    assert order.placed_at == datetime(2025, 12, 1, tzinfo=UTC)
    assert order.updated_at == datetime(2025, 12, 2, tzinfo=UTC)
    assert order.buyer is not None and (order.buyer.external_id, order.buyer.name, order.buyer.country) == (
        "310045678",
        "tan.weiming",
        "SG",
    )
    # Shopee's prices are line subtotals: 2 chargers for 49.80 are 24.90 each.
    assert [(line.external_line_id, line.sku, line.quantity, line.unit_price) for line in order.lines] == [
        ("2300451122:0", "CHG-65", 2, Decimal("24.90")),
        ("2300457788:9900123", "CBL-2M-BLK", 1, Decimal("14.00")),
    ]
    assert order.lines[1].title == "Braided cable - 2 m, black"


def test_bundle_item_without_discounted_price_uses_the_original_price() -> None:
    data = load("order.json")
    data["item_list"][0]["model_discounted_price"] = 0
    [order] = mapping.map_payload({"kind": "order", "data": data}, shop_id=SHOP)
    assert isinstance(order, OrderRecord) and order.lines[0].unit_price == Decimal("29.90")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.update(order_status="ON_THE_MOON"), "order_status"),
        (lambda d: d.pop("order_sn"), "order_sn"),
        (lambda d: d.update(total_amount="lots"), "total_amount"),
        (lambda d: d["item_list"][1].update(model_quantity_purchased="two"), "item_list[1].model_quantity_purchased"),
        (lambda d: d.pop("item_list"), "item_list"),
        (lambda d: d.update(create_time="yesterday"), "create_time"),
        (lambda d: d.update(currency="dollars"), "currency"),
    ],
)
def test_a_malformed_order_names_the_field(change, field) -> None:
    data = load("order.json")
    change(data)
    assert refused_field({"kind": "order", "data": data}) == field


def test_return_keeps_the_sellers_due_date_as_respond_by() -> None:
    [ret] = mapping.map_payload({"kind": "return", "data": load("return.json")}, shop_id=SHOP)
    assert isinstance(ret, ReturnRecord)
    assert (ret.external_id, ret.kind, ret.status, ret.order_external_id) == (
        "2612030EDT4JRV5",
        ReturnKind.RETURN,
        "REQUESTED",
        "2612015QK8S7BX",
    )
    assert ret.respond_by == datetime.fromtimestamp(1764892800, tz=UTC)  # return_seller_due_date
    assert (ret.requested_amount, ret.currency, ret.reason) == (Decimal("24.9"), "SGD", "ITEM_DAMAGED")
    assert ret.buyer_comment == "The charger arrived with a cracked plug."
    assert [(line.sku, line.quantity, line.external_line_id) for line in ret.lines] == [("CHG-65", 1, "2300451122:0")]


def test_refund_only_request_and_due_date_fallback() -> None:
    data = load("return.json")
    data["needs_logistics"] = False
    data["return_seller_due_date"] = 0
    [ret] = mapping.map_payload({"kind": "return", "data": data}, shop_id=SHOP)
    assert isinstance(ret, ReturnRecord)
    assert ret.kind == ReturnKind.REFUND_REQUEST and ret.respond_by == datetime.fromtimestamp(1764979200, tz=UTC)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.update(status="MAYBE"), "status"),
        (lambda d: d.update(needs_logistics="yes"), "needs_logistics"),
        (lambda d: d["item"][0].update(amount=-1), "item[0].amount"),
        (lambda d: d.pop("create_time"), "create_time"),
    ],
)
def test_a_malformed_return_names_the_field(change, field) -> None:
    data = load("return.json")
    change(data)
    assert refused_field({"kind": "return", "data": data}) == field


def test_chat_messages_buyer_and_seller() -> None:
    fixture = load("conversation.json")
    buyer_says, seller_says = fixture["messages"]
    [first] = mapping.map_payload(
        {"kind": "message", "conversation": fixture["conversation"], "data": buyer_says}, shop_id=SHOP
    )
    [second] = mapping.map_payload(
        {"kind": "message", "conversation": fixture["conversation"], "data": seller_says}, shop_id=SHOP
    )
    assert isinstance(first, MessageRecord) and isinstance(second, MessageRecord)
    assert (first.external_id, first.from_seller, first.conversation_id, first.order_external_id) == (
        "shopee:2097834567812345678",
        False,
        "shopee:118822334455667788",
        "2612015QK8S7BX",
    )
    assert (first.buyer.external_id, first.buyer.name, first.buyer.language) == ("310045678", "tan.weiming", "en")
    assert first.sent_at == datetime.fromtimestamp(1764720600, tz=UTC)
    assert second.from_seller and second.buyer.external_id == "310045678"


def test_non_text_messages_and_nanosecond_timestamps() -> None:
    fixture = load("conversation.json")
    message = fixture["messages"][0]
    message.update(message_type="image", content={"url": "https://cf.shopee.sg/file/abc"})
    message["created_timestamp"] = 1764720600 * 10**9
    [record] = mapping.map_payload({"kind": "message", "conversation": {}, "data": message}, shop_id=SHOP)
    assert isinstance(record, MessageRecord)
    assert record.body == "[image] https://cf.shopee.sg/file/abc"
    assert record.sent_at == datetime.fromtimestamp(1764720600, tz=UTC)
    assert record.buyer.external_id == "310045678"  # the sender, when the conversation is not known


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda m: m.update(message_type="hologram"), "message_type"),
        (lambda m: m.update(content={"text": "  "}), "content.text"),
        (lambda m: m.pop("message_id"), "message_id"),
        (lambda m: m.update(created_timestamp=-5), "created_timestamp"),
    ],
)
def test_a_malformed_message_names_the_field(change, field) -> None:
    fixture = load("conversation.json")
    message = fixture["messages"][0]
    change(message)
    assert refused_field({"kind": "message", "conversation": fixture["conversation"], "data": message}) == field


def test_pushes_without_a_record_are_ignored_and_unknown_kinds_refused() -> None:
    assert mapping.map_payload({"kind": "push", "code": 5}, shop_id=SHOP) == [IgnoredRecord("push", "code 5")]
    assert refused_field({"kind": "parcel", "data": {}}) == "kind"


def test_version_keys_change_with_update_time_and_malformed_ones_are_stable() -> None:
    order = load("order.json")
    first = mapping.version_key("order", order)
    order["update_time"] += 1
    assert mapping.version_key("order", order) != first
    assert mapping.version_key("order", {"x": 1}) == mapping.version_key("order", {"x": 1})
    assert mapping.version_key("message", {"message_id": "9"}) == "message:9"


def test_every_site_has_currency_language_and_country() -> None:
    assert set(SITES) == {"sg", "my", "th", "ph", "vn", "id", "tw", "br", "mx"}
    assert {code: (s.currency, s.country) for code, s in SITES.items()} == {
        "sg": ("SGD", "SG"),
        "my": ("MYR", "MY"),
        "th": ("THB", "TH"),
        "ph": ("PHP", "PH"),
        "vn": ("VND", "VN"),
        "id": ("IDR", "ID"),
        "tw": ("TWD", "TW"),
        "br": ("BRL", "BR"),
        "mx": ("MXN", "MX"),
    }
    assert all(s.language for s in SITES.values())
    assert [site_code(s) for s in ("shopee.sg", "shopee.com.br", "SG", "shopee.co.th", "amazon.de")] == [
        "sg",
        "br",
        "sg",
        "th",
        "",
    ]


def test_the_delivery_address_unless_shopee_masks_it() -> None:
    from aftersales.channels.base import ShipAddress

    order = load("order.json")
    assert mapping.map_order(order, currency="SGD").ship_address is None  # "B******": masked, no fingerprint
    order["recipient_address"].update(full_address="10 Bayfront Avenue, #05-01", zipcode="018956", city="Singapore")
    record = mapping.map_order(order, currency="SGD")
    assert record.ship_address == ShipAddress("SG", "018956", ("10 Bayfront Avenue, #05-01",), "Singapore")
    assert record.ship_address_key is not None
