"""The Wish connector on the documented v3 shapes (issue 12, docs/connectors/wish.md "Sources for the
v3 reference"): keyset paging on updated_at (no offset; a page boundary inside a run of equal
timestamps loses and repeats nothing; an older {"from", "offset"} cursor keeps working), the refund as
RefundOrder {refund_reason from the order's refund_reasons, refund_reason_note} (an unmappable reason
refused before any call, naming `reason`), the documented Ticket (buyer_info, orders, opened_at) and
Order (full_address.shipping_detail, no buyer id) linking the ticket's customer to its order's, and
the fake refusing the older undocumented shapes. Real HTTP to the fake, SQLite and PostgreSQL."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from aftersales.catalog.models import Order, Store
from aftersales.channels.base import ConnectorError, RefundRequest, Stream
from aftersales.channels.connectors.wish import connector as wish_connector
from aftersales.channels.connectors.wish import mapping
from aftersales.channels.connectors.wish.fake import WishFake, iso_ago
from aftersales.channels.context import store_context
from aftersales.channels.models import StreamCursor, SyncRunStatus
from aftersales.channels.registry import get_connector
from aftersales.channels.sync import sync_stream
from aftersales.inbox.models import Ticket

from .conftest import load
from .test_acceptance import store as store  # a fixture

ORDER_ID = "6401a2b3c4d5e6f708192a3b"


def _order(n: int, updated_at: str) -> dict[str, Any]:
    return {**load("order.json"), "id": f"6401a2b3c4d5e6f7081{n:05d}", "updated_at": updated_at}


def _pages(store: Store, cursor: str | None = None) -> tuple[list[str], str]:
    """Pull the orders stream page by page to its end: the ids read and the last cursor."""
    connector: Any = get_connector("wish")
    ctx = store_context(store, connector=connector)
    read: list[str] = []
    while True:
        page = connector.pull(ctx, Stream.ORDERS, cursor, None)
        read += [r.payload["data"]["id"] for r in page.records]
        cursor = page.next_cursor
        if page.done:
            return read, cursor or ""


def test_a_page_boundary_inside_equal_timestamps_loses_and_repeats_nothing(
    store: Store, fake: WishFake, waits: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wish_connector, "PAGE_SIZE", 3)
    first, same, last = iso_ago(50), iso_ago(40), iso_ago(30)
    stamps = [first, first, same, same, same, same, same, last]
    for n, stamp in enumerate(stamps):
        fake.add_order(_order(n, stamp))
    read, cursor = _pages(store)
    assert sorted(read) == sorted(fake.orders) and len(read) == len(set(read)) == 8
    listed = fake.requests_to("/api/v3/orders")
    assert all("offset" not in r.query for r in listed)
    assert [(r.arg("updated_at_min"), r.arg("limit")) for r in listed][1:] == [(same, "4"), (same, "7")]
    assert all(r.arg("sort_by") == "updated_at.asc" for r in listed)
    assert json.loads(cursor) == {"from": last, "seen": ["6401a2b3c4d5e6f708100007"]}
    # the next pass reads nothing again; a record changed since is read once
    assert _pages(store, cursor)[0] == []
    fake.orders["6401a2b3c4d5e6f708100002"]["updated_at"] = iso_ago(1)
    assert _pages(store, cursor)[0] == ["6401a2b3c4d5e6f708100002"]


def test_the_engine_syncs_them_once_and_an_older_offset_cursor_keeps_working(
    store: Store, fake: WishFake, waits: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wish_connector, "PAGE_SIZE", 2)
    same = iso_ago(40)
    for n in range(5):
        fake.add_order(_order(n, same))
    run = sync_stream(store_id=store.pk, stream=Stream.ORDERS)
    assert (run.status, run.records, run.created) == (SyncRunStatus.SUCCEEDED, 5, 5)
    # a cursor written before this change ({"from", "offset"}): read again from "from", nothing doubled
    StreamCursor.objects.filter(store=store, stream=Stream.ORDERS).update(
        cursor=json.dumps({"from": iso_ago(45), "offset": 100})
    )
    again = sync_stream(store_id=store.pk, stream=Stream.ORDERS)
    assert again.status == SyncRunStatus.SUCCEEDED and again.created == 0
    assert Order.objects.filter(store=store).count() == 5
    cursor = json.loads(StreamCursor.objects.get(store=store, stream=Stream.ORDERS).cursor)
    assert cursor["from"] == same and len(cursor["seen"]) == 5 and "offset" not in cursor


def test_refund_reasons(store: Store, fake: WishFake, waits: list[float]) -> None:
    fake.add_order({**load("order.json"), "updated_at": iso_ago(30)})
    connector: Any = get_connector("wish")
    ctx = store_context(store, connector=connector)
    # ours (the policy's words) and Wish's own map; "changed_mind" has no Wish reason
    assert mapping.refund_reason("not_as_described") == "ITEM_DOES_NOT_MATCH_LISTING"
    assert mapping.refund_reason("item is damaged") == "ITEM_IS_DAMAGED"
    assert mapping.refund_reason("Changed mind") is None and mapping.refund_reason("") is None
    unmappable = RefundRequest("r-1", ORDER_ID, Decimal("23.5"), "USD", reason="changed_mind")
    with pytest.raises(ConnectorError) as caught:
        connector.issue_refund(ctx, unmappable)
    assert caught.value.permanent and caught.value.code == "reason" and "changed_mind" in str(caught.value)
    assert fake.requests == []  # refused before any call
    fake.refund_reasons[ORDER_ID] = ["UNABLE_TO_SHIP", "MERCHANT_OUT_OF_STOCK"]
    with pytest.raises(ConnectorError) as caught:
        connector.issue_refund(ctx, RefundRequest("r-2", ORDER_ID, Decimal("23.5"), "USD", reason="defective"))
    assert caught.value.code == "reason" and "UNABLE_TO_SHIP, MERCHANT_OUT_OF_STOCK" in str(caught.value)
    assert fake.requests_to(f"/api/v3/orders/{ORDER_ID}/refund") == []
    done = connector.issue_refund(
        ctx, RefundRequest("r-3", ORDER_ID, Decimal("23.5"), "USD", reason="MERCHANT_OUT_OF_STOCK")
    )
    assert done.detail == "refunded (MERCHANT_OUT_OF_STOCK)"
    [sent] = fake.requests_to(f"/api/v3/orders/{ORDER_ID}/refund")
    assert sent.body == b'{"refund_reason":"MERCHANT_OUT_OF_STOCK","refund_reason_note":"MERCHANT_OUT_OF_STOCK"}'


def test_the_fake_refuses_the_older_shapes(fake: WishFake) -> None:
    with pytest.raises(ValueError, match="user_id"):
        fake.add_order({**load("order.json"), "user_id": "5a9b"})
    with pytest.raises(ValueError, match="order_ids"):
        fake.add_ticket({**load("ticket.json"), "order_ids": [ORDER_ID]})
    fake.add_order(load("order.json"))
    token = fake.refresh_token
    answer = httpx.get(
        f"{fake.url}/api/v3/oauth/refresh_token",
        params={
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
            "refresh_token": token,
            "grant_type": "refresh_token",
        },
    ).json()
    bearer = {"Authorization": f"Bearer {answer['data']['access_token']}"}
    old = httpx.put(f"{fake.url}/api/v3/orders/{ORDER_ID}/refund", json={"reason_code": 18}, headers=bearer)
    assert old.status_code == 400 and "reason_code" in old.json()["message"]
    paged = httpx.get(f"{fake.url}/api/v3/orders", params={"offset": 100}, headers=bearer)
    assert paged.status_code == 400 and "offset" in paged.json()["message"]
    assert fake.orders[ORDER_ID]["state"] == "APPROVED"


def test_customers_from_the_documented_fields(store: Store, fake: WishFake, waits: list[float]) -> None:
    order = {**load("order.json"), "updated_at": iso_ago(50)}
    order["full_address"]["shipping_detail"].update(street_address1="1 Main St", zipcode="94105", city="SF")
    fake.add_order(order)
    with_order = {**load("ticket.json"), "opened_at": iso_ago(40), "updated_at": iso_ago(40)}
    with_order["replies"][0]["replied_at"] = iso_ago(40)
    fake.add_ticket(with_order)
    for n, name in enumerate(["Ana  Silva", "ana silva"]):
        alone = {**load("ticket.json"), "id": f"6402aa11bb22cc33dd44ee7{n}", "orders": []}
        alone.update(opened_at=iso_ago(30), updated_at=iso_ago(30 - n), buyer_info={"name": name, "locale": "pt-BR"})
        alone["replies"] = [{"sender": "USER", "message": "Pre-sale question", "replied_at": iso_ago(30)}]
        fake.add_ticket(alone)
    sync_stream(store_id=store.pk, stream=Stream.ORDERS)
    sync_stream(store_id=store.pk, stream=Stream.MESSAGES)
    synced = Order.objects.get(store=store, external_id=ORDER_ID)
    assert synced.customer is not None and synced.customer.name == "Jordan Lee" and synced.ship_address_key
    ticket = Ticket.objects.get(store=store, messages__external_id="wish:6402aa11bb22cc33dd44ee55:0")
    assert ticket.customer_id == synced.customer_id  # by the order's buyer
    first, second = (
        Ticket.objects.get(store=store, messages__external_id=f"wish:6402aa11bb22cc33dd44ee7{n}:0") for n in range(2)
    )
    assert first.customer_id == second.customer_id != synced.customer_id  # by name on this store
    assert first.customer.preferred_language == "pt"
