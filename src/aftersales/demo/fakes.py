"""The demo's local marketplaces: `manage.py fakes` serves the fake eBay, Shopify, Amazon (SP-API
with its LWA token endpoint), 17TRACK, Shopee (Open Platform v2), TikTok Shop, AliExpress and Wish
(demo/aliexpress.py, demo/wish.py) on fixed loopback ports, seeded with plausible demo data (multilingual buyer
messages, orders with lines and tracking numbers, returns, inquiries and cases with respond-by
deadlines), and adds a little new activity every few minutes so that the demo shows stores syncing
over time. `demo --fakes` creates the connected demo stores that point at them.

The fakes and the stores agree on the credentials below: they are the fakes' own demo values,
useless anywhere else (the endpoint override is honoured only for loopback hosts and only when
settings.CHANNELS_ALLOW_ENDPOINT_OVERRIDE is on)."""

from __future__ import annotations

import hashlib
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from aftersales.channels.connectors.amazon.fake import AmazonFake, sample_order, sample_return_row
from aftersales.channels.connectors.ebay.fake import EbayFake, iso
from aftersales.channels.connectors.seventeentrack.fake import FakeSeventeenTrack, event
from aftersales.channels.connectors.shopee.fake import ShopeeFake
from aftersales.channels.connectors.shopify.fake import ShopifyFake

from . import data
from .aliexpress import ALIEXPRESS_SELLER, AliExpressActivity, DemoAliExpress
from .aliexpress import store_credentials as aliexpress_credentials
from .texts import corpus
from .tiktok import TIKTOK_SHOP_ID, DemoTikTok, TikTokActivity
from .tiktok import store_credentials as tiktok_credentials
from .wish import WISH_MERCHANT_ID, DemoWish, WishActivity
from .wish import store_credentials as wish_credentials

DEFAULT_PORT_BASE = 8701
# Port offsets from the base, in this order.
PLATFORMS = ("ebay", "shopify", "amazon", "17track", "shopee", "tiktok", "aliexpress", "wish")
TICK_SECONDS = 120

EBAY_SELLER = "gadgets_de"
EBAY_SIGNING_JWE = "eyJdemo.gadgets-de-signing-key"
AMAZON_SELLER = "A2GADGETSDEMO"
AMAZON_CLIENT_ID = "amzn1.application-oa2-client.demo"
AMAZON_CLIENT_SECRET = "demo-lwa-client-secret"  # noqa: S105 (the local fake's demo value)
AMAZON_REFRESH_TOKEN = "Atzr|demo-refresh-token"  # noqa: S105
SHOPIFY_SHOP = "gadgets-demo.myshopify.com"
SHOPIFY_ACCESS_TOKEN = "shpat_demo_token"  # noqa: S105
SHOPIFY_CLIENT_SECRET = "demo-shopify-client-secret"  # noqa: S105
TRACK_TOKEN = "demo-17token"  # noqa: S105
SHOPEE_PARTNER_ID = 2009001
SHOPEE_PARTNER_KEY = "demo-shopee-partner-key"
SHOPEE_SHOP_ID = 990001
SHOPEE_SELLER_USER_ID = 99000100


@dataclass(frozen=True)
class DemoStoreSpec:
    key: str  # a PLATFORMS entry
    name: str
    platform: str
    site: str
    external_id: str
    language: str
    timezone: str
    currency: str


DEMO_STORES: tuple[DemoStoreSpec, ...] = (
    DemoStoreSpec("ebay", "eBay DE (demo)", "ebay", "ebay.de", EBAY_SELLER, "de", "Europe/Berlin", "EUR"),
    DemoStoreSpec("shopify", "Shopify (demo)", "shopify", SHOPIFY_SHOP, SHOPIFY_SHOP, "en", "Europe/Berlin", "EUR"),
    DemoStoreSpec("amazon", "Amazon US (demo)", "amazon", "amazon.com", AMAZON_SELLER, "en", "America/New_York", "USD"),
    DemoStoreSpec(
        "shopee", "Shopee SG (demo)", "shopee", "shopee.sg", str(SHOPEE_SHOP_ID), "en", "Asia/Singapore", "SGD"
    ),
    DemoStoreSpec(
        "tiktok",
        "TikTok Shop US (demo)",
        "tiktok",
        "shop.tiktok.com/us",
        TIKTOK_SHOP_ID,
        "en",
        "America/Los_Angeles",
        "USD",
    ),
    DemoStoreSpec(
        "aliexpress",
        "AliExpress (demo)",
        "aliexpress",
        "aliexpress.com",
        ALIEXPRESS_SELLER,
        "en",
        "Asia/Shanghai",
        "USD",
    ),
    DemoStoreSpec("wish", "Wish (demo)", "wish", "wish.com", WISH_MERCHANT_ID, "en", "America/Los_Angeles", "USD"),
)


