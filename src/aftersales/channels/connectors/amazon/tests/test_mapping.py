"""Pure mapping of SP-API payloads (fixtures: the Orders 2026-01-01 model's own examples, a
returns report shaped like GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE, a finances refund event)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from aftersales.channels.base import MappingError, ReturnKind, ShipAddress
from aftersales.channels.connectors.amazon import feeds, mapping

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def order() -> dict[str, Any]:
    return copy.deepcopy(fixture("get_order.json")["order"])


def test_get_order_example_maps_to_order_with_lines_shipments_and_buyer(order):
    record = mapping.map_order(order, default_currency="USD")
    assert record.external_id == "202-1234567-8901234"
    assert record.placed_at == datetime(2024, 12, 25, 9, 15, tzinfo=UTC)
    assert record.updated_at == datetime(2024, 12, 25, 16, 30, tzinfo=UTC)
    assert record.status == "shipped"
    assert (record.total, record.currency) == (Decimal("103.97"), "GBP")
    assert record.ship_country == "GB"
    assert record.buyer is not None
    assert record.buyer.external_id == "buyer-email@marketplace.amazon.co.uk"
    assert (record.buyer.name, record.buyer.country) == ("James Wilson", "GB")
    [line] = record.lines
    assert line.external_line_id == "20212345678901"
    assert (line.sku, line.quantity, line.unit_price, line.currency) == (
        "ECHO-DOT-4-UK-CHARCOAL-3PACK",
        3,
        Decimal("29.99"),
        "GBP",
    )
    [shipment] = record.shipments
    assert (shipment.carrier, shipment.tracking_number, shipment.status) == (
        "Royal Mail",
        "RR123456789GB",
        "in_transit",
    )
    assert shipment.shipped_at == datetime(2024, 12, 26, 14, 0, tzinfo=UTC)


def test_search_orders_example_maps_every_order():
    orders = fixture("search_orders.json")["orders"]
    records = [mapping.map_order(o, default_currency="USD") for o in orders]
    assert [r.external_id for r in records] == ["123-4567890-1234567"]
    assert records[0].shipments[0].status == "delivered"
    assert records[0].lines[0].external_line_id == "12345678901234"


def test_event_id_is_order_and_last_update(order):
    assert mapping.order_event_id(order) == "202-1234567-8901234:2024-12-25T16:30:00Z"


def test_pending_order_without_proceeds_totals_its_items(order):
    del order["proceeds"]
    order["fulfillment"]["fulfillmentStatus"] = "PENDING"
    record = mapping.map_order(order, default_currency="USD")
    assert (record.total, record.currency, record.status) == (Decimal("89.97"), "GBP", "pending")


def test_order_without_buyer_has_no_buyer(order):
    del order["buyer"]
    assert mapping.map_order(order, default_currency="USD").buyer is None


def test_package_without_tracking_number_is_not_a_shipment(order):
    del order["packages"][0]["trackingNumber"]
    assert mapping.map_order(order, default_currency="USD").shipments == []


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda o: o.pop("orderId"), "orderId"),
        (lambda o: o.pop("createdTime"), "createdTime"),
        (lambda o: o.__setitem__("lastUpdatedTime", "yesterday"), "lastUpdatedTime"),
        (lambda o: o.pop("fulfillment"), "fulfillment.fulfillmentStatus"),
        (lambda o: o["fulfillment"].__setitem__("fulfillmentStatus", "TELEPORTED"), "fulfillment.fulfillmentStatus"),
        (lambda o: o.pop("orderItems"), "orderItems"),
        (lambda o: o["orderItems"][0].pop("orderItemId"), "orderItems[0].orderItemId"),
        (lambda o: o["orderItems"][0].__setitem__("quantityOrdered", "three"), "orderItems[0].quantityOrdered"),
        (lambda o: o["orderItems"][0].pop("quantityOrdered"), "orderItems[0].quantityOrdered"),
        (lambda o: o["orderItems"][0].pop("product"), "orderItems[0].product"),
        (
            lambda o: o["orderItems"][0]["product"]["price"]["unitPrice"].__setitem__("amount", "12,50"),
            "orderItems[0].product.price.unitPrice.amount",
        ),
        (lambda o: o["proceeds"]["grandTotal"].__setitem__("amount", "NaN"), "proceeds.grandTotal.amount"),
        (
            lambda o: o["proceeds"]["grandTotal"].__setitem__("currencyCode", "POUNDS"),
            "proceeds.grandTotal.currencyCode",
        ),
        (
            lambda o: o["packages"][0]["packageStatus"].__setitem__("status", "LOST_IN_SPACE"),
            "packages[0].packageStatus.status",
        ),
        (lambda o: o["packages"][0].__setitem__("shipTime", "soon"), "packages[0].shipTime"),
        (lambda o: o.__setitem__("buyer", "someone"), "buyer"),
    ],
)
def test_malformed_or_partial_order_names_the_field(order, mutate, field):
    mutate(order)
    with pytest.raises(MappingError) as raised:
        mapping.map_order(order, default_currency="USD")
    assert raised.value.field == field


def test_order_that_is_not_an_object():
    with pytest.raises(MappingError) as raised:
        mapping.map_order(["not", "an", "order"], default_currency="USD")  # type: ignore[arg-type]
    assert raised.value.field == "order"


# --- returns report --------------------------------------------------------------------------------


def report_rows() -> list[dict[str, str]]:
    return mapping.parse_returns_report((FIXTURES / "returns_report.tsv").read_text())


def test_returns_report_rows_are_grouped_per_rma():
    grouped = mapping.group_return_rows(report_rows())
    assert list(grouped) == ["DkR8xYz1RMA", "Dq7mN2bRMA"]
    assert len(grouped["DkR8xYz1RMA"]) == 2


def test_return_with_two_items():
    rows = mapping.group_return_rows(report_rows())["DkR8xYz1RMA"]
    record = mapping.map_return({"report_id": "1", "rows": rows})
    assert record.external_id == "DkR8xYz1RMA"
    assert record.kind == ReturnKind.RETURN
    assert (record.status, record.order_external_id, record.reason) == (
        "Approved",
        "113-1111111-1111111",
        "CR-DEFECTIVE",
    )
    assert record.created_at == datetime(2026, 11, 9, tzinfo=UTC)
    assert [(line.sku, line.quantity) for line in record.lines] == [("ECHO-DOT-4-CHARCOAL", 1), ("CABLE-USB-C-2M", 2)]
    assert (record.requested_amount, record.currency) == (Decimal("49.99"), "USD")


def test_return_with_a_to_z_claim_is_a_case():
    rows = mapping.group_return_rows(report_rows())["Dq7mN2bRMA"]
    record = mapping.map_return({"rows": rows})
    assert record.kind == ReturnKind.CASE
    assert record.requested_amount is None


def test_return_event_id_changes_with_the_rows_only():
    rows = mapping.group_return_rows(report_rows())["Dq7mN2bRMA"]
    same = mapping.return_event_id("Dq7mN2bRMA", copy.deepcopy(rows))
    assert mapping.return_event_id("Dq7mN2bRMA", rows) == same
    rows[0]["Return request status"] = "Closed"
    assert mapping.return_event_id("Dq7mN2bRMA", rows) != same


def test_row_without_rma_is_keyed_by_order_sku_and_date():
    row = report_rows()[2]
    row["Amazon RMA ID"] = ""
    assert mapping.return_external_id(row) == "114-2222222-2222222:KETTLE-1L:12-Nov-2026"


@pytest.mark.parametrize("date", ["12-Nov-2026", "2026-11-12", "2026-11-12T00:00:00Z"])
def test_report_dates_in_the_forms_amazon_writes(date):
    assert mapping.parse_report_date(date, "x") == datetime(2026, 11, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("Order ID", ""),
        ("Return request status", ""),
        ("Return request date", "the twelfth"),
        ("Merchant SKU", ""),
        ("Return quantity", "-1"),
        ("Return quantity", "one"),
        ("A-to-z claim", "MAYBE"),
        ("Refunded Amount", "12.5.0"),
    ],
)
def test_malformed_return_row_names_the_column(column, value):
    rows = mapping.group_return_rows(report_rows())["Dq7mN2bRMA"]
    rows[0][column] = value
    with pytest.raises(MappingError) as raised:
        mapping.map_return({"rows": rows})
    assert raised.value.field == column


def test_return_without_rows():
    with pytest.raises(MappingError) as raised:
        mapping.map_return({"rows": []})
    assert raised.value.field == "rows"


def test_short_report_line_is_padded_and_then_named():
    text = "Order ID\tReturn request date\tReturn request status\tMerchant SKU\tReturn quantity\n113-1\t09-Nov-2026\n"
    [row] = mapping.parse_returns_report(text)
    with pytest.raises(MappingError) as raised:
        mapping.map_return({"rows": [row]})
    assert raised.value.field == "Return request status"


def test_empty_report():
    assert mapping.parse_returns_report("") == []


# --- finances and the feed --------------------------------------------------------------------------


def test_refund_events_sum_per_item():
    events = {
        "RefundEventList": [
            {
                "AmazonOrderId": "113-1111111-1111111",
                "ShipmentItemAdjustmentList": [
                    {
                        "OrderItemId": "A1",
                        "ItemChargeAdjustmentList": [
                            {
                                "ChargeType": "Principal",
                                "ChargeAmount": {"CurrencyCode": "USD", "CurrencyAmount": -10.0},
                            },
                            {"ChargeType": "Tax", "ChargeAmount": {"CurrencyCode": "USD", "CurrencyAmount": -0.8}},
                        ],
                    }
                ],
            },
            {
                "ShipmentItemAdjustmentList": [
                    {
                        "OrderItemId": "A1",
                        "ItemChargeAdjustmentList": [
                            {"ChargeType": "Principal", "ChargeAmount": {"CurrencyCode": "USD", "CurrencyAmount": -5}}
                        ],
                    }
                ]
            },
        ]
    }
    assert mapping.refunded_by_item(events) == {"A1": Decimal("15.8")}


def test_refund_event_without_item_id_names_it():
    with pytest.raises(MappingError) as raised:
        mapping.refunded_by_item(
            {"RefundEventList": [{"ShipmentItemAdjustmentList": [{"ItemChargeAdjustmentList": []}]}]}
        )
    assert raised.value.field == "RefundEventList[0].ShipmentItemAdjustmentList[0].OrderItemId"


def test_payment_adjustment_feed_and_processing_report():
    content = feeds.payment_adjustment_feed(
        seller_id="A2FAKESELLER",
        order_id="113-1111111-1111111",
        items=[feeds.AdjustedItem("A1", Decimal("10")), feeds.AdjustedItem("A2", Decimal("2.5"))],
        currency="USD",
        reason=feeds.adjustment_reason("", is_return=True),
        idempotency_key="refund-1",
    )
    text = content.decode()
    assert "<MessageType>PaymentAdjustment</MessageType>" in text
    assert "<AmazonOrderID>113-1111111-1111111</AmazonOrderID>" in text
    assert '<Amount currency="USD">10.00</Amount>' in text
    assert '<Amount currency="USD">2.50</Amount>' in text
    assert text.count("<AdjustmentReason>CustomerReturn</AdjustmentReason>") == 2
    assert feeds.merchant_adjustment_item_id("refund-1", 1) in text
    report = feeds.parse_processing_report(
        b"<AmazonEnvelope><Message><ProcessingReport><ProcessingSummary><MessagesProcessed>1</MessagesProcessed>"
        b"<MessagesSuccessful>0</MessagesSuccessful><MessagesWithError>1</MessagesWithError></ProcessingSummary>"
        b"<Result><ResultCode>Error</ResultCode><ResultDescription>Order not found</ResultDescription></Result>"
        b"</ProcessingReport></Message></AmazonEnvelope>"
    )
    assert (report.processed, report.with_error, report.errors) == (1, 1, ["Order not found"])


def test_adjustment_reason_keeps_amazon_words_only():
    assert feeds.adjustment_reason("PriceError", is_return=False) == "PriceError"
    assert feeds.adjustment_reason("buyer changed mind", is_return=False) == "GeneralAdjustment"


def test_delivery_address_becomes_a_ship_address(order):
    record = mapping.map_order(order, default_currency="USD")
    assert record.ship_address == ShipAddress(
        country="GB", postal_code="M1 2AB", lines=("123 High Street", "Unit 4B"), city="Manchester"
    )
    assert record.ship_address_key is not None


def test_without_a_restricted_data_token_there_is_no_ship_address(order):
    """Without an RDT the delivery address carries no street lines (city, postal code, country)."""
    for field in ("name", "companyName", "addressLine1", "addressLine2", "addressLine3", "phone"):
        order["recipient"]["deliveryAddress"].pop(field)
    record = mapping.map_order(order, default_currency="USD")
    assert record.ship_address is None and record.ship_address_key is None
    assert record.ship_country == "GB"
    del order["recipient"]
    assert mapping.map_order(order, default_currency="USD").ship_address is None


def test_serial_numbers_of_the_shipped_units_are_mapped(order):
    """ItemProduct.serialNumbers (FBA): the units' serial numbers, registered in the warranty registry."""
    order["orderItems"][0]["product"]["serialNumbers"] = ["SN-A1", " SN-A2 ", ""]
    [line] = mapping.map_order(order, default_currency="USD").lines
    assert line.serial_numbers == ("SN-A1", "SN-A2") and line.imeis == ()
    order["orderItems"][0]["product"]["serialNumbers"] = "SN-A1"
    with pytest.raises(MappingError) as caught:
        mapping.map_order(order, default_currency="USD")
    assert caught.value.field == "orderItems[0].product.serialNumbers"
