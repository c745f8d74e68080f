"""Pure mapping of AliExpress payloads (fixtures in the shapes docs/connectors/aliexpress.md lists)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from aftersales.channels.base import MappingError, ReturnKind
from aftersales.channels.connectors.aliexpress import mapping

from .conftest import load


def test_order_with_lines_in_pacific_time() -> None:
    order = mapping.map_order(load("order.json"))
    assert order.external_id == "8190123456789012" and order.status == "unshipped"
    assert order.total == Decimal("38.70") and order.currency == "USD"
    assert order.placed_at == datetime(2026, 12, 1, 17, 15, 2, tzinfo=UTC)  # 09:15 PST = 17:15 UTC
    assert order.buyer is not None and order.buyer.external_id == "br1234567890abcd"
    assert [(line.external_line_id, line.sku, line.quantity, line.unit_price) for line in order.lines] == [
        ("8190123456789013", "CHG-65W-EU", 2, Decimal("14.90")),
        ("8190123456789014", "CBL-1M", 1, Decimal("8.90")),
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"order_status": "TELEPORTED"}, "order_status"),
        ({"gmt_create": "01/12/2026"}, "gmt_create"),
        ({"pay_amount": {"amount": "-3", "currency_code": "USD"}}, "pay_amount.amount"),
        ({"buyer_login_id": None}, "buyer_login_id"),
    ],
)
def test_malformed_orders_name_the_field(change: dict, field: str) -> None:
    data = {**load("order.json"), **change}
    with pytest.raises(MappingError) as caught:
        mapping.map_order(data)
    assert caught.value.field == field


def test_a_bad_line_names_its_position() -> None:
    data = load("order.json")
    data["product_list"]["order_product_dto"][1]["product_count"] = "two"
    with pytest.raises(MappingError) as caught:
        mapping.map_order(data)
    assert caught.value.field == "product_list[1].product_count"


def test_issue_is_a_refund_request_until_goods_go_back() -> None:
    issue = mapping.map_issue(load("issue.json"))
    assert issue.kind == ReturnKind.REFUND_REQUEST and issue.status == "WAIT_SELLER_CONFIRM_REFUND"
    assert issue.order_external_id == "8190123456789012" and issue.requested_amount == Decimal("14.90")
    assert issue.reason == "Item not as described"
    returning = mapping.map_issue({**load("issue.json"), "issue_status": "WAIT_BUYER_SEND_GOODS"})
    assert returning.kind == ReturnKind.RETURN
    with pytest.raises(MappingError) as caught:
        mapping.map_issue({**load("issue.json"), "issue_status": "ESCALATED_TO_MARS"})
    assert caught.value.field == "issue_status"


def test_messages_buyer_and_seller() -> None:
    chat = load("conversation.json")
    buyer, seller = (mapping.map_message(chat["relation"], m) for m in chat["messages"])
    assert buyer.external_id == "aliexpress:90011122233" and not buyer.from_seller
    assert buyer.buyer.external_id == "br1234567890abcd" and buyer.conversation_id == "7012345678"
    assert buyer.order_external_id == "8190123456789012"
    assert buyer.sent_at == datetime.fromtimestamp(1764900000, tz=UTC)
    assert seller.from_seller
    with pytest.raises(MappingError) as caught:
        mapping.map_message(chat["relation"], {**chat["messages"][0], "message_type": "hologram"})
    assert caught.value.field == "message_type"


def test_version_keys() -> None:
    assert mapping.version_key("order", load("order.json")) == "order:8190123456789012:2026-12-01 10:20:11"
    assert mapping.version_key("issue", load("issue.json")) == "issue:6012345678901:2026-12-03 08:05:00"
    assert mapping.version_key("message", {"id": "5"}) == "message:5"
    assert mapping.version_key("order", {}).startswith("order:no-id:")
