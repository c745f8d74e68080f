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


def test_service_errors_speak_chinese_with_chinese_field_names(world):
    """The messages named in the issue, raised by the services under zh-Hans: no English left."""
    from aftersales.core.errors import DomainError
    from aftersales.core.validation import FIELD_LABELS
    from aftersales.inbox.services import ticket_reply
    from aftersales.inbox.services.tickets import tickets_bulk_apply

    ticket = world.ticket()
    with translation.override("zh-hans"):
        for call in (
            lambda: ticket_reply(ticket=ticket, author=world.agent, body="   "),
            lambda: tickets_bulk_apply(actor=world.agent, ticket_ids=[], action="assign", value="me"),
        ):
            try:
                call()
            except DomainError as error:
                message = str(error.message)
            else:  # pragma: no cover - the call must fail
                raise AssertionError("no error")
            assert not re.search(r"[A-Za-z]{3,}", message), message
        untranslated = [key for key, label in FIELD_LABELS.items() if re.search(r"[A-Za-z]", str(label))]
        assert not untranslated, untranslated
