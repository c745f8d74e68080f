"""mapping.py: eBay payloads (shaped like the published schemas) -> records; malformed, partial
and unknown-enum payloads -> MappingError naming the field."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from aftersales.channels.base import AccountDeletionRecord, MappingError, ReturnKind, ShipAddress
from aftersales.channels.connectors.ebay import mapping

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def asyncapi_payload_schema() -> dict[str, Any]:
    spec = yaml.safe_load((FIXTURES / "spec" / "asyncapi.yaml").read_text())
    schema = copy.deepcopy(spec["components"]["messages"]["message"]["payload"])
    schema["components"] = spec["components"]  # the $refs are '#/components/schemas/...'
    # The spec writes `default: 'false'` (a string) for a boolean; defaults are not validated.
    return schema


def test_order_maps_with_line_ids_buyer_and_status() -> None:
    record = mapping.map_order(load("order.json"))
    assert record.external_id == "12-01234-56789"
    assert record.status == "shipped"
    assert record.total == Decimal("64.88") and record.currency == "EUR"
    assert record.placed_at == datetime(2026, 11, 20, 9, 15, 2, tzinfo=UTC)
    assert record.buyer is not None
    assert (record.buyer.external_id, record.buyer.name, record.buyer.country) == ("buyer_anna", "Anna Schmidt", "DE")
    assert record.ship_country == "DE"
    [line] = record.lines
    assert line.external_line_id == "10012345678901"
    assert (line.sku, line.quantity, line.unit_price) == ("CASE-BLK-12", 2, Decimal("29.99"))
    assert record.ship_address == ShipAddress(
        country="DE", postal_code="10115", lines=("Invalidenstr. 1",), city="Berlin"
    )


def test_global_shipping_program_orders_take_the_final_destination_not_the_hub() -> None:
    """shipTo of an eBay-supported (GSP / eIS) fulfillment is the partner's hub, shared by all such buyers."""
    order = load("order.json")
    instruction = order["fulfillmentStartInstructions"][0]
    instruction["ebaySupportedFulfillment"] = True
    assert mapping.map_order(order).ship_address is None  # no final destination given: no address
    instruction["finalDestinationAddress"] = {
        "addressLine1": "12 Rue de Rivoli",
        "addressLine2": "Bât. B",
        "city": "Paris",
        "postalCode": "75001",
        "countryCode": "FR",
    }
    assert mapping.map_order(order).ship_address == ShipAddress(
        country="FR", postal_code="75001", lines=("12 Rue de Rivoli", "Bât. B"), city="Paris"
    )


def test_an_address_without_street_lines_is_no_ship_address() -> None:
    order = load("order.json")
    order["fulfillmentStartInstructions"][0]["shippingStep"]["shipTo"]["contactAddress"] = {"countryCode": "DE"}
    record = mapping.map_order(order)
    assert record.ship_address is None and record.ship_country == "DE"


@pytest.mark.parametrize(
    ("fulfillment", "payment", "cancel", "expected"),
    [
        ("NOT_STARTED", "PAID", "NONE_REQUESTED", "unshipped"),
        ("IN_PROGRESS", "PAID", "NONE_REQUESTED", "partially_shipped"),
        ("FULFILLED", "PARTIALLY_REFUNDED", "NONE_REQUESTED", "partially_refunded"),
        ("FULFILLED", "FULLY_REFUNDED", "NONE_REQUESTED", "refunded"),
        ("NOT_STARTED", "PAID", "CANCELED", "cancelled"),
        ("NOT_STARTED", "PENDING", "NONE_REQUESTED", "pending"),
    ],
)
def test_order_status(fulfillment: str, payment: str, cancel: str, expected: str) -> None:
    assert mapping.order_status(fulfillment, payment, cancel) == expected


