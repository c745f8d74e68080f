"""Acceptance (issue 12, Wish): the fake Wish Merchant API v3 -> the sync engine -> orders and
tickets (an escalated ticket also a case); reruns duplicate nothing; a malformed record is
quarantined with Wish's field; the first call renews the bearer token and a 401 renews it once; a
revoked authorisation pauses the store with Wish's words; every write-back (ticket reply, close,
order refund) with the exact request Wish received, and the ledger's no-resend. Real HTTP to the fake."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from aftersales.catalog.models import Order, Store
from aftersales.channels.base import OutboundReply, RefundRequest, ReturnKind, Stream
from aftersales.channels.connectors.wish.fake import WishFake, iso_ago
from aftersales.channels.models import SyncRunStatus, WriteBackStatus
from aftersales.channels.registry import get_connector
from aftersales.channels.status import store_sync_for
from aftersales.channels.sync import quarantined_events, sync_stream
from aftersales.inbox.models import Message, Ticket
from aftersales.returns.models import ReturnRequest
from aftersales.testing.acceptance import (
    WriteBacks,
    assert_resync_adds_nothing,
    fake_store,
)
from aftersales.testing.connectors import sync_streams

from .conftest import load

ORDER_ID = "6401a2b3c4d5e6f708192a3b"
TICKET_ID = "6402aa11bb22cc33dd44ee55"
STREAMS = (Stream.ORDERS, Stream.MESSAGES)


@pytest.fixture
def store(db: Any, fake: WishFake) -> Store:
    return fake_store(
        fake,
        platform="wish",
        external_id=fake.merchant_id,
        credentials=fake.credentials(),
        site="wish.com",
        currency="USD",
    )


@pytest.fixture
def seeded(fake: WishFake) -> WishFake:
    order = {**load("order.json"), "updated_at": iso_ago(50)}
    fake.add_order(order)
    fake.add_order({**copy.deepcopy(order), "id": "6401a2b3c4d5e6f708192a99", "state": "LOST_IN_SPACE"})
    ticket = load("ticket.json")
    ticket.update(opened_at=iso_ago(40), updated_at=iso_ago(40))
    ticket["replies"][0]["replied_at"] = iso_ago(40)
    fake.add_ticket(ticket)
    escalated = copy.deepcopy(ticket)
    escalated.update(
        id="6402aa11bb22cc33dd44ee66",
        state="AWAITING_WISH",
        subject="Refund request",
        orders=[{"id": "6401a2b3c4d5e6f7"}],
    )
    escalated["buyer_info"] = {"name": "Sam Ortiz", "locale": "es-MX"}
    fake.add_ticket(escalated)
    return fake


def test_sync_into_tickets_rerun_duplicates_nothing(store: Store, seeded: WishFake, waits: list[float]) -> None:
    runs = sync_streams(store, STREAMS)
    orders, tickets = runs[Stream.ORDERS], runs[Stream.MESSAGES]
    assert {r.status for r in runs.values()} == {SyncRunStatus.SUCCEEDED}
    assert (orders.records, orders.created, orders.quarantined) == (2, 1, 1)
    assert (tickets.records, tickets.quarantined) == (2, 0)
    [bad] = quarantined_events(organization_id=store.organization_id)
    assert (bad.field, bad.reason) == ("state", "unknown state 'LOST_IN_SPACE'")
    order = Order.objects.get(store=store, external_id=ORDER_ID)
    ticket = Ticket.objects.get(store=store, messages__external_id=f"wish:{TICKET_ID}:0")
    assert ticket.customer_id == order.customer_id and ticket.conversation_id == f"wish:{TICKET_ID}"
    case = ReturnRequest.objects.get(store=store, external_id="ticket:6402aa11bb22cc33dd44ee66")
    assert case.kind == ReturnKind.CASE and case.platform_status == "AWAITING_WISH"
    assert_resync_adds_nothing(store, STREAMS)
    # the buyer writes again: the new version of the ticket adds only the new reply
    seeded.tickets[TICKET_ID]["replies"].append({"sender": "USER", "message": "Any news?", "replied_at": iso_ago(1)})
    seeded.tickets[TICKET_ID]["updated_at"] = iso_ago(1)
    sync_stream(store_id=store.pk, stream=Stream.MESSAGES)
    assert list(ticket.messages.values_list("external_id", flat=True).order_by("id")) == [
        f"wish:{TICKET_ID}:0",
        f"wish:{TICKET_ID}:1",
    ]


def test_tokens_and_a_revoked_authorisation(store: Store, seeded: WishFake, waits: list[float]) -> None:
    assert sync_stream(store_id=store.pk, stream=Stream.ORDERS).status == SyncRunStatus.SUCCEEDED
    [renewal] = seeded.requests_to("/api/v3/oauth/refresh_token")
    assert renewal.query == {
        "client_id": [seeded.client_id],
        "client_secret": [seeded.client_secret],
        "refresh_token": [seeded.refresh_token],
        "grant_type": ["refresh_token"],
    }
    store.refresh_from_db()
    token = store.credentials["access_token"]
    [listed] = seeded.requests_to("/api/v3/orders")
    assert listed.headers["authorization"] == f"Bearer {token}"
    assert listed.arg("sort_by") == "updated_at.asc" and listed.arg("limit") == "100"
    seeded.expire_tokens()  # a 401: renewed once, sent again
    assert sync_stream(store_id=store.pk, stream=Stream.MESSAGES).status == SyncRunStatus.SUCCEEDED
    assert len(seeded.requests_to("/api/v3/oauth/refresh_token")) == 2
    seeded.revoked = True
    seeded.expire_tokens()
    run = sync_stream(store_id=store.pk, stream=Stream.ORDERS)
    assert run.status == SyncRunStatus.PAUSED
    assert "The merchant has revoked this app's authorization" in run.error
    assert "revoked this app's authorization" in store_sync_for(store).paused_reason
    assert seeded.client_secret not in run.error and seeded.refresh_token not in run.error


def test_every_write_back_sends_the_exact_request(store: Store, seeded: WishFake, waits: list[float]) -> None:
    sync_streams(store, STREAMS)
    store.refresh_from_db()
    bearer = f"Bearer {store.credentials['access_token']}"
    connector: Any = get_connector("wish")
    perform = WriteBacks(store).perform

    reply = OutboundReply(
        message_id=7,
        store_id=store.pk,
        credentials={},
        conversation_id=f"wish:{TICKET_ID}",
        order_external_id=ORDER_ID,
        customer_address="5a9b8c7d6e5f4a3b2c1d0e9f",
        customer_name="Jordan Lee",
        subject="",
        body="It left our warehouse today, tracking follows.",
    )
    row = perform("send_message", "msg-7", reply, lambda ctx: connector.send_message(ctx, reply))
    assert row.status == WriteBackStatus.SUCCEEDED, row.detail
    [sent] = seeded.requests_to(f"/api/v3/tickets/{TICKET_ID}/replies")
    assert sent.method == "POST" and sent.headers["authorization"] == bearer
    assert sent.headers["content-type"] == "application/json"
    assert sent.body == b'{"message":"It left our warehouse today, tracking follows."}'
    assert perform("send_message", "msg-7", reply, lambda ctx: connector.send_message(ctx, reply)).pk == row.pk
    assert len(seeded.requests_to(f"/api/v3/tickets/{TICKET_ID}/replies")) == 1
    assert seeded.tickets[TICKET_ID]["state"] == "AWAITING_USER"

    # Closing is not a ledger write-back kind (no engine capability): the connector call itself.
    from aftersales.channels.context import store_context

    closed = connector.close_ticket(store_context(store, connector=connector), f"wish:{TICKET_ID}")
    assert closed.external_id == TICKET_ID
    [close] = seeded.requests_to(f"/api/v3/tickets/{TICKET_ID}")
    assert close.method == "PUT" and close.headers["authorization"] == bearer
    assert close.body == b'{"state":"CLOSED"}'
    assert seeded.tickets[TICKET_ID]["state"] == "CLOSED"

    refund = RefundRequest(
        "refund-1", ORDER_ID, Decimal("23.5"), "USD", reason="damaged_in_transit", note="Arrived broken"
    )
    paid = perform("issue_refund", "refund-1", refund, lambda ctx: connector.issue_refund(ctx, refund))
    assert paid.status == WriteBackStatus.SUCCEEDED, paid.detail
    [listed] = seeded.requests_to(f"/api/v3/orders/{ORDER_ID}/refund_reasons")
    assert listed.method == "GET" and listed.headers["authorization"] == bearer
    [refunded] = seeded.requests_to(f"/api/v3/orders/{ORDER_ID}/refund")
    assert refunded.method == "PUT" and refunded.headers["authorization"] == bearer
    assert refunded.headers["content-type"] == "application/json"
    assert refunded.body == b'{"refund_reason":"ITEM_IS_DAMAGED","refund_reason_note":"Arrived broken"}'
    again = RefundRequest("refund-2", ORDER_ID, Decimal("23.5"), "USD", reason="damaged_in_transit")
    reconciled = perform("issue_refund", "refund-2", again, lambda ctx: connector.issue_refund(ctx, again))
    assert reconciled.status == WriteBackStatus.SUCCEEDED and "reconciled" in reconciled.detail
    assert len(seeded.requests_to(f"/api/v3/orders/{ORDER_ID}/refund")) == 1
    partial = RefundRequest("refund-3", "6401a2b3c4d5e6f708192a99", Decimal("5"), "USD", reason="defective")
    seeded.orders["6401a2b3c4d5e6f708192a99"]["state"] = "APPROVED"
    refused = perform("issue_refund", "refund-3", partial, lambda ctx: connector.issue_refund(ctx, partial))
    assert refused.status == WriteBackStatus.FAILED and "Wish refunds a whole order" in refused.detail
    assert not Message.objects.filter(store=store, external_id__contains=":reply:").exists()


def test_429_and_5xx_are_waited_out_and_malformed_json_is_transient(
    store: Store, seeded: WishFake, waits: list[float]
) -> None:
    seeded.throttle_next("/api/v3/orders", retry_after=9)
    seeded.fail_next("/api/v3/orders", status=503)
    assert sync_stream(store_id=store.pk, stream=Stream.ORDERS).status == SyncRunStatus.SUCCEEDED
    assert waits[0] == 9.0 and len(waits) >= 2
    seeded.fail_next("/api/v3/tickets", status=200, times=10, body=b"<html>maintenance</html>")
    run = sync_stream(store_id=store.pk, stream=Stream.MESSAGES)
    assert run.status != SyncRunStatus.PAUSED and "without data" in run.error
