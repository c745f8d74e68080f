"""Pure mapping of Wish v3 payloads (fixtures in the shapes docs/connectors/wish.md lists)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from aftersales.channels.base import MappingError, MessageRecord, ReturnKind, ReturnRecord
from aftersales.channels.connectors.wish import mapping

from .conftest import load


def test_order() -> None:
    order = mapping.map_order(load("order.json"))
    assert (order.external_id, order.status, order.total, order.currency) == (
        "6401a2b3c4d5e6f708192a3b",
        "unshipped",
        Decimal("23.5"),
        "USD",
    )
    assert order.placed_at == datetime(2026, 12, 1, 9, 15, 2, tzinfo=UTC)
    [line] = order.lines
    assert (line.external_line_id, line.sku, line.quantity) == ("5f1e2d3c4b5a69788796a5c0", "CHG-65W-US", 1)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"state": "TELEPORTED"}, "state"),
        ({"released_at": "yesterday"}, "released_at"),
        (
            {
                "order_payment": {
                    "general_payment_details": {
                        "payment_total": {"amount": 1, "currency_code": "USD"},
                        "product_price": {"amount": 1, "currency_code": "USD"},
                        "product_quantity": "one",
                    }
                }
            },
            "order_payment.general_payment_details.product_quantity",
        ),
        ({"product_information": {"sku": "X", "name": "n"}}, "product_information.variation_id"),
    ],
)
def test_malformed_orders_name_the_field(change: dict, field: str) -> None:
    with pytest.raises(MappingError) as caught:
        mapping.map_order({**load("order.json"), **change})
    assert caught.value.field == field


def test_ticket_replies_and_escalation() -> None:
    ticket = load("ticket.json")
    ticket["replies"].append(
        {"sender": "MERCHANT", "message": "Sorry, checking.", "replied_at": "2026-12-03T09:00:00Z"}
    )
    [first, second] = mapping.map_ticket(ticket)
    assert (
        isinstance(first, MessageRecord)
        and not first.from_seller
        and first.conversation_id == "wish:6402aa11bb22cc33dd44ee55"
    )
    assert first.buyer.language == "en" and first.order_external_id == "6401a2b3c4d5e6f708192a3b"
    assert isinstance(second, MessageRecord) and second.from_seller
    escalated = mapping.map_ticket({**load("ticket.json"), "state": "AWAITING_WISH"})
    case = escalated[-1]
    assert isinstance(case, ReturnRecord) and case.kind == ReturnKind.CASE and case.status == "AWAITING_WISH"
    with pytest.raises(MappingError) as caught:
        mapping.map_ticket(
            {
                **load("ticket.json"),
                "replies": [{"sender": "ROBOT", "message": "x", "replied_at": "2026-12-03T08:00:00Z"}],
            }
        )
    assert caught.value.field == "replies[0].sender"


def test_the_delivery_address() -> None:
    from aftersales.channels.base import ShipAddress

    order = load("order.json")
    assert mapping.map_order(order).ship_address is None  # a country alone is no address
    order["full_address"]["shipping_detail"].update(
        street_address1="1 Main St", street_address2="", zipcode="94105", city="SF", state="CA"
    )
    assert mapping.map_order(order).ship_address == ShipAddress("US", "94105", ("1 Main St",), "SF")
