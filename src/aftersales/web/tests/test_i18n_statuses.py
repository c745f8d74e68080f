"""The ticket page in zh-Hans shows order, shipment and tracking statuses as Chinese labels, never the
platform's English values (delivered, in_transit, ...). A status no label knows is shown as sent."""

from __future__ import annotations

import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone, translation

from aftersales.catalog.models import OrderStatus, TrackingEvent
from aftersales.testing.factories import OrderFactory, ShipmentFactory

ENGLISH_STATUS_WORDS = re.compile(
    r"\b(delivered|in[_ ]transit|shipped|refunded|picked[_ ]up|info[_ ]received|customs[_ ]hold|"
    r"customs[_ ]cleared|out[_ ]for[_ ]delivery|departed|pending|cancelled)\b",
    re.I,
)


def _visible_text(html: str) -> str:
    """The page's text without tags and attribute values (data-status keeps the raw value)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_order_and_shipment_statuses_are_chinese(world, login):
    order = OrderFactory(store=world.store_us, status=OrderStatus.SHIPPED)
    shipment = ShipmentFactory(order=order, carrier="DHL", tracking_number="JD0001", status="in_transit")
    now = timezone.now()
    for i, status in enumerate(["info_received", "picked_up", "departed", "in_transit", "customs_hold"]):
        TrackingEvent.objects.create(shipment=shipment, at=now - timedelta(hours=10 - i), status=status, location="HK")
    delivered = OrderFactory(store=world.store_us, status="delivered", customer=order.customer)
    ShipmentFactory(order=delivered, carrier="UPS", tracking_number="1Z0002", status="delivered")
    ticket = world.ticket(order=order, customer=order.customer)

    client = login(world.agent)
    client.post(reverse("web:settings_language"), {"language": "zh-hans"})
    html = client.get(reverse("web:ticket", args=[ticket.pk])).content.decode()
    panel = html[html.index('id="order-panel"') : html.index("</section>", html.index('id="order-panel"'))]
    text = _visible_text(panel)
    assert not ENGLISH_STATUS_WORDS.findall(text), ENGLISH_STATUS_WORDS.findall(text)
    for label in ["已发货", "运输中", "已收到物流信息", "已揽收", "已发出", "海关扣留"]:
        assert label in text, label
    assert 'data-status="in_transit"' in panel  # the raw value stays available to scripts and tests


def test_an_unknown_status_is_shown_as_sent():
    order = OrderFactory.build(status="awaiting_pickup_by_buyer")
    assert order.status_label == "awaiting_pickup_by_buyer"
    assert ShipmentFactory.build(status="").status_label == ""
    with translation.override("en"):
        assert ShipmentFactory.build(status="delivered").status_label == "Delivered"
    with translation.override("zh-hans"):
        assert ShipmentFactory.build(status="delivered").status_label == "已签收"
