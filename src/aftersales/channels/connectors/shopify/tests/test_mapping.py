"""Pure mapping from recorded payloads: GraphQL nodes (checked field by field against the published
Admin schema), webhook bodies and the REST refund of Shopify's own test fixtures; malformed,
partial and unknown values give a MappingError naming the field."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLInterfaceType, GraphQLObjectType, get_named_type

from aftersales.channels.base import IgnoredRecord, MappingError, RefundState, ReturnKind, ShipAddress
from aftersales.channels.connectors.shopify import mapping
from aftersales.channels.connectors.shopify.schema import admin_schema

FIXTURES = Path(__file__).with_name("fixtures")


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def assert_shaped_like(value: Any, type_name: str, path: str = "") -> None:
    """Every key of `value` is a field of the schema type (recursively): the fixture is what the
    Admin API can answer, not something invented."""
    schema_type = admin_schema().get_type(type_name)
    assert isinstance(schema_type, GraphQLObjectType | GraphQLInterfaceType), type_name
    for key, child in value.items():
        if key == "__typename":
            continue
        assert key in schema_type.fields, f"{path or type_name}.{key} is not a field of {type_name}"
        named = get_named_type(schema_type.fields[key].type)
        items = child if isinstance(child, list) else [child]
        for item in items:
            if isinstance(item, dict) and isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
                target = item.get("__typename", named.name) if isinstance(named, GraphQLInterfaceType) else named.name
                if isinstance(named, GraphQLInterfaceType) and "fulfillmentLineItem" in item:
                    target = "ReturnLineItem"
                assert_shaped_like(item, target, f"{path or type_name}.{key}")


def test_fixtures_are_shaped_like_the_admin_schema():
    assert_shaped_like(load("graphql_order.json"), "Order")
    ret = load("graphql_return.json")
    assert_shaped_like(ret["return"], "Return")
    assert_shaped_like(ret["order"], "Order")


def test_graphql_order():
    record = mapping.map_graphql_order(load("graphql_order.json"))
    assert record.external_id == "1001"
    assert record.status == "shipped"
    assert record.total == Decimal("33.90")
    assert record.currency == "EUR"
    assert record.placed_at == datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    assert record.buyer is not None
    assert record.buyer.external_id == "1002"
    assert (record.buyer.name, record.buyer.email, record.buyer.country, record.buyer.language) == (
        "Lena Fischer",
        "lena.fischer@example.de",
        "DE",
        "de",
    )
    assert [(line.external_line_id, line.sku, line.quantity, line.unit_price) for line in record.lines] == [
        ("1003", "MUG-BLUE", 2, Decimal("12.50")),
        ("1004", "TEA-500G", 1, Decimal("8.90")),
    ]
    assert [(s.carrier, s.tracking_number, s.status) for s in record.shipments] == [
        ("DHL", "00340434161234567890", "info_received")
    ]


def test_graphql_return():
    record = mapping.map_graphql_return(load("graphql_return.json"))
    assert record.external_id == "1010"
    assert record.kind == ReturnKind.RETURN
    assert record.status == "REQUESTED"
    assert record.order_external_id == "1001"
    assert record.reason == "DEFECTIVE"
    assert record.buyer_comment == "The handle came off"
    assert record.currency == "EUR"
    assert record.buyer is not None and record.buyer.email == "lena.fischer@example.de"
    assert [(line.sku, line.quantity, line.external_line_id, line.reason) for line in record.lines] == [
        ("MUG-BLUE", 1, "1003", "DEFECTIVE")
    ]


def test_webhook_order_maps_like_the_polled_order():
    polled = mapping.map_graphql_order(load("graphql_order.json"))
    (pushed,) = mapping.map_webhook({"topic": "orders/updated", "body": load("webhook_orders_updated.json")})
    assert pushed == polled
    assert polled.ship_address == ShipAddress(
        country="DE", postal_code="10119", lines=("Torstraße 25", "Hinterhaus"), city="Berlin"
    )


def test_an_address_without_street_lines_is_no_ship_address():
    """Without the protected-customer-data scopes address1/address2 come back null."""
    order = _break(
        _break(load("graphql_order.json"), "shippingAddress.address1", None), "shippingAddress.address2", None
    )
    record = mapping.map_graphql_order(order)
    assert record.ship_address is None and record.ship_address_key is None and record.ship_country == "DE"
    with pytest.raises(MappingError) as caught:
        mapping.map_graphql_order(_break(load("graphql_order.json"), "shippingAddress.zip", 10119))
    assert caught.value.field == "shippingAddress.zip"


def test_webhook_return():
    at = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
    (record,) = mapping.map_webhook(
        {
            "topic": "returns/request",
            "triggered_at": "2026-11-21T09:30:00Z",
            "body": load("webhook_returns_request.json"),
        }
    )
    assert record.external_id == "1010"
    assert record.status == "REQUESTED"
    assert record.order_external_id == "1001"
    assert record.created_at == at
    assert [(line.sku, line.external_line_id, line.reason) for line in record.lines] == [
        ("MUG-BLUE", "1003", "DEFECTIVE")
    ]


def test_rest_refund_fixture_from_shopify():
    """tests/fixtures/rest_refund.json is Shopify's own REST refund (shopify_api test fixture)."""
    body = load("rest_refund.json")["refund"]
    receipt = mapping.map_rest_refund(body)
    assert receipt.external_id == "509562969"
    assert receipt.state == RefundState.SUCCEEDED
    (notice,) = mapping.map_webhook({"topic": "refunds/create", "body": body})
    assert isinstance(notice, IgnoredRecord)
    assert notice.detail == "refund 509562969 of order 450789469"