def _broken(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(data)
    node: Any = data
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is KeyError:
        del node[parts[-1]]
    else:
        node[parts[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("orderId", KeyError, "orderId"),
        ("orderFulfillmentStatus", "SHIPPED_BY_DRONE", "orderFulfillmentStatus"),
        ("orderPaymentStatus", KeyError, "orderPaymentStatus"),
        ("pricingSummary.total.value", "12,50", "pricingSummary.total.value"),
        ("pricingSummary.total.currency", "EURO", "pricingSummary.total.currency"),
        ("creationDate", "yesterday", "creationDate"),
        ("lineItems", [], "lineItems"),
        ("lineItems.0.quantity", "two", "lineItems[0].quantity"),
        ("lineItems.0.lineItemCost", KeyError, "lineItems[0].lineItemCost"),
        ("lineItems.0.lineItemId", "", "lineItems[0].lineItemId"),
        ("buyer", KeyError, "buyer.username"),
        ("cancelStatus.cancelState", "MAYBE", "cancelStatus.cancelState"),
    ],
)
def test_malformed_order_names_the_field(path: str, value: Any, field: str) -> None:
    with pytest.raises(MappingError) as caught:
        mapping.map_order(_broken(load("order.json"), path, value))
    assert caught.value.field == field


def test_return_keeps_respond_by_as_the_deadline() -> None:
    record = mapping.map_return(load("return.json"))
    assert record.kind == ReturnKind.RETURN
    assert record.external_id == "5000123456" and record.order_external_id == "12-01234-56789"
    assert record.status == "RETURN_REQUESTED"
    assert record.respond_by == datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    assert record.requested_amount == Decimal("29.99") and record.currency == "EUR"
    assert record.reason == "DEFECTIVE_ITEM" and record.buyer_comment.startswith("The case cracked")
    assert record.buyer is not None and record.buyer.external_id == "buyer_anna"
    assert record.lines[0].quantity == 1


def test_return_detail_wrapper_is_read_like_a_summary() -> None:
    assert mapping.map_return({"summary": load("return.json")}).external_id == "5000123456"


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("state", "TELEPORTED", "state"),
        ("returnId", KeyError, "returnId"),
        ("creationInfo.creationDate", KeyError, "creationInfo.creationDate.value"),
        ("sellerResponseDue.respondByDate.value", "soon", "sellerResponseDue.respondByDate.value"),
        ("sellerTotalRefund.estimatedRefundAmount.value", "NaN", "sellerTotalRefund.estimatedRefundAmount.value"),
        ("currentType", "STORE_CREDIT", "currentType"),
    ],
)
def test_malformed_return_names_the_field(path: str, value: Any, field: str) -> None:
    with pytest.raises(MappingError) as caught:
        mapping.map_return(_broken(load("return.json"), path, value))
    assert caught.value.field == field


def test_inquiry_and_case() -> None:
    inquiry = mapping.map_inquiry(load("inquiry.json"))
    assert inquiry.kind == ReturnKind.INQUIRY and inquiry.status == "WAITING_SELLER_RESPONSE"
    assert inquiry.respond_by == datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    assert inquiry.order_external_id == "110123456790-2345678902"  # eBay's legacy itemId-transactionId
    assert inquiry.requested_amount == Decimal("18.5")
    case = mapping.map_case(load("case.json"))
    assert case.kind == ReturnKind.CASE and case.external_id == "5200345678"
    assert case.updated_at == datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    assert case.buyer is not None and case.buyer.external_id == "buyer_chloe"


@pytest.mark.parametrize(
    ("loader", "fixture", "path", "value", "field"),
    [
        (mapping.map_inquiry, "inquiry.json", "inquiryStatusEnum", "ABDUCTED", "inquiryStatusEnum"),
        (mapping.map_inquiry, "inquiry.json", "inquiryId", KeyError, "inquiryId"),
        (mapping.map_case, "case.json", "caseStatusEnum", KeyError, "caseStatusEnum"),
        (mapping.map_case, "case.json", "claimAmount.currency", 978, "claimAmount.currency"),
        (mapping.map_case, "case.json", "respondByDate.value", "tomorrow", "respondByDate.value"),
    ],
)
def test_malformed_disputes(loader: Any, fixture: str, path: str, value: Any, field: str) -> None:
    with pytest.raises(MappingError) as caught:
        loader(_broken(load(fixture), path, value))
    assert caught.value.field == field