def _ebay_signing_private_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"aftersales demo ebay key").digest())


def ebay_signing_key() -> dict[str, str]:
    """The eBay.de store's digital-signature key (EU sellers sign refunds and return decisions): a
    fixed demo key, registered with the fake under EBAY_SIGNING_JWE."""
    private = _ebay_signing_private_key()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {"private_key": pem, "jwe": EBAY_SIGNING_JWE}


def store_credentials(platform: str) -> dict[str, Any]:
    """What a demo store of `platform` needs to talk to its fake (stored encrypted like any store's)."""
    if platform == "ebay":
        return {
            "client_id": EbayFake.client_id,
            "client_secret": EbayFake.client_secret,
            "refresh_token": EbayFake.refresh_token,
            "verification_token": EbayFake.verification_token,
            "signing_key": ebay_signing_key(),
        }
    if platform == "shopify":
        return {"shop": SHOPIFY_SHOP, "access_token": SHOPIFY_ACCESS_TOKEN, "client_secret": SHOPIFY_CLIENT_SECRET}
    if platform == "amazon":
        return {
            "lwa_client_id": AMAZON_CLIENT_ID,
            "lwa_client_secret": AMAZON_CLIENT_SECRET,
            "refresh_token": AMAZON_REFRESH_TOKEN,
        }
    if platform == "shopee":
        return {
            "partner_id": str(SHOPEE_PARTNER_ID),
            "partner_key": SHOPEE_PARTNER_KEY,
            "shop_id": str(SHOPEE_SHOP_ID),
            "refresh_token": DemoShopee.initial_refresh_token(),
            "dispute_email": "returns@gadgets-demo.example",
        }
    if platform == "tiktok":
        return tiktok_credentials()
    if platform == "aliexpress":
        return aliexpress_credentials()
    if platform == "wish":
        return wish_credentials()
    raise ValueError(f"no demo fake for {platform!r}")


def endpoint_urls(port_base: int, host: str = "127.0.0.1") -> dict[str, str]:
    return {key: f"http://{host}:{port_base + offset}" for offset, key in enumerate(PLATFORMS)}


# --- the buyers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Buyer:
    first: str
    last: str
    language: str
    country: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def username(self) -> str:
        return f"{self.first}_{self.last}".lower().replace(" ", "")


EU_BUYERS = (
    Buyer("Anna", "Schmidt", "de", "DE"),
    Buyer("Lukas", "Becker", "de", "DE"),
    Buyer("Camille", "Dubois", "fr", "FR"),
    Buyer("Giulia", "Romano", "it", "IT"),
    Buyer("Javier", "Garcia", "es", "ES"),
    Buyer("Zofia", "Nowak", "pl", "PL"),
    Buyer("Daan", "de Vries", "nl", "NL"),
    Buyer("Oliver", "Smith", "en", "GB"),
    Buyer("Sophie", "Wagner", "de", "AT"),
    Buyer("Pedro", "Silva", "pt", "PT"),
)
SEA_BUYERS = (  # Shopee Singapore's buyers write in English or Chinese
    Buyer("Wei Ming", "Tan", "en", "SG"),
    Buyer("Mei Ling", "Lim", "zh", "SG"),
    Buyer("Nur", "Aisyah", "en", "SG"),
    Buyer("Jun Jie", "Ong", "zh", "SG"),
    Buyer("Priya", "Nair", "en", "SG"),
    Buyer("Jose", "Reyes", "en", "SG"),
)
SHOPEE_RETURN_REASONS = ("ITEM_DAMAGED", "NOT_RECEIPT", "DIFFERENT_DESCRIPTION", "ITEM_MISSING", "CHANGE_OF_MIND")
US_BUYERS = (
    Buyer("Emily", "Johnson", "en", "US"),
    Buyer("Michael", "Brown", "en", "US"),
    Buyer("Maria", "Hernandez", "es", "US"),
    Buyer("Wei", "Chen", "zh", "US"),
    Buyer("Yuki", "Tanaka", "ja", "US"),
    Buyer("Ji-woo", "Kim", "ko", "US"),
)
MESSAGE_CATEGORIES = ("not_received", "quality_issue", "usage_question", "size_mismatch", "refund", "return")
EBAY_RETURN_REASONS = ("DEFECTIVE_ITEM", "NOT_AS_DESCRIBED", "MISSING_PARTS", "WRONG_ITEM", "NO_LONGER_NEED_ITEM")
RETURN_NOTES = {
    "de": "Das Gerät lädt nicht mehr, bitte um Erstattung.",
    "fr": "L'appareil ne s'allume plus, je souhaite un remboursement.",
    "it": "Il prodotto è arrivato danneggiato, vorrei il rimborso.",
    "es": "El producto no funciona, quiero devolverlo.",
    "pl": "Produkt nie działa, proszę o zwrot pieniędzy.",
    "nl": "Het apparaat werkt niet meer, graag mijn geld terug.",
    "en": "It stopped working after two days.",
    "pt": "O produto chegou avariado, quero o reembolso.",
}


