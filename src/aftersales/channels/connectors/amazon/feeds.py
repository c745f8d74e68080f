"""Pure: the payment-adjustment feed (POST_PAYMENT_ADJUSTMENT_DATA, XML) a refund is sent as,
and the processing report Amazon answers with.

A refund of a merchant-fulfilled Amazon order is an `OrderAdjustment` per order, one
`AdjustedItem` per order item (AmazonOrderItemCode = the Orders API orderItemId) with the refunded
principal as an `ItemPriceAdjustments` component. The feed has no idempotency key: the
`MerchantAdjustmentItemID`s carry a digest of our key (for a human comparing Seller Central with
the WriteBack row) and the connector never resends a feed on its own."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal

from aftersales.channels.base import ConnectorError

FEED_TYPE = "POST_PAYMENT_ADJUSTMENT_DATA"
CONTENT_TYPE = "text/xml; charset=UTF-8"

# The AdjustmentReason values of Amazon's OrderAdjustment schema.
ADJUSTMENT_REASONS = frozenset(
    {
        "NoInventory",
        "CustomerReturn",
        "GeneralAdjustment",
        "CouldNotShip",
        "DifferentItem",
        "Abandoned",
        "CustomerCancel",
        "PriceError",
        "ProductOutofStock",
        "CustomerAddressIncorrect",
        "Exchange",
        "Other",
        "CarrierCreditDecision",
        "RiskAssessmentInformationNotValid",
        "CarrierCoverageFailure",
        "TransactionRecord",
        "Undeliverable",
        "RefusedDelivery",
    }
)


@dataclass(frozen=True)
class AdjustedItem:
    order_item_id: str
    amount: Decimal  # the refunded principal, positive


def adjustment_reason(reason: str, *, is_return: bool) -> str:
    if reason in ADJUSTMENT_REASONS:
        return reason
    return "CustomerReturn" if is_return else "GeneralAdjustment"


def merchant_adjustment_item_id(idempotency_key: str, index: int) -> str:
    return f"as-{hashlib.sha256(idempotency_key.encode()).hexdigest()[:20]}-{index}"


def payment_adjustment_feed(
    *,
    seller_id: str,
    order_id: str,
    items: list[AdjustedItem],
    currency: str,
    reason: str,
    idempotency_key: str,
) -> bytes:
    if not items:
        raise ConnectorError("a payment adjustment needs at least one order item", permanent=True)
    envelope = ET.Element(
        "AmazonEnvelope",
        {
            "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
            "xsi:noNamespaceSchemaLocation": "amzn-envelope.xsd",
        },
    )
    header = ET.SubElement(envelope, "Header")
    ET.SubElement(header, "DocumentVersion").text = "1.01"
    ET.SubElement(header, "MerchantIdentifier").text = seller_id
    ET.SubElement(envelope, "MessageType").text = "PaymentAdjustment"
    message = ET.SubElement(envelope, "Message")
    ET.SubElement(message, "MessageID").text = "1"
    adjustment = ET.SubElement(message, "OrderAdjustment")
    ET.SubElement(adjustment, "AmazonOrderID").text = order_id
    for index, item in enumerate(items, start=1):
        if item.amount <= 0:
            raise ConnectorError(f"refund amount for item {item.order_item_id} must be positive", permanent=True)
        adjusted = ET.SubElement(adjustment, "AdjustedItem")
        ET.SubElement(adjusted, "AmazonOrderItemCode").text = item.order_item_id
        ET.SubElement(adjusted, "MerchantAdjustmentItemID").text = merchant_adjustment_item_id(idempotency_key, index)
        ET.SubElement(adjusted, "AdjustmentReason").text = reason
        component = ET.SubElement(ET.SubElement(adjusted, "ItemPriceAdjustments"), "Component")
        ET.SubElement(component, "Type").text = "Principal"
        ET.SubElement(component, "Amount", {"currency": currency}).text = f"{item.amount:.2f}"
    return ET.tostring(envelope, encoding="utf-8", xml_declaration=True)


@dataclass(frozen=True)
class ProcessingReport:
    processed: int
    successful: int
    with_error: int
    errors: list[str]


def parse_processing_report(data: bytes) -> ProcessingReport:
    try:
        root = ET.fromstring(data)  # noqa: S314 (Amazon's processing report: no DTD, no entities expected)
    except ET.ParseError as exc:
        raise ConnectorError(f"the feed processing report is not XML: {exc}") from exc
    summary = root.find(".//ProcessingSummary")
    if summary is None:
        raise ConnectorError("the feed processing report has no ProcessingSummary")

    def count(name: str) -> int:
        try:
            return int(summary.findtext(name, "0") or 0)
        except ValueError:
            return 0

    errors = [
        (result.findtext("ResultDescription") or "").strip()
        for result in root.findall(".//Result")
        if (result.findtext("ResultCode") or "") == "Error"
    ]
    return ProcessingReport(
        processed=count("MessagesProcessed"),
        successful=count("MessagesSuccessful"),
        with_error=count("MessagesWithError"),
        errors=errors,
    )
