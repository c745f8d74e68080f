"""Demo data on the fake eBay (`make run`'s demo store, benchmarks): orders within the last day;
every third buyer writes a message, every fifth opens a return, every seventh an inquiry, every
eleventh a case. Deterministic for a given `now`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol


class DemoTarget(Protocol):
    """What the demo data is added to (EbayFake; fake.py imports this module, not the reverse)."""

    seller: str

    def add_order(self, order: dict[str, Any]) -> dict[str, Any]: ...

    def add_return(self, item: dict[str, Any]) -> dict[str, Any]: ...

    def add_inquiry(self, item: dict[str, Any]) -> dict[str, Any]: ...

    def add_case(self, item: dict[str, Any]) -> dict[str, Any]: ...

    def add_conversation(self, conversation: dict[str, Any], messages: list[dict[str, Any]]) -> None: ...


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def seed_demo(fake: DemoTarget, *, orders: int = 20, now: datetime | None = None) -> None:
    """Demo data (for `make run`'s demo store and benchmarks): `orders` orders within the last
    day; every third buyer writes a message, every fifth opens a return, every seventh an
    inquiry, every eleventh a case. Deterministic for a given `now`."""
    now = now or datetime.now(UTC)
    for n in range(orders):
        order_id = f"27-{n // 100000:05d}-{n % 100000:05d}"
        buyer = f"demo_buyer_{n}"
        created = now - timedelta(minutes=5 + (n * 7) % 1400)
        price = Decimal(10 + n % 90) + Decimal("0.99")
        line_id = f"1{n:013d}"
        item_id, transaction_id = f"2{n:011d}", f"3{n:011d}"
        fake.add_order(
            {
                "orderId": order_id,
                "creationDate": iso(created),
                "lastModifiedDate": iso(created + timedelta(minutes=1)),
                "orderFulfillmentStatus": ("NOT_STARTED", "IN_PROGRESS", "FULFILLED")[n % 3],
                "orderPaymentStatus": "PAID",
                "cancelStatus": {"cancelState": "NONE_REQUESTED"},
                "buyer": {"username": buyer, "taxAddress": {"countryCode": "DE"}},
                "pricingSummary": {"total": {"value": str(price), "currency": "EUR"}},
                "paymentSummary": {"refunds": []},
                "fulfillmentStartInstructions": [
                    {
                        "shippingStep": {
                            "shipTo": {
                                "fullName": f"Demo Buyer {n}",
                                # every seventh buyer shares a flat with the next one (the refund
                                # review's "several accounts to one address")
                                "contactAddress": {
                                    "addressLine1": f"Demostraße {n - 1 if n % 7 == 1 else n}",
                                    "postalCode": "10115",
                                    "city": "Berlin",
                                    "countryCode": "DE",
                                },
                            }
                        }
                    }
                ],
                "lineItems": [
                    {
                        "lineItemId": line_id,
                        "legacyItemId": item_id,
                        "sku": f"SKU-{n % 40:03d}",
                        "title": f"Demo item {n % 40}",
                        "quantity": 1,
                        "lineItemCost": {"value": str(price), "currency": "EUR"},
                    }
                ],
            }
        )
        if n % 3 == 0:
            fake.add_conversation(
                {
                    "conversationId": f"C-demo-{n}",
                    "conversationStatus": "ACTIVE",
                    "conversationType": "FROM_MEMBERS",
                    "conversationTitle": f"About order {order_id}",
                    "createdDate": iso(created + timedelta(minutes=2)),
                    "referenceId": order_id,
                    "referenceType": "ORDER",
                },
                [
                    {
                        "messageId": f"M-demo-{n}",
                        "messageBody": f"Hallo, wo ist meine Bestellung {order_id}?",
                        "senderUsername": buyer,
                        "recipientUsername": fake.seller,
                        "createdDate": iso(created + timedelta(minutes=2)),
                    }
                ],
            )
        opened = created + timedelta(minutes=3)
        due = {"value": iso(opened + timedelta(days=3))}
        if n % 5 == 0:
            fake.add_return(
                {
                    "returnId": f"50{n:08d}",
                    "orderId": order_id,
                    "buyerLoginName": buyer,
                    "currentType": "MONEY_BACK",
                    "state": "RETURN_REQUESTED",
                    "status": "RETURN_REQUESTED",
                    "creationInfo": {
                        "item": {"itemId": item_id, "transactionId": transaction_id, "returnQuantity": 1},
                        "reason": "DEFECTIVE_ITEM",
                        "comments": {"content": "Does not work."},
                        "creationDate": {"value": iso(opened)},
                    },
                    "sellerTotalRefund": {"estimatedRefundAmount": {"value": str(price), "currency": "EUR"}},
                    "sellerResponseDue": {"respondByDate": due},
                }
            )
        for every, add, id_field, status_field in (
            (7, fake.add_inquiry, "inquiryId", "inquiryStatusEnum"),
            (11, fake.add_case, "caseId", "caseStatusEnum"),
        ):
            if n % every == 0:
                add(
                    {
                        id_field: f"5{every}{n:08d}",
                        status_field: "WAITING_SELLER_RESPONSE",
                        "itemId": item_id,
                        "transactionId": transaction_id,
                        "orderId": order_id,
                        "buyer": buyer,
                        "claimAmount": {"value": str(price), "currency": "EUR"},
                        "creationDate": {"value": iso(opened)},
                        "lastModifiedDate": {"value": iso(opened)},
                        "respondByDate": due,
                    }
                )
