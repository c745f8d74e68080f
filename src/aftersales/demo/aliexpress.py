"""The demo's AliExpress: "AliExpress (demo)" syncing from a local fake in `make run`, with orders
(in AliExpress's US Pacific times), buyers' messages in their languages (message centre), and issues
(refund requests and returns) to answer with a solution; new messages and issues on later ticks. Its
own random stream, so the other fakes' demo data stay as they were. The fake keeps access tokens in
memory: after a restart of `manage.py fakes` the store's token is refused once and renewed from the
fixed demo refresh token."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from aftersales.channels.connectors.aliexpress.fake import AliExpressFake
from aftersales.channels.connectors.aliexpress.mapping import PACIFIC, TIME_FORMAT

from . import data
from .activity import StoreActivity

ALIEXPRESS_APP_KEY = "509001"
ALIEXPRESS_APP_SECRET = "demo-aliexpress-app-secret"  # noqa: S105 (the local fake's demo value)
ALIEXPRESS_REFRESH_TOKEN = "demo-aliexpress-refresh-token"  # noqa: S105
ALIEXPRESS_SELLER = "cn1509001demo"
ISSUE_REASONS = ("Item not as described", "Product damaged", "Shipment missing items", "Wrong size or colour")


class DemoAliExpress(AliExpressFake):
    def __init__(self) -> None:
        super().__init__(
            app_key=ALIEXPRESS_APP_KEY, app_secret=ALIEXPRESS_APP_SECRET, seller_login_id=ALIEXPRESS_SELLER
        )
        self.refresh_token = ALIEXPRESS_REFRESH_TOKEN


def store_credentials() -> dict[str, Any]:
    return {
        "app_key": ALIEXPRESS_APP_KEY,
        "app_secret": ALIEXPRESS_APP_SECRET,
        "refresh_token": ALIEXPRESS_REFRESH_TOKEN,
    }


def _pacific(value: datetime) -> str:
    return value.astimezone(PACIFIC).strftime(TIME_FORMAT)


class AliExpressActivity(StoreActivity[DemoAliExpress]):
    """What happens on the demo AliExpress store: orders, buyers' messages, issues."""

    def seed(self, now: datetime) -> None:
        for n in range(8):
            created = now - timedelta(hours=47 - n * 5)
            order_id, login_id, buyer, product = self.order(created, self.buyers[n % len(self.buyers)])
            if n % 2 == 0:
                self.message(order_id, login_id, buyer, product, created + timedelta(hours=1))
            if n % 3 == 1:
                self.issue(order_id, login_id, product, created + timedelta(hours=5), returning=n == 4)

    def tick(self, now: datetime, ticks: int) -> list[str]:
        done = []
        if ticks % 2 == 1:
            buyer = self.pick(self.buyers)
            order_id, login_id, buyer, product = self.order(now - timedelta(days=3), buyer, updated=now)
            self.message(order_id, login_id, buyer, product, now)
            done.append(f"aliexpress: message from {login_id} ({buyer.language}) about {order_id}")
        if ticks % 4 == 3 and self.orders:
            order_id, login_id, _buyer, product = self.pick(self.orders)
            done.append(f"aliexpress: issue {self.issue(order_id, login_id, product, now)} on {order_id}")
        return done

    def order(
        self, created: datetime, buyer: Any, *, updated: datetime | None = None
    ) -> tuple[str, str, Any, data.ProductSpec]:
        n = self._next()
        product = self.product()
        order_id = str(8190500000000000 + n * 7919)
        login_id = f"{buyer.country.lower()}{1000000 + self.buyers.index(buyer) if buyer in self.buyers else n}demo"
        price = str(product.price_usd.quantize(Decimal("0.01")))
        self.fake.add_order(
            {
                "order_id": order_id,
                "order_status": ("WAIT_SELLER_SEND_GOODS", "WAIT_BUYER_ACCEPT_GOODS", "FINISH")[n % 3],
                "gmt_create": _pacific(created),
                "gmt_update": _pacific(updated or created + timedelta(hours=2)),
                "buyer_login_id": login_id,
                "buyer_signer_fullname": buyer.name,
                "pay_amount": {"amount": price, "currency_code": "USD"},
                "product_list": {
                    "order_product_dto": [
                        {
                            "child_id": str(int(order_id) + 1),
                            "product_id": str(1005006000000000 + n),
                            "product_name": product.title,
                            "sku_code": product.sku,
                            "product_count": 1,
                            "product_unit_price": {"amount": price, "currency_code": "USD"},
                        }
                    ]
                },
            }
        )
        self.orders.append((order_id, login_id, buyer, product))
        return order_id, login_id, buyer, product

    def message(self, order_id: str, login_id: str, buyer: Any, product: data.ProductSpec, when: datetime) -> None:
        _subject, body = self.text(order_id, buyer, product, self.random)
        relation = {
            "channel_id": str(7012000000 + int(hashlib.sha256(login_id.encode()).hexdigest()[:8], 16) % 10**6),
            "other_login_id": login_id,
            "other_name": buyer.name,
        }
        self.fake.add_message(
            relation,
            {
                "id": str(90011000000 + self._next()),
                "gmt_create": int(when.timestamp() * 1000),
                "sender_login_id": login_id,
                "sender_name": buyer.name,
                "message_type": "text",
                "content": body[:2000],
                "summary": {"order_id": order_id},
            },
        )

    def issue(
        self, order_id: str, login_id: str, product: data.ProductSpec, opened: datetime, *, returning: bool = False
    ) -> str:
        n = self._next()
        issue_id = str(6012000000000 + n)
        self.fake.add_issue(
            {
                "id": issue_id,
                "gmt_create": _pacific(opened),
                "gmt_modified": _pacific(opened),
                "issue_status": "WAIT_BUYER_SEND_GOODS" if returning else "WAIT_SELLER_CONFIRM_REFUND",
                "order_id": str(int(order_id) + 1),
                "parent_order_id": order_id,
                "buyer_login_id": login_id,
                "reason_english": ISSUE_REASONS[n % len(ISSUE_REASONS)],
                "refund_money_post": {
                    "amount": str(product.price_usd.quantize(Decimal("0.01"))),
                    "currency_code": "USD",
                },
            }
        )
        return issue_id