def _base36(value: int, width: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    text = ""
    while value:
        value, rest = divmod(value, 36)
        text = digits[rest] + text
    return text.rjust(width, "0")


def _fill(template: str, values: dict[str, str]) -> str:
    return template.format_map(defaultdict(str, values))


TRACK_STEPS = (  # (17TRACK status, sub-status, description, location)
    ("InfoReceived", "InfoReceived", "Shipment information received", "Shenzhen, CN"),
    ("InTransit", "InTransit_PickedUp", "Picked up by the carrier", "Shenzhen, CN"),
    ("InTransit", "InTransit_Other", "Departed the international sorting centre", "Hong Kong, HK"),
    ("Delivered", "Delivered_Other", "Delivered", ""),
)


def track_events(stage: int, now: datetime) -> list[dict[str, Any]]:
    """The first `stage` TRACK_STEPS as 17TRACK events, newest first, nine hours apart."""
    return [
        event(
            (now - timedelta(hours=(stage - 1 - i) * 9)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            TRACK_STEPS[i][2],
            sub_status=TRACK_STEPS[i][1],
            location=TRACK_STEPS[i][3],
        )
        for i in range(stage)
    ][::-1]


class DemoSeventeenTrack(FakeSeventeenTrack):
    """The fake 17TRACK whose parcels have their first scans as soon as they are registered."""

    def _register(self, number: str, item: dict[str, Any]) -> dict[str, Any]:
        outcome = super()._register(number, item)
        if "error" not in outcome:
            parcel = self.parcels[number]
            parcel.main_status, parcel.sub_status = TRACK_STEPS[1][0], TRACK_STEPS[1][1]
            parcel.events = track_events(2, datetime.now(UTC))
        return outcome


class DemoShopee(ShopeeFake):
    """The fake Shopee of the demo, with tokens that outlive a restart of `manage.py fakes`: each is
    signed with the partner key (and carries its expiry), so a demo store's rotated refresh token
    from an earlier run is still honoured; Shopee itself keeps them server-side."""

    def __init__(self) -> None:
        super().__init__(
            partner_id=SHOPEE_PARTNER_ID,
            partner_key=SHOPEE_PARTNER_KEY,
            shop_id=SHOPEE_SHOP_ID,
            shop_name="Gadgets SG (demo)",
        )
        self.refresh_token = self.initial_refresh_token()

    @staticmethod
    def _stamp(kind: str, value: str) -> str:
        return hashlib.sha256(f"{SHOPEE_PARTNER_KEY}:{kind}:{value}".encode()).hexdigest()[:20]

    @classmethod
    def initial_refresh_token(cls) -> str:
        return f"rt-demo-{cls._stamp('rt', 'demo')}"

    def _new_refresh(self) -> str:
        serial = uuid.uuid4().hex[:10]
        return f"rt-{serial}-{self._stamp('rt', serial)}"

    def new_access_token(self, seconds: int = 14400) -> str:
        expires = int(self.clock()) + seconds
        return f"at-{expires}-{self._stamp('at', str(expires))}"

    def refresh_token_valid(self, token: str) -> bool:
        _prefix, _, rest = token.partition("-")
        serial, _, stamp = rest.rpartition("-")
        return _prefix == "rt" and bool(serial) and stamp == self._stamp("rt", serial)

    def access_token_expiry(self, token: str) -> float | None:
        _prefix, _, rest = token.partition("-")
        expires, _, stamp = rest.partition("-")
        if _prefix != "at" or not expires.isdigit() or stamp != self._stamp("at", expires):
            return None
        return float(expires)


class DemoFakes:
    """The four fakes of the demo, their seed data and their periodic new activity."""

    def __init__(self, *, seed: int = 1) -> None:
        self.ebay = EbayFake(seller=EBAY_SELLER)
        self.shopify = ShopifyFake(
            access_token=SHOPIFY_ACCESS_TOKEN, shop=SHOPIFY_SHOP, client_secret=SHOPIFY_CLIENT_SECRET
        )
        self.amazon = AmazonFake(
            client_id=AMAZON_CLIENT_ID,
            client_secret=AMAZON_CLIENT_SECRET,
            refresh_token=AMAZON_REFRESH_TOKEN,
            seller_id=AMAZON_SELLER,
        )
        self.track = DemoSeventeenTrack(TRACK_TOKEN, quota=10_000)
        self.shopee = DemoShopee()
        self.tiktok = DemoTikTok()
        self.aliexpress = DemoAliExpress()
        self.wish = DemoWish()
        self.ebay.signing_keys[EBAY_SIGNING_JWE] = _ebay_signing_private_key().public_key()
        self.random = random.Random(seed)  # noqa: S311 (demo content, not secrets)
        self.shopee_random = random.Random(seed + 1)  # noqa: S311 (its own: the others' sequences stay as they were)
        self.tiktok_activity = TikTokActivity(self.tiktok, buyers=US_BUYERS, text=self._buyer_text, seed=seed + 2)
        self.aliexpress_activity = AliExpressActivity(
            self.aliexpress, buyers=EU_BUYERS, text=self._buyer_text, seed=seed + 3
        )
        self.wish_activity = WishActivity(self.wish, buyers=US_BUYERS, text=self._buyer_text, seed=seed + 4)
        self.ticks = 0
        self._counter = 0
        self._ebay_orders: list[tuple[str, Buyer, data.ProductSpec]] = []
        self._shopify_orders: list[str] = []
        self._shopee_orders: list[tuple[str, int, Buyer, data.ProductSpec]] = []

    @property
    def servers(self) -> dict[str, Any]:
        return {
            "ebay": self.ebay,
            "shopify": self.shopify,
            "amazon": self.amazon,
            "17track": self.track,
            "shopee": self.shopee,
            "tiktok": self.tiktok,
            "aliexpress": self.aliexpress,
            "wish": self.wish,
        }

    def start(self, port_base: int = 0) -> DemoFakes:
        """Serve on 127.0.0.1: ports port_base, +1, ... (PLATFORMS order), or random ones with 0."""
        started = []
        try:
            for offset, key in enumerate(PLATFORMS):
                self.servers[key].start(port_base + offset if port_base else 0)
                started.append(key)
        except OSError:
            for key in started:
                self.servers[key].stop()
            raise
        return self

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()

    @property
    def urls(self) -> dict[str, str]:
        return {key: server.url for key, server in self.servers.items()}

    # -- seed -----------------------------------------------------------------------------------
    def seed(self, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        for n in range(14):
            created = now - timedelta(hours=60 - n * 4)
            order_id, buyer, product = self._ebay_order(created, EU_BUYERS[n % len(EU_BUYERS)])
            if n % 2 == 0:
                self._ebay_conversation(order_id, buyer, product, created + timedelta(hours=2))
            if n % 4 == 1:
                self._ebay_return(order_id, buyer, product, created + timedelta(hours=3))
        # an item-not-received inquiry and an escalated case, both awaiting the seller
        for kind, (order_id, buyer, product) in (
            ("inquiry", self._ebay_orders[3]),
            ("case", self._ebay_orders[7]),
        ):
            self._ebay_dispute(kind, order_id, buyer, product, now - timedelta(hours=20 if kind == "inquiry" else 6))
        for n in range(8):
            self._shopify_order(now - timedelta(hours=50 - n * 5), EU_BUYERS[(n + 3) % len(EU_BUYERS)], n)
        for legacy in self._shopify_orders[1:7:2]:
            self._shopify_return(legacy)
        for n in range(8):
            self._amazon_order(now - timedelta(hours=40 - n * 4), US_BUYERS[n % len(US_BUYERS)], with_return=n % 3 == 0)
        for n in range(10):
            created = now - timedelta(hours=50 - n * 4)
            order_sn, user_id, buyer, product = self._shopee_order(created, SEA_BUYERS[n % len(SEA_BUYERS)])
            if n % 2 == 0:
                self._shopee_chat(order_sn, user_id, buyer, product, created + timedelta(hours=1))
            if n % 3 == 1:
                self._shopee_return(order_sn, buyer, product, created + timedelta(hours=3))
        self.tiktok_activity.seed(now)
        self.aliexpress_activity.seed(now)
        self.wish_activity.seed(now)

    # -- new activity ---------------------------------------------------------------------------
    def tick(self, now: datetime | None = None) -> list[str]:
        """What happens on the marketplaces between two syncs: a new eBay buyer message (and the
        order behind it), buyers thanking the seller for a reply, now and then a new return on each
        platform, and parcels moving. Returns a line per change (for the command's log)."""
        now = now or datetime.now(UTC)
        self.ticks += 1
        done: list[str] = []
        buyer = EU_BUYERS[self.random.randrange(len(EU_BUYERS))]
        order_id, buyer, product = self._ebay_order(now - timedelta(days=3), buyer, modified=now)
        self._ebay_conversation(order_id, buyer, product, now)
        done.append(f"ebay: message from {buyer.username} ({buyer.language}) about {order_id}")
        done.extend(self._ebay_thanks(now))
        if self.ticks % 2 == 0:
            order_id, buyer, product = self._ebay_orders[self.random.randrange(len(self._ebay_orders))]
            return_id = self._ebay_return(order_id, buyer, product, now)
            done.append(f"ebay: return {return_id} on {order_id}")
        if self.ticks % 3 == 0:
            legacy = self._shopify_order(now - timedelta(days=2), EU_BUYERS[self.random.randrange(len(EU_BUYERS))])
            self._shopify_return(legacy)
            done.append(f"shopify: return on order #{legacy}")
        if self.ticks % 4 == 0:
            order_id = self._amazon_order(now, US_BUYERS[self.random.randrange(len(US_BUYERS))], with_return=True)
            done.append(f"amazon: order {order_id} with a return")
        if self.ticks % 2 == 1:
            buyer = SEA_BUYERS[self.shopee_random.randrange(len(SEA_BUYERS))]
            order_sn, user_id, buyer, product = self._shopee_order(now - timedelta(days=2), buyer, updated=now)
            self._shopee_chat(order_sn, user_id, buyer, product, now)
            done.append(f"shopee: chat from {buyer.username} ({buyer.language}) about {order_sn}")
        if self.ticks % 3 == 2 and self._shopee_orders:
            pick = self.shopee_random.randrange(len(self._shopee_orders))
            order_sn, _user_id, buyer, product = self._shopee_orders[pick]
            done.append(f"shopee: return {self._shopee_return(order_sn, buyer, product, now)} on {order_sn}")
        done.extend(self.tiktok_activity.tick(now, self.ticks))
        done.extend(self.aliexpress_activity.tick(now, self.ticks))
        done.extend(self.wish_activity.tick(now, self.ticks))
        done.extend(self.advance_parcels(now))
        return done

    def advance_parcels(self, now: datetime | None = None) -> list[str]:
        """17TRACK's side: registered parcels get their first scans, then move towards delivery."""
        now = now or datetime.now(UTC)
        moved = []
        with self.track.lock:
            parcels = list(self.track.parcels.values())
        for parcel in parcels:
            stage = len(parcel.events)
            if stage >= len(TRACK_STEPS) or (stage and self.random.random() < 0.5):
                continue
            target = max(stage + 1, 2)
            status, sub_status = TRACK_STEPS[target - 1][:2]
            self.track.set_tracking(parcel.number, status, sub_status, track_events(target, now))
            moved.append(f"17track: {parcel.number} {sub_status}")
        return moved

    # -- eBay -----------------------------------------------------------------------------------
    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def _product(self, rng: random.Random | None = None) -> data.ProductSpec:
        return data.PRODUCTS[(rng or self.random).randrange(len(data.PRODUCTS))]

    def _ebay_order(
        self, created: datetime, buyer: Buyer, *, modified: datetime | None = None
    ) -> tuple[str, Buyer, data.ProductSpec]:
        n = self._next()
        product = self._product()
        order_id = f"23-{11800 + n:05d}-{(n * 7919) % 100000:05d}"
        price = (product.price_usd * Decimal("0.92")).quantize(Decimal("0.01"))
        modified = modified or created + timedelta(minutes=30)
        self.ebay.add_order(
            {
                "orderId": order_id,
                "creationDate": iso(created),
                "lastModifiedDate": iso(modified),
                "orderFulfillmentStatus": "FULFILLED" if n % 3 else "IN_PROGRESS",
                "orderPaymentStatus": "PAID",
                "cancelStatus": {"cancelState": "NONE_REQUESTED"},
                "buyer": {"username": buyer.username, "taxAddress": {"countryCode": buyer.country}},
                "pricingSummary": {"total": {"value": str(price), "currency": "EUR"}},
                "paymentSummary": {"refunds": []},
                "fulfillmentStartInstructions": [
                    {
                        "shippingStep": {
                            "shipTo": {"fullName": buyer.name, "contactAddress": {"countryCode": buyer.country}}
                        }
                    }
                ],
                "lineItems": [
                    {
                        "lineItemId": f"10{n:012d}",
                        "legacyItemId": f"3{(n * 104729) % 10**11:011d}",
                        "sku": product.sku,
                        "title": product.title,
                        "quantity": 1,
                        "lineItemCost": {"value": str(price), "currency": "EUR"},
                    }
                ],
            }
        )
        self._ebay_orders.append((order_id, buyer, product))
        return order_id, buyer, product

    def _buyer_text(
        self, order_id: str, buyer: Buyer, product: data.ProductSpec, rng: random.Random | None = None
    ) -> tuple[str, str]:
        """A buyer's question about an order in their language: (subject, body)."""
        texts = corpus(buyer.language)
        rng = rng or self.random
        category = MESSAGE_CATEGORIES[rng.randrange(len(MESSAGE_CATEGORIES))]
        templates = texts.customer[category]
        template = templates[rng.randrange(len(templates))]
        values = {
            "order": order_id,
            "sku": product.sku,
            "product": product.title,
            "first_name": buyer.first,
            "last_name": buyer.last,
            "customer_name": buyer.name,
            "days": "12",
            "tracking": f"JJD00149{(self._counter * 7919) % 10**10:010d}",
            "carrier": "DHL",
            "amount": "",
            "size": "M",
            "size_wanted": "L",
            "warranty": "12",
        }
        body = "\n\n".join(
            (
                texts.greetings[rng.randrange(len(texts.greetings))],
                _fill(template.body, values),
                _fill(texts.closings[rng.randrange(len(texts.closings))], values),
            )
        )
        return _fill(template.subject, values), body

    def _ebay_conversation(self, order_id: str, buyer: Buyer, product: data.ProductSpec, when: datetime) -> None:
        subject, body = self._buyer_text(order_id, buyer, product)
        n = self._next()
        self.ebay.add_conversation(
            {
                "conversationId": f"C-{4400000 + n}",
                "conversationStatus": "ACTIVE",
                "conversationType": "FROM_MEMBERS",
                "conversationTitle": subject[:200],
                "createdDate": iso(when),
                "referenceId": order_id,
                "referenceType": "ORDER",
                "unreadCount": 1,
            },
            [
                {
                    "messageId": f"M-{4400000 + n}",
                    "messageBody": body[:2000],
                    "senderUsername": buyer.username,
                    "recipientUsername": EBAY_SELLER,
                    "createdDate": iso(when),
                    "readStatus": False,
                }
            ],
        )

    def _ebay_thanks(self, now: datetime) -> list[str]:
        """A buyer whose conversation ends with the seller's reply answers with thanks."""
        done = []
        with self.ebay.lock:
            for conversation in self.ebay.conversations.values():
                messages = conversation["messages"]
                if not messages or messages[-1]["senderUsername"] != EBAY_SELLER:
                    continue
                buyer_name = messages[-1]["recipientUsername"]
                buyer = next((b for b in EU_BUYERS if b.username == buyer_name), EU_BUYERS[-3])
                thanks = corpus(buyer.language).thanks
                messages.append(
                    {
                        "messageId": f"M-{4400000 + self._next()}",
                        "messageBody": thanks[self.random.randrange(len(thanks))],
                        "senderUsername": buyer_name,
                        "recipientUsername": EBAY_SELLER,
                        "createdDate": iso(now),
                        "readStatus": False,
                    }
                )
                done.append(f"ebay: {buyer_name} thanked for the reply in {conversation['conversationId']}")
        return done

    def _ebay_return(self, order_id: str, buyer: Buyer, product: data.ProductSpec, opened: datetime) -> str:
        n = self._next()
        return_id = f"53{n:08d}"
        price = (product.price_usd * Decimal("0.92")).quantize(Decimal("0.01"))
        self.ebay.add_return(
            {
                "returnId": return_id,
                "orderId": order_id,
                "buyerLoginName": buyer.username,
                "sellerLoginName": EBAY_SELLER,
                "currentType": "MONEY_BACK",
                "state": "RETURN_REQUESTED",
                "status": "RETURN_REQUESTED",
                "creationInfo": {
                    "item": {"itemId": f"3{n:011d}", "transactionId": f"4{n:010d}", "returnQuantity": 1},
                    "type": "MONEY_BACK",
                    "reason": EBAY_RETURN_REASONS[n % len(EBAY_RETURN_REASONS)],
                    "comments": {"content": RETURN_NOTES.get(buyer.language, RETURN_NOTES["en"])},
                    "creationDate": {"value": iso(opened)},
                },
                "sellerTotalRefund": {"estimatedRefundAmount": {"value": str(price), "currency": "EUR"}},
                "sellerResponseDue": {
                    "activityDue": "SELLER_APPROVE_REQUEST",
                    "respondByDate": {"value": iso(opened + timedelta(days=3))},
                },
            }
        )
        return return_id

    def _ebay_dispute(
        self, kind: str, order_id: str, buyer: Buyer, product: data.ProductSpec, opened: datetime
    ) -> None:
        n = self._next()
        price = (product.price_usd * Decimal("0.92")).quantize(Decimal("0.01"))
        item = {
            "itemId": f"3{n:011d}",
            "transactionId": f"4{n:010d}",
            "orderId": order_id,
            "buyer": buyer.username,
            "claimAmount": {"value": str(price), "currency": "EUR"},
            "creationDate": {"value": iso(opened)},
            "lastModifiedDate": {"value": iso(opened)},
            "respondByDate": {"value": iso(opened + timedelta(days=3 if kind == "inquiry" else 2))},
        }
        if kind == "inquiry":
            self.ebay.add_inquiry({"inquiryId": f"57{n:08d}", "inquiryStatusEnum": "WAITING_SELLER_RESPONSE", **item})
        else:
            self.ebay.add_case({"caseId": f"51{n:08d}", "caseStatusEnum": "WAITING_SELLER_RESPONSE", **item})

    # -- Shopify --------------------------------------------------------------------------------
    def _shopify_order(self, created: datetime, buyer: Buyer, n: int | None = None) -> str:
        products = [self._product() for _ in range(1 + (self._next() % 2))]
        order = self.shopify.add_order(
            lines=[(p.sku, 1, str((p.price_usd * Decimal("0.92")).quantize(Decimal("0.01")))) for p in products],
            currency="EUR",
            email=f"{buyer.username.replace('_', '.')}@mail.example",
            customer_name=buyer.name,
            country=buyer.country,
            locale=buyer.language,
            created_at=created,
        )
        legacy = order["legacyResourceId"]
        number = f"JJD{1490000000000000 + self._next() * 7919:016d}"  # DHL parcel numbers
        self.shopify.add_fulfillment(legacy, company="DHL", number=number)
        self._shopify_orders.append(legacy)
        return str(legacy)

    def _shopify_return(self, legacy: str) -> None:
        order = self.shopify.orders[legacy]
        language = order.get("customerLocale") or "en"
        self.shopify.add_return(legacy, reason="DEFECTIVE", note=RETURN_NOTES.get(language, RETURN_NOTES["en"]))

    # -- Amazon ---------------------------------------------------------------------------------
    def _amazon_order(self, updated: datetime, buyer: Buyer, *, with_return: bool = False) -> str:
        n = self._next()
        order_id = f"114-{3000000 + n * 7:07d}-{(n * 104729) % 10**7:07d}"
        products = [self._product() for _ in range(1 + n % 2)]
        order = sample_order(
            order_id,
            updated=updated,
            status="SHIPPED",
            buyer_email=f"{order_id[-7:]}x{n}@marketplace.amazon.com",
            items=[(f"{n:06d}{i:08d}", p.sku, 1, f"{p.price_usd:.2f}") for i, p in enumerate(products)],
        )
        order["buyer"]["buyerName"] = buyer.name
        order["recipient"]["deliveryAddress"]["name"] = buyer.name
        for i, product in enumerate(products):
            order["orderItems"][i]["product"]["title"] = product.title
        order["packages"] = [
            {
                "packageReferenceId": "1",
                "carrier": "UPS",
                "trackingNumber": f"1Z999AA1{n:010d}",
                "shipTime": (updated - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "packageStatus": {"status": "IN_TRANSIT"},
            }
        ]
        self.amazon.add_order(order)
        if with_return:
            row = sample_return_row(
                order_id, rma=f"D{n:06d}RMA", sku=products[0].sku, requested=updated, status="Approved"
            )
            row["Item Name"] = products[0].title
            row["Order Amount"] = f"{products[0].price_usd:.2f}"
            with self.amazon.lock:
                self.amazon.returns.append(row)
        return order_id

    # -- Shopee ---------------------------------------------------------------------------------
    def _shopee_order(
        self, created: datetime, buyer: Buyer, *, updated: datetime | None = None
    ) -> tuple[str, int, Buyer, data.ProductSpec]:
        n = self._next()
        product = self._product(self.shopee_random)
        order_sn = f"{created:%y%m%d}{_base36((n * 2654435761) % 36**8, 8)}"  # Shopee's YYMMDD + 8
        user_id = 310000000 + SEA_BUYERS.index(buyer) if buyer in SEA_BUYERS else 310000000 + n
        price = (product.price_usd * Decimal("1.35")).quantize(Decimal("0.01"))  # SGD
        updated = updated or created + timedelta(hours=2)
        self.shopee.add_order(
            {
                "order_sn": order_sn,
                "region": "SG",
                "currency": "SGD",
                "cod": False,
                "total_amount": float(price),
                "order_status": ("COMPLETED", "SHIPPED", "READY_TO_SHIP", "TO_CONFIRM_RECEIVE")[n % 4],
                "create_time": int(created.timestamp()),
                "update_time": int(updated.timestamp()),
                "buyer_user_id": user_id,
                "buyer_username": buyer.username,
                "recipient_address": {"name": buyer.name[0] + "******" + buyer.name[-1], "region": "SG"},
                "item_list": [
                    {
                        "item_id": 2300000000 + n,
                        "item_name": product.title,
                        "item_sku": product.sku,
                        "model_id": 0,
                        "model_name": "",
                        "model_sku": "",
                        "model_quantity_purchased": 1,
                        "model_original_price": float(price),
                        "model_discounted_price": float(price),
                    }
                ],
            }
        )
        self._shopee_orders.append((order_sn, user_id, buyer, product))
        return order_sn, user_id, buyer, product

    def _shopee_chat(
        self, order_sn: str, user_id: int, buyer: Buyer, product: data.ProductSpec, when: datetime
    ) -> None:
        _subject, body = self._buyer_text(order_sn, buyer, product, self.shopee_random)
        conversation_id = str(118800000000000000 + user_id)
        with self.shopee.lock:
            known = conversation_id in self.shopee.conversations
        conversation = {
            "conversation_id": conversation_id,
            "to_id": user_id,
            "to_name": buyer.username,
            "shop_id": SHOPEE_SHOP_ID,
            "unread_count": 1,
            "pinned": False,
        }
        message = {
            "message_id": str(2097800000000000000 + self._next()),
            "message_type": "text",
            "from_id": user_id,
            "from_shop_id": 0,
            "to_id": SHOPEE_SELLER_USER_ID,
            "to_shop_id": SHOPEE_SHOP_ID,
            "conversation_id": conversation_id,
            "created_timestamp": int(when.timestamp()),
            "region": "SG",
            "status": "normal",
            "source": "app",
            "content": {"text": body[:1000]},
            "source_content": {"order_sn": order_sn},
        }
        if known:
            self.shopee.add_message(conversation_id, message)
        else:
            self.shopee.add_conversation(conversation, [message])

    def _shopee_return(self, order_sn: str, buyer: Buyer, product: data.ProductSpec, opened: datetime) -> str:
        n = self._next()
        return_sn = f"{opened:%y%m%d}{_base36((n * 40503) % 36**9, 9)}"
        price = (product.price_usd * Decimal("1.35")).quantize(Decimal("0.01"))
        self.shopee.add_return(
            {
                "return_sn": return_sn,
                "order_sn": order_sn,
                "status": "REQUESTED",
                "reason": SHOPEE_RETURN_REASONS[n % len(SHOPEE_RETURN_REASONS)],
                "text_reason": RETURN_NOTES.get(buyer.language, RETURN_NOTES["en"]),
                "refund_amount": float(price),
                "currency": "SGD",
                "create_time": int(opened.timestamp()),
                "update_time": int(opened.timestamp()),
                "due_date": int((opened + timedelta(days=3)).timestamp()),
                "return_seller_due_date": int((opened + timedelta(days=2)).timestamp()),
                "needs_logistics": n % 2 == 0,
                "user": {"username": buyer.username, "email": "", "portrait": ""},
                "item": [
                    {
                        "item_id": 2300000000 + n,
                        "model_id": 0,
                        "name": product.title,
                        "amount": 1,
                        "item_price": float(price),
                        "item_sku": product.sku,
                        "variation_sku": "",
                    }
                ],
            }
        )
        return return_sn
