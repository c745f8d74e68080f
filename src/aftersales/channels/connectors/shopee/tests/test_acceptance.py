"""Acceptance (issue 12, Shopee): the fake Shopee -> the sync engine -> orders, tickets and return
requests; reruns duplicate nothing; malformed records are quarantined with Shopee's field while the
page goes on; a cancelled shop authorisation pauses the store with Shopee's words; every write-back
goes through the ledger and the exact request Shopee received is asserted (path, signed query,
headers, body); pushes through POST /hooks/shopee/<token>, valid and forged. SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from aftersales.catalog.models import Order, Store
from aftersales.channels.base import (
    OutboundReply,
    RefundReceipt,
    RefundRequest,
    ReturnDecision,
    ReturnDecisionKind,
    ReturnKind,
    Stream,
)
from aftersales.channels.connectors.shopee.connector import ShopeeConnector
from aftersales.channels.connectors.shopee.fake import ShopeeFake
from aftersales.channels.connectors.shopee.webhooks import ORDER_STATUS_PUSH, WEBCHAT_PUSH
from aftersales.channels.models import RawEvent, SyncRunStatus, WriteBack, WriteBackStatus
from aftersales.channels.registry import get_connector
from aftersales.channels.status import store_sync_for
from aftersales.channels.sync import sync_stream
from aftersales.inbox.models import Message, Ticket
from aftersales.returns.models import ReturnRequest
from aftersales.testing.acceptance import (
    WriteBacks,
    assert_resync_adds_nothing,
    assert_text_only_replies,
    fake_store,
    quarantine_reasons,
    retry_fixed,
)
from aftersales.testing.connectors import sync_streams

from .conftest import load

ORDER_SN = "2612015QK8S7BX"
BUYER = 310045678
SECOND_BUYER = 310099999


def ago(minutes: int) -> int:
    return int((datetime.now(UTC) - timedelta(minutes=minutes)).timestamp())


@pytest.fixture
def store(db: Any, fake: ShopeeFake) -> Store:
    return fake_store(
        fake,
        platform="shopee",
        external_id=str(fake.shop_id),
        credentials=fake.credentials(dispute_email="seller@gadgets.example"),
        site="shopee.sg",
        currency="SGD",
        default_language="en",
    )


@pytest.fixture
def seeded(fake: ShopeeFake) -> Iterator[ShopeeFake]:
    order = load("order.json")
    order["create_time"], order["update_time"] = ago(600), ago(50)
    fake.add_order(order)
    second = copy.deepcopy(order)
    second.update(order_sn="2612015QK8S7BY", update_time=ago(45), buyer_user_id=SECOND_BUYER, buyer_username="siti")
    fake.add_order(second)
    malformed = copy.deepcopy(order)
    malformed.update(order_sn="2612015QK8S7BZ", update_time=ago(48))
    malformed["item_list"][0]["model_quantity_purchased"] = "two"
    fake.add_order(malformed)
    chat = load("conversation.json")
    messages = chat["messages"]
    messages[0]["created_timestamp"], messages[1]["created_timestamp"] = ago(40), ago(39)
    fake.add_conversation(chat["conversation"], messages)
    fake.add_conversation(
        {"conversation_id": "118822334455000001", "to_id": SECOND_BUYER, "to_name": "siti", "shop_id": fake.shop_id},
        [
            {
                "message_id": "2097834567800000001",
                "message_type": "text",
                "from_id": SECOND_BUYER,
                "from_shop_id": 0,
                "to_shop_id": fake.shop_id,
                "conversation_id": "118822334455000001",
                "created_timestamp": ago(35),
                "region": "SG",
                "content": {"text": "Boleh saya tukar warna kabel?"},
            },
            {
                "message_id": "2097834567800000002",
                "message_type": "hologram",
                "from_id": SECOND_BUYER,
                "from_shop_id": 0,
                "conversation_id": "118822334455000001",
                "created_timestamp": ago(34),
                "content": {},
            },
        ],
    )
    for n, return_sn in enumerate(("2612030EDT4JRV5", "2612030EDT4JRV6")):
        item = load("return.json")
        item.update(return_sn=return_sn, create_time=ago(31 - n), update_time=ago(30 - n))
        if n:
            item["needs_logistics"] = False
        fake.add_return(item)
    yield fake


def test_sync_into_tickets_rerun_duplicates_nothing(store: Store, seeded: ShopeeFake, waits: list[float]) -> None:
    runs = sync_streams(store)
    orders, messages, returns = runs[Stream.ORDERS], runs[Stream.MESSAGES], runs[Stream.RETURNS]
    assert {r.status for r in runs.values()} == {SyncRunStatus.SUCCEEDED}
    assert (orders.records, orders.created, orders.quarantined) == (3, 2, 1)
    assert (messages.records, messages.created, messages.quarantined) == (4, 3, 1)
    assert (returns.records, returns.created) == (2, 2)
    bad = quarantine_reasons(store)
    assert bad[f"order:2612015QK8S7BZ:{seeded.orders['2612015QK8S7BZ']['update_time']}"][0] == (
        "item_list[0].model_quantity_purchased"
    )
    assert bad["message:2097834567800000002"] == ("message_type", "unknown message_type 'hologram'")

    order = Order.objects.get(store=store, external_id=ORDER_SN)
    assert sorted(order.lines.values_list("external_line_id", "quantity", "unit_price_amount")) == [
        ("2300451122:0", 2, Decimal("24.90")),
        ("2300457788:9900123", 1, Decimal("14.00")),
    ]
    assert order.customer is not None
    ticket = Ticket.objects.get(store=store, messages__external_id="shopee:2097834567812345678")
    assert ticket.customer_id == order.customer_id  # the chat buyer is the order's buyer (user id)
    assert list(ticket.messages.order_by("id").values_list("external_id", "direction")) == [
        ("shopee:2097834567812345678", "inbound"),
        ("shopee:2097834567812349999", "outbound"),  # written in Seller Centre: kept on the thread
        ("return:2612030EDT4JRV5", "inbound"),
        ("return:2612030EDT4JRV6", "inbound"),
    ]
    returned = ReturnRequest.objects.get(store=store, external_id="2612030EDT4JRV5")
    assert returned.kind == ReturnKind.RETURN and returned.platform_status == "REQUESTED"
    assert returned.respond_by == datetime.fromtimestamp(1764892800, tz=UTC)  # the seller's due date
    assert returned.order == order and returned.requested_amount == Decimal("24.90")
    assert ReturnRequest.objects.get(store=store, external_id="2612030EDT4JRV6").kind == ReturnKind.REFUND_REQUEST
    assert_resync_adds_nothing(store)

    # A status change on Shopee is seen by the next poll; the malformed order, fixed, is retried.
    seeded.returns["2612030EDT4JRV6"].update(status="CANCELLED", update_time=ago(1))
    assert sync_stream(store_id=store.pk, stream=Stream.RETURNS).updated == 1
    assert ReturnRequest.objects.get(store=store, external_id="2612030EDT4JRV6").platform_status == "CANCELLED"

    def fix(payload: dict[str, Any]) -> None:
        payload["data"]["item_list"][0]["model_quantity_purchased"] = 2

    retry_fixed(store, f"order:2612015QK8S7BZ:{seeded.orders['2612015QK8S7BZ']['update_time']}", fix)
    assert Order.objects.filter(store=store, external_id="2612015QK8S7BZ").exists()


def test_a_cancelled_authorisation_pauses_the_store_with_shopees_words(
    store: Store, seeded: ShopeeFake, waits: list[float]
) -> None:
    seeded.revoked = True
    run = sync_stream(store_id=store.pk, stream=Stream.ORDERS)
    assert run.status == SyncRunStatus.PAUSED
    assert "The shop authorization has been cancelled" in run.error
    sync = store_sync_for(store)
    assert sync.paused and "The shop authorization has been cancelled" in sync.paused_reason
    assert seeded.refresh_token not in run.error and seeded.partner_key not in run.error


def test_rotating_refresh_token_is_kept_encrypted(store: Store, seeded: ShopeeFake, waits: list[float]) -> None:
    sync_stream(store_id=store.pk, stream=Stream.ORDERS)
    store.refresh_from_db()
    assert store.credentials["refresh_token"] == seeded.refresh_token
    first_token = store.credentials["access_token"]
    seeded.expire_tokens()
    assert sync_stream(store_id=store.pk, stream=Stream.RETURNS).status == SyncRunStatus.SUCCEEDED
    store.refresh_from_db()
    assert store.credentials["access_token"] != first_token
    assert store.credentials["refresh_token"] == seeded.refresh_token  # rotated again, saved again
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM catalog_store WHERE id = %s", [store.pk])
        stored = str(cursor.fetchone()[0])
    assert store.credentials["access_token"] not in stored and seeded.refresh_token not in stored


def _signed_shop_call(fake: ShopeeFake, request: Any, path: str, token: str) -> None:
    stamp = request.arg("timestamp")
    assert request.arg("partner_id") == str(fake.partner_id) and request.arg("shop_id") == str(fake.shop_id)
    assert request.arg("access_token") == token
    base = f"{fake.partner_id}{path}{stamp}{token}{fake.shop_id}"
    assert request.arg("sign") == hmac.new(fake.partner_key.encode(), base.encode(), hashlib.sha256).hexdigest()


def test_every_write_back_sends_the_exact_request(store: Store, seeded: ShopeeFake, waits: list[float]) -> None:
    sync_streams(store)
    store.refresh_from_db()
    token = store.credentials["access_token"]
    connector = get_connector("shopee")
    assert isinstance(connector, ShopeeConnector)
    perform = WriteBacks(store).perform

    reply = OutboundReply(
        message_id=1,
        store_id=store.pk,
        credentials={},
        conversation_id="shopee:118822334455667788",
        order_external_id=ORDER_SN,
        customer_address=str(BUYER),
        customer_name="tan.weiming",
        subject="",
        body="We have sent a replacement plug today.",
    )
    row = perform("send_message", "msg-1", reply, lambda ctx: connector.send_message(ctx, reply))
    assert row.status == WriteBackStatus.SUCCEEDED and row.external_id.startswith("shopee:7")
    [sent] = seeded.requests_to("/api/v2/sellerchat/send_message")
    assert sent.method == "POST" and sent.headers["content-type"] == "application/json"
    _signed_shop_call(seeded, sent, "/api/v2/sellerchat/send_message", token)
    assert sent.json() == {
        "to_id": BUYER,
        "message_type": "text",
        "content": {"text": "We have sent a replacement plug today."},
    }
    assert perform("send_message", "msg-1", reply, lambda ctx: connector.send_message(ctx, reply)).pk == row.pk
    assert len(seeded.requests_to("/api/v2/sellerchat/send_message")) == 1  # the ledger answered

    def decide(key: str, decision: ReturnDecision) -> WriteBack:
        return perform("decide_return", key, decision, lambda ctx: connector.decide_return(ctx, decision))

    offer = ReturnDecision(
        "2612030EDT4JRV5",
        ReturnKind.RETURN,
        ReturnDecisionKind.OFFER_PARTIAL_REFUND,
        amount=Decimal("10"),
        currency="SGD",
    )
    assert decide("ret-offer", offer).status == WriteBackStatus.SUCCEEDED
    [offered] = seeded.requests_to("/api/v2/returns/offer")
    _signed_shop_call(seeded, offered, "/api/v2/returns/offer", token)
    assert offered.json() == {
        "return_sn": "2612030EDT4JRV5",
        "proposed_solution": "RETURN_REFUND",
        "proposed_adjusted_refund_amount": 10.0,
    }
    declined = decide(
        "ret-decline",
        ReturnDecision("2612030EDT4JRV6", ReturnKind.REFUND_REQUEST, ReturnDecisionKind.DECLINE, comment="Delivered."),
    )
    assert declined.status == WriteBackStatus.SUCCEEDED, declined.detail
    [reasons] = seeded.requests_to("/api/v2/returns/get_return_dispute_reason")
    assert reasons.arg("return_sn") == "2612030EDT4JRV6"
    [dispute] = seeded.requests_to("/api/v2/returns/dispute")
    _signed_shop_call(seeded, dispute, "/api/v2/returns/dispute", token)
    assert dispute.json() == {
        "return_sn": "2612030EDT4JRV6",
        "email": "seller@gadgets.example",
        "dispute_reason_id": 50,
        "dispute_text_reason": "Delivered.",
        "image_list": [],
    }
    assert decide("ret-approve", ReturnDecision("2612030EDT4JRV5", ReturnKind.RETURN, ReturnDecisionKind.APPROVE))
    [confirmed] = seeded.requests_to("/api/v2/returns/confirm")
    _signed_shop_call(seeded, confirmed, "/api/v2/returns/confirm", token)
    assert confirmed.json() == {"return_sn": "2612030EDT4JRV5"}
    assert seeded.returns["2612030EDT4JRV5"]["status"] == "ACCEPTED"
    # Shopee arranges return shipping: no label or RMA decision, refused before anything is sent.
    label = decide("ret-label", ReturnDecision("2612030EDT4JRV5", ReturnKind.RETURN, ReturnDecisionKind.PROVIDE_LABEL))
    assert label.status == WriteBackStatus.FAILED and "Shopee returns have no provide_label" in label.detail

    # The refund of an accepted return: reconciled, nothing confirmed twice.
    refund = RefundRequest("refund-1", ORDER_SN, Decimal("24.90"), "SGD", return_external_id="2612030EDT4JRV5")
    paid = perform("issue_refund", "refund-1", refund, lambda ctx: connector.issue_refund(ctx, refund))
    assert paid.status == WriteBackStatus.SUCCEEDED and "reconciled" in paid.detail
    assert len(seeded.requests_to("/api/v2/returns/confirm")) == 1
    # A refund of an order without a return: Shopee has no such call, refused with the reason.
    bare = RefundRequest("refund-2", ORDER_SN, Decimal("5"), "SGD")
    refused = perform("issue_refund", "refund-2", bare, lambda ctx: connector.issue_refund(ctx, bare))
    assert refused.status == WriteBackStatus.FAILED and "only through the buyer's return" in refused.detail


def test_pushes_through_the_webhook_endpoint(store: Store, seeded: ShopeeFake, waits: list[float]) -> None:
    url = f"http://testserver/hooks/shopee/{store_sync_for(store).webhook_token}"
    client = Client()

    def post(body: bytes, headers: dict[str, str]) -> Any:
        return client.post(url, data=body, content_type="application/json", headers=headers)

    order = seeded.orders[ORDER_SN]
    body, headers = seeded.push(url, ORDER_STATUS_PUSH, {"ordersn": ORDER_SN, "status": "COMPLETED"})
    forged = post(body, {"Authorization": "f" * 64})
    assert forged.status_code == 401 and not RawEvent.objects.filter(store=store).exists()
    accepted = post(body, headers)
    assert accepted.status_code == 200, accepted.content
    assert Order.objects.filter(store=store, external_id=ORDER_SN).exists()
    assert RawEvent.objects.get(store=store).event_id == f"order:{ORDER_SN}:{order['update_time']}"
    assert post(body, headers).status_code == 200  # Shopee's retry: stored once
    assert RawEvent.objects.filter(store=store).count() == 1
    # The poll afterwards knows the order: no duplicate.
    assert sync_stream(store_id=store.pk, stream=Stream.ORDERS).created == 1  # the second order only

    message = {
        "message_id": "2097834567899990001",
        "message_type": "text",
        "from_id": BUYER,
        "from_shop_id": 0,
        "to_shop_id": seeded.shop_id,
        "conversation_id": "118822334455667788",
        "created_timestamp": ago(1),
        "region": "SG",
        "content": {"text": "Thank you!"},
    }
    body, headers = seeded.push(url, WEBCHAT_PUSH, {"type": "message", "content": message})
    assert post(body, headers).status_code == 200
    assert Message.objects.filter(store=store, external_id="shopee:2097834567899990001").exists()
    bad_json = b"{not json"
    bad = post(
        bad_json,
        {
            "Authorization": hmac.new(
                seeded.partner_key.encode(), url.encode() + b"|" + bad_json, hashlib.sha256
            ).hexdigest()
        },
    )
    assert bad.status_code == 400 and json.loads(bad.content)["code"] == "invalid_body"


def test_two_workers_never_spend_one_refresh_token(store: Store, seeded: ShopeeFake, waits: list[float]) -> None:
    """Both contexts are built before either refreshes (two workers, two streams): the second finds the
    first one's new token under the store's row lock instead of sending the spent refresh token."""
    from aftersales.channels.connectors.shopee.client import ShopeeClient
    from aftersales.channels.context import store_context

    connector = get_connector("shopee")
    first, second = store_context(store, connector=connector), store_context(store, connector=connector)
    with ShopeeClient(first) as client:
        client.call("GET", "/api/v2/shop/get_shop_info")
    with ShopeeClient(second) as client:
        client.call("GET", "/api/v2/shop/get_shop_info")
    assert len(seeded.requests_to("/api/v2/auth/access_token/get")) == 1
    store.refresh_from_db()
    assert store.credentials["refresh_token"] == seeded.refresh_token
    assert second.credentials["access_token"] == store.credentials["access_token"]


def test_refunding_a_return_confirms_it_once_and_reconciles(
    store: Store, seeded: ShopeeFake, waits: list[float]
) -> None:
    from aftersales.channels.base import ConnectorError, RefundState
    from aftersales.channels.context import store_context

    connector = get_connector("shopee")
    assert isinstance(connector, ShopeeConnector)
    ctx = store_context(store, connector=connector)
    wrong = RefundRequest("r-1", ORDER_SN, Decimal("5.00"), "SGD", return_external_id="2612030EDT4JRV5")
    with pytest.raises(ConnectorError) as caught:
        connector.issue_refund(ctx, wrong)
    assert caught.value.permanent and "in full (24.9 SGD)" in str(caught.value)
    assert not seeded.requests_to("/api/v2/returns/confirm")  # refused before anything was sent
    refund = RefundRequest("r-2", ORDER_SN, Decimal("24.90"), "SGD", return_external_id="2612030EDT4JRV5")
    receipt = connector.issue_refund(ctx, refund)
    assert (receipt.external_id, receipt.state) == ("return:2612030EDT4JRV5", RefundState.PENDING)
    [confirm] = seeded.requests_to("/api/v2/returns/confirm")
    assert confirm.json() == {"return_sn": "2612030EDT4JRV5"}
    settled = connector.refund_status(ctx, refund, receipt)
    assert (settled.state, settled.detail) == (RefundState.SUCCEEDED, "ACCEPTED")
    seeded.returns["2612030EDT4JRV6"]["status"] = "CLOSED"
    other = RefundRequest("r-3", ORDER_SN, Decimal("24.90"), "SGD", return_external_id="2612030EDT4JRV6")
    assert connector.refund_status(ctx, other, RefundReceipt("return:2612030EDT4JRV6", RefundState.PENDING)).state == (
        RefundState.FAILED
    )


def test_a_reply_with_attachments_is_refused_when_queued(store: Store, seeded: ShopeeFake, waits: list[float]) -> None:
    assert_text_only_replies(store, "shopee:2097834567812345678", "Shopee chat message: text only, no attachments.")
