"""Orders behind tickets: order numbers in each platform's format, lines priced in the store's
currency, a shipment with a carrier tracking number and its scan events."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from aftersales.catalog.models import Order, OrderLine, Shipment, TrackingEvent

from . import data
from .customers import Buyer
from .world import ProductRef, StoreRef
from .writer import BulkTable, IdAllocator, money

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# Where parcels enter each destination country (customs / import hub).
IMPORT_HUBS = {
    "US": "Los Angeles, US", "GB": "London Heathrow, GB", "CA": "Toronto, CA", "DE": "Frankfurt, DE",
    "FR": "Roissy CDG, FR", "ES": "Madrid, ES", "IT": "Milano Malpensa, IT", "NL": "Amsterdam Schiphol, NL",
    "PL": "Warszawa, PL", "BR": "Curitiba, BR", "PT": "Lisboa, PT", "MX": "Ciudad de México, MX",
    "JP": "Tokyo Narita, JP", "KR": "Incheon, KR", "SA": "Riyadh, SA", "AE": "Dubai, AE", "SG": "Singapore, SG",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class OrderInfo:
    id: int
    external_id: str
    product: ProductRef
    total: Decimal
    currency: str
    total_usd: Decimal
    carrier: str
    tracking: str
    placed_at: datetime
    size: str
    size_wanted: str


def order_number(rng: random.Random, platform: str, site: str, index: int, placed: datetime) -> str:
    if platform == "amazon":
        prefix = "3" + str(rng.randrange(2, 6)) if site == "amazon.de" else "11" + str(rng.randrange(1, 5))
        return f"{prefix}-{index % 10_000_000:07d}-{rng.randrange(10_000_000):07d}"
    if platform == "ebay":
        return f"{rng.randrange(10, 28)}-{index // 100_000:05d}-{index % 100_000:05d}"
    if platform == "shopee":
        return placed.strftime("%y%m%d") + f"{index:08d}"[-8:] + "".join(rng.choices("ABCDEFGHJKMNPQRSTUVWXYZ", k=2))
    if platform == "aliexpress":
        return f"81{rng.randrange(100, 999)}{index:011d}"
    if platform == "tiktok":
        return f"57{rng.randrange(1000, 9999)}{index:012d}"
    if platform == "shopify":
        return f"#SZG{1001 + index}"
    return f"SZG-E-{10001 + index}"


def tracking_number(rng: random.Random, carrier: str, index: int) -> str:
    if carrier == "UPS":
        return f"1Z{rng.randrange(16**6):06X}{rng.randrange(100):02d}{index:08d}"
    if carrier == "USPS":
        return f"9400{rng.randrange(10**9, 10**10)}{index:08d}"
    if carrier == "DHL":
        return f"{rng.randrange(10, 99)}{index:08d}"
    if carrier == "DPD":
        return f"0{rng.randrange(1000, 9999)}{index:09d}"
    if carrier == "Yun Express":
        return f"YT{rng.randrange(2400, 2499)}{index:012d}"
    if carrier == "Yanwen":
        return f"UG{index:09d}YP"
    if carrier == "4PX":
        return f"4PX{rng.randrange(3000, 3999)}{index:010d}CN"
    if carrier == "Cainiao":
        return f"LP00{rng.randrange(100, 999)}{index:09d}"
    if carrier == "Correios":
        return f"N{'ABCDEFGHKLMNPQRSTUVWXY'[index % 22]}{index % 10**9:09d}BR"
    if carrier == "J&T Express":
        return f"JT{rng.randrange(1000, 9999)}{index:09d}"
    if carrier == "Ninja Van":
        return f"NVSGSZG{index:010d}"
    return f"RM{index:09d}GB"


def _price(usd: Decimal, currency: str) -> Decimal:
    value = usd * data.FX[currency]
    return money(value.to_integral_value() - Decimal("0.01")) if value > 1 else money(value)


class OrderMaker:
    def __init__(self, *, rng: random.Random, org_id: int, products: tuple[ProductRef, ...]) -> None:
        self.rng = rng
        self.org_id = org_id
        self.products = products

    def make(
        self,
        *,
        index: int,
        store: StoreRef,
        buyer: Buyer,
        product: ProductRef,
        category: str,
        placed: datetime,
        ticket_at: datetime,
        ids: IdAllocator,
        tables: dict[str, BulkTable],
    ) -> OrderInfo:
        rng = self.rng
        spec = store.spec
        order_id = ids.take(Order)
        external = order_number(rng, spec.platform, spec.site, index, placed)
        lines = [(product, 1 if rng.random() < 0.9 else 2)]
        if rng.random() < 0.18:
            extra = self.products[rng.randrange(len(self.products))]
            if extra.id != product.id:
                lines.append((extra, 1))
        total = Decimal("0")
        for item, quantity in lines:
            unit = _price(item.spec.price_usd, spec.currency)
            total += unit * quantity
            tables["lines"].add(
                (
                    ids.take(OrderLine),
                    order_id,
                    item.id,
                    item.spec.sku,
                    item.spec.title,
                    quantity,
                    unit,
                    spec.currency,
                    "",
                )
            )
        in_transit = category in ("not_received", "logistics")
        status = (
            "shipped" if in_transit else ("refunded" if category == "refund" and rng.random() < 0.5 else "delivered")
        )
        tables["orders"].add_named(
            {
                "id": order_id, "created_at": placed, "updated_at": ticket_at, "organization_id": self.org_id,
                "store_id": store.id, "external_id": external, "customer_id": buyer.id, "placed_at": placed,
                "status": status, "total_amount": total, "currency": spec.currency,
                "ship_country": buyer.country.code,
            }
        )  # fmt: skip
        carrier = spec.carriers[rng.randrange(len(spec.carriers))]
        tracking = tracking_number(rng, carrier, index)
        self._shipment(order_id, carrier, tracking, placed, ticket_at, buyer, category, in_transit, ids, tables)
        size = size_wanted = ""
        if product.spec.category in ("apparel", "shoes"):
            sizes = data.APPAREL_SIZES if product.spec.category == "apparel" else data.SHOE_SIZES
            k = rng.randrange(len(sizes) - 1)
            size, size_wanted = sizes[k], sizes[k + 1]
        total_usd = money(total / data.FX[spec.currency])
        return OrderInfo(
            order_id, external, product, total, spec.currency, total_usd, carrier, tracking, placed, size, size_wanted
        )

    def _shipment(
        self,
        order_id: int,
        carrier: str,
        tracking: str,
        placed: datetime,
        ticket_at: datetime,
        buyer: Buyer,
        category: str,
        in_transit: bool,
        ids: IdAllocator,
        tables: dict[str, BulkTable],
    ) -> None:
        rng = self.rng
        shipped = placed + DAY * (0.5 + rng.random() * 2)
        if shipped >= ticket_at:
            shipped = placed + (ticket_at - placed) / 3
        hub = IMPORT_HUBS[buyer.country.code]
        city = buyer.country.cities[rng.randrange(len(buyer.country.cities))]
        steps = [
            ("info_received", "Shenzhen, CN", f"Shipment information received by {carrier}"),
            ("picked_up", "Shenzhen, CN", "Picked up"),
            ("in_transit", "Hong Kong, HK", "Departed from origin facility"),
            ("in_transit", hub, "Arrived in destination country"),
        ]
        if in_transit and (category == "logistics" or rng.random() < 0.3):
            status = "customs_hold"
            steps.append(("customs_hold", hub, "Held by customs: documents or duty payment required"))
        elif in_transit:
            status = "in_transit"
            steps = steps[: rng.randint(2, 4)]
        else:
            status = "delivered"
            steps.append(("customs_cleared", hub, "Customs clearance completed"))
            steps.append(("out_for_delivery", city, "Out for delivery"))
            steps.append(("delivered", city, "Delivered"))
        span = (ticket_at - shipped) * (0.9 if not in_transit else 0.6)
        shipment_id = ids.take(Shipment)
        at = last = shipped
        step_gap = span / len(steps)
        for kind, location, description in steps:
            tables["tracking"].add((ids.take(TrackingEvent), shipment_id, at, kind, location, description))
            last = at
            at = at + step_gap * (0.5 + rng.random() * 0.5)
        delivered = last if status == "delivered" else None
        tables["shipments"].add((shipment_id, shipped, last, order_id, carrier, tracking, status, shipped, delivered))
