"""The demo's Wish: "Wish (demo)" syncing from a local fake in `make run`, with orders and buyers'
tickets in their languages (one escalated to Wish support); new tickets on later ticks. Its own
random stream, so the other fakes' demo data stay as they were. The fake keeps access tokens in
memory: after a restart of `manage.py fakes` the store's token is refused once (401) and renewed
from the fixed demo refresh token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from aftersales.channels.connectors.wish.fake import WishFake

from . import data
from .activity import StoreActivity

WISH_CLIENT_ID = "5f0c1d2e3a4b5c6d7e8fdemo"
WISH_CLIENT_SECRET = "demo-wish-client-secret"  # noqa: S105 (the local fake's demo value)
WISH_REFRESH_TOKEN = "demo-wish-refresh-token"  # noqa: S105
WISH_MERCHANT_ID = "5e1234567890abcdefdemo01"


class DemoWish(WishFake):
    def __init__(self) -> None:
        super().__init__(client_id=WISH_CLIENT_ID, client_secret=WISH_CLIENT_SECRET, merchant_id=WISH_MERCHANT_ID)
        self.refresh_token = WISH_REFRESH_TOKEN


def store_credentials() -> dict[str, Any]:
    return {"client_id": WISH_CLIENT_ID, "client_secret": WISH_CLIENT_SECRET, "refresh_token": WISH_REFRESH_TOKEN}


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class WishActivity(StoreActivity[DemoWish]):
    """What happens on the demo Wish store: orders and tickets."""

    def seed(self, now: datetime) -> None:
        for n in range(6):
            created = now - timedelta(hours=45 - n * 6)
            order_id, buyer, product = self.order(created, self.buyers[n % len(self.buyers)])
            if n % 2 == 0:
                self.ticket(order_id, buyer, product, created + timedelta(hours=2), escalated=n == 4)

    def tick(self, now: datetime, ticks: int) -> list[str]:
        if ticks % 3 != 1:
            return []
        buyer = self.pick(self.buyers)
        order_id, buyer, product = self.order(now - timedelta(days=4), buyer)
        return [f"wish: ticket {self.ticket(order_id, buyer, product, now)} from {buyer.first} ({buyer.language})"]

    def order(self, created: datetime, buyer: Any) -> tuple[str, Any, data.ProductSpec]:
        n = self._next()
        product = self.product()
        price = float(product.price_usd.quantize(Decimal("0.01")))
        order_id = f"64{n:022x}"
        self.fake.add_order(
            {
                "id": order_id,
                "state": ("APPROVED", "SHIPPED")[n % 2],
                "released_at": _iso(created),
                "updated_at": _iso(created + timedelta(hours=1)),
                "order_payment": {
                    "general_payment_details": {
                        "payment_total": {"amount": price, "currency_code": "USD"},
                        "product_price": {"amount": price, "currency_code": "USD"},
                        "product_quantity": 1,
                    }
                },
                "product_information": {"variation_id": f"5f{n:022x}", "sku": product.sku, "name": product.title},
                "full_address": {"shipping_detail": {"name": buyer.name, "country_code": buyer.country}},
            }
        )
        return order_id, buyer, product

    def ticket(
        self, order_id: str, buyer: Any, product: data.ProductSpec, when: datetime, *, escalated: bool = False
    ) -> str:
        self._next()
        subject, body = self.text(order_id, buyer, product, self.random)
        ticket_id = f"65{self.counter:022x}"
        self.fake.add_ticket(
            {
                "id": ticket_id,
                "state": "AWAITING_WISH" if escalated else "AWAITING_MERCHANT",
                "subject": subject[:200],
                "opened_at": _iso(when),
                "updated_at": _iso(when),
                "orders": [{"id": order_id}],
                "buyer_info": {"name": buyer.name, "locale": f"{buyer.language}-{buyer.country}"},
                "replies": [{"sender": "USER", "message": body[:2000], "replied_at": _iso(when)}],
            }
        )
        return ticket_id