def test_unknown_topic_is_ignored_not_an_error():
    (record,) = mapping.map_webhook({"topic": "products/update", "body": {"id": 1}})
    assert isinstance(record, IgnoredRecord) and record.reason == "unsubscribed_topic"


def _break(data: dict, path: str, value: Any) -> dict:
    data = copy.deepcopy(data)
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value
    return data


ORDER_CASES = [
    ("id", KeyError, "id"),
    ("id", "gid://shopify/Order/abc", "id"),
    ("createdAt", "yesterday", "createdAt"),
    ("createdAt", "2026-11-20T08:00:00", "createdAt"),  # no time zone
    ("updatedAt", KeyError, "updatedAt"),
    ("displayFinancialStatus", "SPLIT_PAID", "displayFinancialStatus"),  # a newer API's value
    ("displayFulfillmentStatus", "TELEPORTED", "displayFulfillmentStatus"),
    ("totalPriceSet.shopMoney.amount", "12,50", "totalPriceSet.shopMoney.amount"),
    ("totalPriceSet.shopMoney.amount", "NaN", "totalPriceSet.shopMoney.amount"),
    ("totalPriceSet.shopMoney.currencyCode", "euro", "totalPriceSet.shopMoney.currencyCode"),
    ("totalPriceSet", KeyError, "totalPriceSet"),
    ("lineItems.nodes", "not a list", "lineItems.nodes"),
    ("lineItems.nodes.0.quantity", -1, "lineItems.nodes[0].quantity"),
    ("lineItems.nodes.0.quantity", "2", "lineItems.nodes[0].quantity"),
    ("lineItems.nodes.1.id", None, "lineItems.nodes[1].id"),
    (
        "lineItems.nodes.0.originalUnitPriceSet.shopMoney.amount",
        None,
        "lineItems.nodes[0].originalUnitPriceSet.shopMoney.amount",
    ),
    ("fulfillments.0.status", "LOST", "fulfillments[0].status"),
    ("fulfillments.0.displayStatus", "BEAMED", "fulfillments[0].displayStatus"),
    ("customer.id", 12.5, "order.customer.id"),
]


@pytest.mark.parametrize(("path", "value", "field"), ORDER_CASES)
def test_malformed_order_names_the_field(path, value, field):
    with pytest.raises(MappingError) as caught:
        mapping.map_graphql_order(_break(load("graphql_order.json"), path, value))
    assert caught.value.field == field


RETURN_CASES = [
    ("return.status", "PENDING_REVIEW", "return.status"),
    ("return.id", KeyError, "return.id"),
    ("return.returnLineItems.nodes.0.returnReason", "CHANGED_MIND", "return.returnLineItems.nodes[0].returnReason"),
    ("return.returnLineItems.nodes.0.quantity", None, "return.returnLineItems.nodes[0].quantity"),
    ("order.updatedAt", KeyError, "order.updatedAt"),
    ("order.id", KeyError, "order.id"),
    ("order.currencyCode", "€", "order.currencyCode"),
]