def test_messages_buyer_and_seller_side() -> None:
    conversation = load("conversation.json")
    head = {k: v for k, v in conversation.items() if k != "messages"}
    first, second = conversation["messages"]
    buyer_message = mapping.map_message(head, first, seller_username="fake_seller")
    assert buyer_message.external_id == "M-900001" and not buyer_message.from_seller
    assert buyer_message.buyer.external_id == "buyer_anna"
    assert buyer_message.conversation_id == "C-771100"
    assert buyer_message.order_external_id == "12-01234-56789"
    assert buyer_message.sent_at == datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
    seller_message = mapping.map_message(head, second, seller_username="FAKE_SELLER")
    assert seller_message.from_seller and seller_message.buyer.external_id == "buyer_anna"


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("messageId", KeyError, "messageId"),
        ("messageBody", 42, "messageBody"),
        ("senderUsername", KeyError, "senderUsername"),
        ("createdDate", "later", "createdDate"),
    ],
)
def test_malformed_message(path: str, value: Any, field: str) -> None:
    conversation = load("conversation.json")
    head = {k: v for k, v in conversation.items() if k != "messages"}
    with pytest.raises(MappingError) as caught:
        mapping.map_message(head, _broken(conversation["messages"][0], path, value), seller_username="fake_seller")
    assert caught.value.field == field


def test_the_published_sample_notification_validates_and_maps() -> None:
    sample = load("spec/message.json")
    jsonschema.validate(sample, asyncapi_payload_schema())
    assert mapping.validate_notification(sample) is sample
    record = mapping.map_notification(sample)
    assert record == AccountDeletionRecord(external_ids=("test_user", "ma8vp1jySJC"))


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("metadata", KeyError, "metadata"),
        ("metadata.topic", 7, "metadata.topic"),
        ("metadata.deprecated", "no", "metadata.deprecated"),
        ("notification.notificationId", KeyError, "notification.notificationId"),
        ("notification.publishAttemptCount", "1", "notification.publishAttemptCount"),
        ("notification.eventDate", "recently", "notification.eventDate"),
        ("notification.data.userId", 5, "notification.data.userId"),
        ("notification.data", "gone", "notification.data"),
    ],
)
def test_malformed_notification_is_refused_like_the_schema(path: str, value: Any, field: str) -> None:
    broken = _broken(load("spec/message.json"), path, value)
    with pytest.raises(MappingError) as caught:
        mapping.validate_notification(broken)
    assert caught.value.field == field
    # The schema types the fields but requires none, and types dates as plain strings: it refuses
    # the wrongly typed ones; the connector is stricter.
    if value is not KeyError and path != "notification.eventDate":
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, asyncapi_payload_schema())


def test_envelope_kind_and_data_are_checked() -> None:
    with pytest.raises(MappingError) as caught:
        mapping.map_payload({"kind": "parcel", "data": {}}, seller_username="s")
    assert caught.value.field == "kind"
    with pytest.raises(MappingError) as caught:
        mapping.map_payload({"kind": "order", "data": "x"}, seller_username="s")
    assert caught.value.field == "data"


def test_version_keys_change_with_status_and_never_raise() -> None:
    returned = load("return.json")
    first = mapping.version_key("return", returned)
    returned["state"] = "CLOSED"
    assert mapping.version_key("return", returned) != first
    assert mapping.version_key("return", {"sellerResponseDue": "oops"}).startswith("return:None")
    assert mapping.version_key("order", load("order.json")) == "order:12-01234-56789:2026-11-21T10:00:00.000Z"
