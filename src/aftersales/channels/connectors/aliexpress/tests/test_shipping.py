"""Mark shipped on AliExpress (issue 12): aliexpress.solution.order.fulfill on the signed /sync
gateway with service_name (AliExpress's logistics service key), out_ref (the order), send_type
(all, or part when lines are given) and logistics_no (the tracking number). The agent's action on the
order's ticket records the shipment and, after the commit, sends exactly that signed form once; a
second click is answered by the ledger; AliExpress's refusal (result_success false: an unknown
service, an order already shipped) is shown with its words and not resent; the carrier "other"
(AliExpress then needs a tracking website) is refused before any call. Real HTTP against the fake,
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import pytest

from aftersales.catalog.models import Store
from aftersales.channels.base import ConnectorError, ShipmentConfirmation, Stream
from aftersales.channels.connectors.aliexpress.client import sign
from aftersales.channels.connectors.aliexpress.fake import AliExpressFake
from aftersales.channels.context import store_context
from aftersales.channels.models import WriteBack, WriteBackStatus
from aftersales.channels.registry import get_connector
from aftersales.channels.sync import sync_stream
from aftersales.testing.acceptance import fake_store, mark_shipped_from_ticket

from .conftest import load, pacific_ago

ORDER_ID = "8190123456789012"
NUMBER = "LP00123456789012"
FULFIL = "aliexpress.solution.order.fulfill"


@pytest.fixture
def store(db: Any, fake: AliExpressFake) -> Store:
    order = load("order.json")
    order["gmt_create"], order["gmt_update"] = pacific_ago(600), pacific_ago(50)
    fake.add_order(order)
    shop = fake_store(
        fake,
        platform="aliexpress",
        external_id=fake.seller_login_id,
        credentials=fake.credentials(),
        site="aliexpress.com",
        currency="USD",
    )
    assert sync_stream(store_id=shop.pk, stream=Stream.ORDERS).created == 1
    return shop


def _fulfils(fake: AliExpressFake) -> list[dict[str, str]]:
    forms = [dict(parse_qsl(r.body.decode())) for r in fake.requests_to("/sync", "POST")]
    return [f for f in forms if f.get("method") == FULFIL]


def test_mark_shipped_sends_the_exact_signed_form_once(store: Store, fake: AliExpressFake, waits: list[float]) -> None:
    shipment, sync = mark_shipped_from_ticket(store, ORDER_ID, carrier="CAINIAO_STANDARD", tracking_number=NUMBER)
    assert sync is not None and sync.status == WriteBackStatus.SUCCEEDED, sync
    [form] = _fulfils(fake)
    assert form["sign"] == sign(fake.app_secret, {k: v for k, v in form.items() if k != "sign"})
    assert (form["app_key"], form["sign_method"]) == (fake.app_key, "sha256") and form["access_token"]
    common = {"method", "app_key", "timestamp", "sign_method", "access_token", "sign"}
    business = {k: v for k, v in form.items() if k not in common}
    assert business == {
        "service_name": "CAINIAO_STANDARD",
        "out_ref": ORDER_ID,
        "send_type": "all",
        "logistics_no": NUMBER,
    }
    assert fake.orders[ORDER_ID]["order_status"] == "WAIT_BUYER_ACCEPT_GOODS"
    row = WriteBack.objects.get(store=store, kind="mark_shipped")
    assert (row.idempotency_key, row.external_id) == (f"shipment:{shipment.pk}:mark_shipped", ORDER_ID)

    again, _sync = mark_shipped_from_ticket(store, ORDER_ID, carrier="CAINIAO_STANDARD", tracking_number=NUMBER)
    assert again.pk == shipment.pk and len(_fulfils(fake)) == 1  # the ledger answered

    _other, refused = mark_shipped_from_ticket(store, ORDER_ID, carrier="EMS", tracking_number="EE123456789CN")
    assert refused is not None and refused.status == WriteBackStatus.FAILED
    assert "WAIT_BUYER_ACCEPT_GOODS cannot be fulfilled (ORDER_STATUS_ERROR)" in refused.detail
    assert len(_fulfils(fake)) == 2  # refused once, not resent


def test_part_of_the_order_and_refusals(store: Store, fake: AliExpressFake, waits: list[float]) -> None:
    connector: Any = get_connector("aliexpress")
    ctx = store_context(store, connector=connector)
    # the carrier is matched to AliExpress's logistics services before fulfilling: no match, refused
    with pytest.raises(ConnectorError, match="AliExpress has no logistics service 'Pony Express'") as caught:
        connector.mark_shipped(ctx, ShipmentConfirmation(ORDER_ID, "Pony Express", NUMBER, datetime.now(UTC)))
    assert (
        caught.value.permanent
        and caught.value.code == "carrier"
        and "CAINIAO_STANDARD, CAINIAO_ECONOMY" in str(caught.value)
    )
    # a number the service's tracking_no_regex refuses is refused naming the pattern
    with pytest.raises(ConnectorError, match="is not one of EMS") as caught:
        connector.mark_shipped(ctx, ShipmentConfirmation(ORDER_ID, "ems", "12345", datetime.now(UTC)))
    assert caught.value.code == "tracking_number"
    with pytest.raises(Exception, match="tracking website"):
        connector.mark_shipped(ctx, ShipmentConfirmation(ORDER_ID, "other", NUMBER, datetime.now(UTC)))
    assert _fulfils(fake) == []  # none of these left: refused before fulfilling
    # matched by display name (any case): sent as AliExpress's service key
    part = ShipmentConfirmation(
        ORDER_ID, "ups express saver", "1Z999AA10123456784", datetime.now(UTC), line_ids=["8190123456789013"]
    )
    receipt = connector.mark_shipped(ctx, part)
    assert receipt.detail == "part UPS 1Z999AA10123456784"
    assert _fulfils(fake)[-1]["service_name"] == "UPS"
    listed = [dict(parse_qsl(r.body.decode())) for r in fake.requests_to("/sync", "POST")]
    [services, *_] = [f for f in listed if f.get("method") == "aliexpress.logistics.redefining.listlogisticsservice"]
    assert services["sign"] == sign(fake.app_secret, {k: v for k, v in services.items() if k != "sign"})
    assert set(services) == {"method", "app_key", "timestamp", "sign_method", "access_token", "sign"}
    assert _fulfils(fake)[-1]["send_type"] == "part"
    assert fake.orders[ORDER_ID]["order_status"] == "SELLER_PART_SEND_GOODS"