@pytest.mark.parametrize(("path", "value", "field"), RETURN_CASES)
def test_malformed_return_names_the_field(path, value, field):
    with pytest.raises(MappingError) as caught:
        mapping.map_graphql_return(_break(load("graphql_return.json"), path, value))
    assert caught.value.field == field


WEBHOOK_ORDER_CASES = [
    ("financial_status", "split", "financial_status"),
    ("fulfillment_status", "beamed", "fulfillment_status"),
    ("total_price", "free", "total_price"),
    ("line_items.0.price", None, "line_items[0].price"),
    ("line_items.0.id", True, "line_items[0].id"),
    ("currency", None, "currency"),
]


@pytest.mark.parametrize(("path", "value", "field"), WEBHOOK_ORDER_CASES)
def test_malformed_order_webhook_names_the_field(path, value, field):
    body = _break(load("webhook_orders_updated.json"), path, value)
    with pytest.raises(MappingError) as caught:
        mapping.map_webhook({"topic": "orders/updated", "body": body})
    assert caught.value.field == field


def test_webhook_without_json_body_or_trigger_time():
    with pytest.raises(MappingError) as caught:
        mapping.map_webhook({"topic": "orders/updated", "body": None, "body_text": "<html>"})
    assert caught.value.field == "body"
    with pytest.raises(MappingError) as caught:
        mapping.map_webhook(
            {"topic": "returns/request", "triggered_at": "", "body": load("webhook_returns_request.json")}
        )
    assert caught.value.field == "X-Shopify-Triggered-At"
    body = _break(load("webhook_returns_request.json"), "return_line_items.0.return_reason", "changed_mind")
    with pytest.raises(MappingError) as caught:
        mapping.map_webhook({"topic": "returns/request", "triggered_at": "2026-11-21T09:30:00Z", "body": body})
    assert caught.value.field == "return_line_items[0].return_reason"


def test_partial_order_without_customer_or_address_keys_the_buyer_by_email():
    order = _break(_break(load("graphql_order.json"), "customer", None), "shippingAddress", None)
    record = mapping.map_graphql_order(order)
    assert record.buyer is not None and record.buyer.external_id == "lena.fischer@example.de"
    assert record.ship_country == "" and record.ship_address is None
    no_email = _break(order, "email", None)
    assert mapping.map_graphql_order(no_email).buyer is None


@pytest.mark.parametrize(
    ("financial", "fulfillment", "cancelled", "expected"),
    [
        ("PAID", "UNFULFILLED", False, "unshipped"),
        ("PENDING", "UNFULFILLED", False, "pending"),
        ("AUTHORIZED", "UNFULFILLED", False, "pending"),
        ("PAID", "FULFILLED", False, "shipped"),
        ("PAID", "PARTIALLY_FULFILLED", False, "partially_shipped"),
        ("PAID", "IN_PROGRESS", False, "processing"),
        ("REFUNDED", "FULFILLED", False, "refunded"),
        ("PARTIALLY_REFUNDED", "FULFILLED", False, "partially_refunded"),
        ("VOIDED", "UNFULFILLED", False, "cancelled"),
        ("PAID", "UNFULFILLED", True, "cancelled"),
    ],
)
def test_order_status(financial, fulfillment, cancelled, expected):
    assert mapping.order_status(financial, fulfillment, cancelled=cancelled) == expected


def test_refund_receipt_states():
    def node(*states: str) -> dict:
        return {"id": "gid://shopify/Refund/7", "transactions": {"nodes": [{"status": s} for s in states]}}

    assert mapping.refund_receipt(node("SUCCESS")).state == RefundState.SUCCEEDED
    assert mapping.refund_receipt(node("SUCCESS", "PENDING")).state == RefundState.PENDING
    assert mapping.refund_receipt(node("FAILURE")).state == RefundState.FAILED
    assert mapping.refund_receipt(node()).state == RefundState.PENDING
    with pytest.raises(MappingError) as caught:
        mapping.refund_receipt(node("REVERSED"))
    assert caught.value.field == "refund.transactions.nodes[0].status"


def test_ids():
    assert mapping.gid("Order", "12") == "gid://shopify/Order/12"
    assert mapping.legacy_id("gid://shopify/Order/12", "id") == "12"
    assert mapping.legacy_id(12, "id") == "12"
    for bad in (None, 0, -3, "gid://shopify/Order/", "12a", True):
        with pytest.raises(MappingError):
            mapping.legacy_id(bad, "id")
