"""The demo's TikTok Shop: "TikTok Shop US (demo)" syncing from a local fake in `make run`, with
orders, buyer chats (English, Spanish, Chinese...), returns and refund requests carrying TikTok's
response deadline, and a cancellation request; new chats and returns on later ticks. Its own
random stream, so the other fakes' demo data stay as they were."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from aftersales.channels.connectors.tiktok.fake import TikTokFake

from . import data
from .activity import StoreActivity

TIKTOK_APP_KEY = "6demotts01"
TIKTOK_APP_SECRET = "demo-tiktok-app-secret"  # noqa: S105 (the local fake's demo value)
TIKTOK_SHOP_ID = "7494000000000009001"
TIKTOK_SHOP_CIPHER = "ROW_demoGadgetsUS"
RETURN_REASONS = (
    "ecom_order_delivered_refund_and_return_reason_damaged",
    "ecom_order_delivered_refund_and_return_reason_not_as_described",
    "ecom_order_delivered_refund_and_return_reason_wrong_item",
    "ecom_order_delivered_refund_reason_missing_item",
)


class DemoTikTok(TikTokFake):
    """The fake TikTok Shop of the demo, with tokens that outlive a restart of `manage.py fakes`:
    each access token carries its expiry and a stamp made with the app secret."""

    def __init__(self) -> None:
        super().__init__(
            app_key=TIKTOK_APP_KEY,
            app_secret=TIKTOK_APP_SECRET,
            shop_id=TIKTOK_SHOP_ID,
            shop_cipher=TIKTOK_SHOP_CIPHER,
            shop_name="Gadgets US (demo)",
        )
        self.refresh_token = self.initial_refresh_token()

    @staticmethod
    def _stamp(kind: str, value: str) -> str:
        return hashlib.sha256(f"{TIKTOK_APP_SECRET}:{kind}:{value}".encode()).hexdigest()[:20]

    @classmethod
    def initial_refresh_token(cls) -> str:
        return f"rt-demo-{cls._stamp('rt', 'demo')}"

    def new_access_token(self, seconds: int = 7 * 24 * 3600) -> str:
        expires = int(self.clock()) + seconds
        return f"TTP_{expires}_{self._stamp('at', str(expires))}"

    def access_token_expiry(self, token: str) -> float | None:
        _prefix, _, rest = token.partition("_")
        expires, _, stamp = rest.partition("_")
        if _prefix != "TTP" or not expires.isdigit() or stamp != self._stamp("at", expires):
            return None
        return float(expires)


def store_credentials() -> dict[str, Any]:
    return {
        "app_key": TIKTOK_APP_KEY,
        "app_secret": TIKTOK_APP_SECRET,
        "shop_cipher": TIKTOK_SHOP_CIPHER,
        "shop_id": TIKTOK_SHOP_ID,
        "refresh_token": DemoTikTok.initial_refresh_token(),
    }


class TikTokActivity(StoreActivity[DemoTikTok]):
    """What happens on the demo TikTok Shop: orders, chats, returns."""

    def seed(self, now: datetime) -> None:
        for n in range(8):
            created = now - timedelta(hours=46 - n * 5)
            order_id, user_id, buyer, product = self.order(created, self.buyers[n % len(self.buyers)])
            if n % 2 == 0:
                self.chat(order_id, user_id, buyer, product, created + timedelta(hours=1))
            if n % 3 == 1:
                self.return_request(order_id, product, created + timedelta(hours=4), refund_only=n == 4)
        order_id, _user, _buyer, product = self.orders[-1]
        self.cancellation(order_id, product, now - timedelta(hours=2))

    def tick(self, now: datetime, ticks: int) -> list[str]:
        done = []
        if ticks % 2 == 0:
            buyer = self.pick(self.buyers)
            order_id, user_id, buyer, product = self.order(now - timedelta(days=2), buyer, updated=now)
            self.chat(order_id, user_id, buyer, product, now)
            done.append(f"tiktok: chat from {buyer.username} ({buyer.language}) about {order_id}")
        if ticks % 3 == 0 and self.orders:
            order_id, _user_id, _buyer, product = self.pick(self.orders)
            done.append(f"tiktok: return {self.return_request(order_id, product, now)} on {order_id}")
        return done

    def order(
        self, created: datetime, buyer: Any, *, updated: datetime | None = None
    ) -> tuple[str, str, Any, data.ProductSpec]:
        n = self._next()
        product = self.product()
        order_id = str(576461413038700000 + n * 7919)
        user_id = str(7021436810468200000 + (self.buyers.index(buyer) if buyer in self.buyers else 100 + n))
        price = product.price_usd.quantize(Decimal("0.01"))
        updated = updated or created + timedelta(hours=2)
        self.fake.add_order(
            {
                "id": order_id,
                "status": ("COMPLETED", "IN_TRANSIT", "AWAITING_SHIPMENT", "DELIVERED")[n % 4],
                "create_time": int(created.timestamp()),
                "update_time": int(updated.timestamp()),
                "user_id": user_id,
                "buyer_email": f"{hashlib.sha1(user_id.encode()).hexdigest()[:24]}@scs2.tiktok.com",  # noqa: S324
                "recipient_address": {"name": buyer.name, "region_code": "US"},
                # shipped by the seller through the fake's default delivery option (USPS, UPS, FedEx):
                # "Mark shipped" works on the demo's orders awaiting shipment
                "shipping_type": "SELLER",
                "delivery_option_id": "7091146663229654789",
                "payment": {"currency": "USD", "sub_total": str(price), "total_amount": str(price)},
                "line_items": [
                    {
                        "id": str(577086512123700000 + n),
                        "sku_id": str(1729582718312300000 + n),
                        "seller_sku": product.sku,
                        "product_name": product.title,
                        "sku_name": "",
                        "sale_price": str(price),
                        "original_price": str(price),
                        "currency": "USD",
                    }
                ],
            }
        )
        self.orders.append((order_id, user_id, buyer, product))
        return order_id, user_id, buyer, product

    def chat(self, order_id: str, user_id: str, buyer: Any, product: data.ProductSpec, when: datetime) -> None:
        _subject, body = self.text(order_id, buyer, product, self.random)
        conversation_id = str(7282834513211000000 + int(user_id) % 10**6)
        message = {
            "id": str(7282834513212000000 + self._next()),
            "type": "TEXT",
            "content": json.dumps({"content": body[:1000]}, ensure_ascii=False),
            "create_time": int(when.timestamp()),
            "is_visible": True,
            "sender": {"role": "BUYER", "im_user_id": f"im-{user_id}", "nickname": buyer.username},
        }
        card = {
            **message,
            "id": str(7282834513212000000 + self._next()),
            "type": "ORDER_CARD",
            "content": json.dumps({"order_id": order_id}),
        }
        with self.fake.lock:
            known = conversation_id in self.fake.conversations
        if known:
            self.fake.add_message(conversation_id, card)
            self.fake.add_message(conversation_id, message)
            return
        participants = [
            {"role": "BUYER", "user_id": user_id, "im_user_id": f"im-{user_id}", "nickname": buyer.username},
            {"role": "SHOP", "user_id": TIKTOK_SHOP_ID, "nickname": "Gadgets US (demo)"},
        ]
        self.fake.add_conversation({"id": conversation_id, "participants": participants}, [card, message])

    def return_request(
        self, order_id: str, product: data.ProductSpec, opened: datetime, *, refund_only: bool = False
    ) -> str:
        n = self._next()
        return_id = str(4035319218955700000 + n)
        price = str(product.price_usd.quantize(Decimal("0.01")))
        self.fake.add_return(
            {
                "return_id": return_id,
                "order_id": order_id,
                "return_type": "REFUND" if refund_only else "RETURN_AND_REFUND",
                "return_status": "RETURN_OR_REFUND_REQUEST_PENDING",
                "role": "BUYER",
                "create_time": int(opened.timestamp()),
                "update_time": int(opened.timestamp()),
                "return_reason": RETURN_REASONS[n % len(RETURN_REASONS)],
                "return_reason_text": "The item does not work as described.",
                "refund_amount": {"currency": "USD", "refund_total": price},
                "return_line_items": [
                    {"order_line_item_id": str(577086512123700000 + n), "seller_sku": product.sku, "sku_id": "1"}
                ],
                # US: the seller answers a request within 2 days (else TikTok approves it).
                "seller_next_action_response": [
                    {"action": "SELLER_RESPOND_RETURN", "deadline": int((opened + timedelta(days=2)).timestamp())}
                ],
            }
        )
        return return_id

    def cancellation(self, order_id: str, product: data.ProductSpec, opened: datetime) -> str:
        cancel_id = str(4035318888888800000 + self._next())
        self.fake.add_cancellation(
            {
                "cancel_id": cancel_id,
                "order_id": order_id,
                "cancel_type": "CANCEL",
                "cancel_status": "CANCELLATION_REQUEST_PENDING",
                "role": "BUYER",
                "create_time": int(opened.timestamp()),
                "update_time": int(opened.timestamp()),
                "cancel_reason": "ecom_order_unpaid_cancel_reason_buyer_changed_mind",
                "cancel_reason_text": "I ordered the wrong colour.",
                "refund_amount": {"currency": "USD", "refund_total": str(product.price_usd)},
                "cancel_line_items": [{"order_line_item_id": "1", "seller_sku": product.sku, "sku_id": "1"}],
                "seller_next_action_response": [
                    {"action": "SELLER_RESPOND_CANCEL", "deadline": int((opened + timedelta(days=1)).timestamp())}
                ],
            }
        )
        return cancel_id
