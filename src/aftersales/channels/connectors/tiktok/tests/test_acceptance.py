"""Acceptance (issue 12, TikTok Shop): the fake TikTok Shop -> the sync engine -> orders, tickets
and return requests (returns and cancellations with TikTok's deadline as respond_by); reruns
duplicate nothing; malformed records are quarantined with TikTok's field while the page goes on;
a deauthorised app pauses the store with TikTok's words; every write-back goes through the ledger
and the exact request TikTok received is asserted (path, signed query, headers, body); webhooks
through POST /hooks/tiktok/<token>, valid and forged. SQLite and PostgreSQL."""

from __future__ import annotations

import copy
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
    RefundRequest,
    ReturnDecision,
    ReturnDecisionKind,
    ReturnKind,
    Stream,
)
from aftersales.channels.connectors.tiktok.client import sign
from aftersales.channels.connectors.tiktok.connector import TikTokConnector
from aftersales.channels.connectors.tiktok.fake import TikTokFake
from aftersales.channels.connectors.tiktok.webhooks import NEW_MESSAGE, ORDER_STATUS_CHANGE, RETURN_STATUS_CHANGE
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

ORDER_ID = "576461413038785752"
RETURN_ID = "4035319218955782461"
REFUND_ID = "4035319218955782470"
CANCEL_ID = "4035318888888888001"
CONVERSATION = "7282834513211418882"


def ago(minutes: int) -> int:
    return int((datetime.now(UTC) - timedelta(minutes=minutes)).timestamp())


@pytest.fixture
def store(db: Any, fake: TikTokFake) -> Store:
    return fake_store(
        fake,
        platform="tiktok",
        external_id=fake.shop_id,
        credentials=fake.credentials(),
        site="shop.tiktok.com/us",
        currency="USD",
        default_language="en",
    )


@pytest.fixture
def seeded(fake: TikTokFake) -> Iterator[TikTokFake]:
    order = load("order.json")
    order["create_time"], order["update_time"] = ago(600), ago(50)
    fake.add_order(order)
    second = copy.deepcopy(order)
    second.update(id="576461413038785799", update_time=ago(45), user_id="7021436810468239999")
    fake.add_order(second)
    malformed = copy.deepcopy(order)
    malformed.update(id="576461413038785800", update_time=ago(48))
    malformed["line_items"][0]["sale_price"] = "free"
    fake.add_order(malformed)
    chat = load("conversation.json")
    for n, message in enumerate(chat["messages"]):
        message["create_time"] = ago(40 - n)
    chat["messages"].append(
        {
            "id": "7282834513211418904",
            "type": "HOLOGRAM",
            "content": "{}",
            "create_time": ago(30),
            "sender": {"role": "BUYER", "im_user_id": "7021436810468230999"},
        }
    )
    fake.add_conversation(chat["conversation"], chat["messages"])
    item = load("return.json")
    item.update(create_time=ago(31), update_time=ago(30))
    fake.add_return(item)
    refund = load("return.json")
    refund.update(return_id=REFUND_ID, return_type="REFUND", create_time=ago(29), update_time=ago(28))
    fake.add_return(refund)
    cancel = load("cancellation.json")
    cancel.update(create_time=ago(27), update_time=ago(26))
    fake.add_cancellation(cancel)
    yield fake


def test_sync_into_tickets_rerun_duplicates_nothing(store: Store, seeded: TikTokFake, waits: list[float]) -> None:
    runs = sync_streams(store)
    orders, messages, returns = runs[Stream.ORDERS], runs[Stream.MESSAGES], runs[Stream.RETURNS]
    assert {r.status for r in runs.values()} == {SyncRunStatus.SUCCEEDED}
    assert (orders.records, orders.created, orders.quarantined) == (3, 2, 1)
    assert (messages.records, messages.quarantined) == (4, 1)
    assert (returns.records, returns.created) == (3, 3)
    bad = quarantine_reasons(store)
    malformed_key = f"order:576461413038785800:{seeded.orders['576461413038785800']['update_time']}"
    assert bad[malformed_key][0] == "line_items[0].sale_price"
    assert bad["message:7282834513211418904"] == ("type", "unknown message type 'HOLOGRAM'")

    order = Order.objects.get(store=store, external_id=ORDER_ID)
    assert sorted(order.lines.values_list("external_line_id", "quantity", "unit_price_amount")) == [
        ("577086512123755123", 1, Decimal("29.99")),
        ("577086512123755124", 1, Decimal("24.99")),
    ]
    assert order.ship_address_key and len(order.ship_address_key) == 64  # the address's fingerprint only
    ticket = Ticket.objects.get(store=store, messages__external_id="tiktok:7282834513211418901")
    assert ticket.customer_id == order.customer_id  # the chat's buyer is the order's user
    assert list(ticket.messages.order_by("id").values_list("external_id", "direction"))[:3] == [
        ("tiktok:7282834513211418901", "inbound"),
        ("tiktok:7282834513211418902", "inbound"),
        ("tiktok:7282834513211418903", "outbound"),  # written in Seller Center: kept on the thread
    ]
    returned = ReturnRequest.objects.get(store=store, external_id=RETURN_ID)
    assert returned.kind == ReturnKind.RETURN and returned.platform_status == "RETURN_OR_REFUND_REQUEST_PENDING"
    assert returned.respond_by == datetime.fromtimestamp(1765065600, tz=UTC)  # TikTok's deadline
    assert returned.order == order and returned.requested_amount == Decimal("29.99")
    assert ReturnRequest.objects.get(store=store, external_id=REFUND_ID).kind == ReturnKind.REFUND_REQUEST
    cancelled = ReturnRequest.objects.get(store=store, external_id=CANCEL_ID)
    assert cancelled.kind == ReturnKind.CANCELLATION
    assert cancelled.respond_by == datetime.fromtimestamp(1764982800, tz=UTC)
    assert_resync_adds_nothing(store)

    # A status change on TikTok is seen by the next poll; the malformed order, fixed, is retried.
    seeded.returns[REFUND_ID].update(return_status="RETURN_OR_REFUND_REQUEST_CANCEL", update_time=ago(1))
    assert sync_stream(store_id=store.pk, stream=Stream.RETURNS).updated == 1
    assert ReturnRequest.objects.get(store=store, external_id=REFUND_ID).platform_status == (
        "RETURN_OR_REFUND_REQUEST_CANCEL"
    )

    def fix(payload: dict[str, Any]) -> None:
        payload["data"]["line_items"][0]["sale_price"] = "19.99"

    retry_fixed(store, malformed_key, fix)
    assert Order.objects.filter(store=store, external_id="576461413038785800").exists()


def test_a_deauthorised_app_pauses_the_store_with_tiktoks_words(
    store: Store, seeded: TikTokFake, waits: list[float]
) -> None:
    seeded.revoked = True
    run = sync_stream(store_id=store.pk, stream=Stream.ORDERS)
    assert run.status == SyncRunStatus.PAUSED
    assert "The seller has deauthorized the app" in run.error
    sync = store_sync_for(store)
    assert sync.paused and "The seller has deauthorized the app" in sync.paused_reason
    assert seeded.refresh_token not in run.error and seeded.app_secret not in run.error


def _signed(fake: TikTokFake, request: Any, path: str, token: str) -> None:
    """The request TikTok checks: app key, cipher, the token in the header only, `sign` over it."""
    params = {k: v[0] for k, v in request.query.items()}
    assert params["app_key"] == fake.app_key and params["shop_cipher"] == fake.shop_cipher
    assert request.headers["x-tts-access-token"] == token and "access_token" not in params
    assert request.headers["content-type"] == "application/json"
    assert params["sign"] == sign(fake.app_secret, path, params, request.body)


def test_every_write_back_sends_the_exact_request(store: Store, seeded: TikTokFake, waits: list[float]) -> None:
    sync_streams(store)
    store.refresh_from_db()
    token = store.credentials["access_token"]
    connector = get_connector("tiktok")
    assert isinstance(connector, TikTokConnector)
    perform = WriteBacks(store).perform

    reply = OutboundReply(
        message_id=1,
        store_id=store.pk,
        credentials={},
        conversation_id=f"tiktok:{CONVERSATION}",
        order_external_id=ORDER_ID,
        customer_address="7021436810468230477",
        customer_name="jordan.m",
        subject="",
        body="Your charger ships today — tracking follows.",
    )
    row = perform("send_message", "msg-1", reply, lambda ctx: connector.send_message(ctx, reply))
    assert row.status == WriteBackStatus.SUCCEEDED and row.external_id.startswith("tiktok:74")
    path = f"/customer_service/202309/conversations/{CONVERSATION}/messages"
    [sent] = seeded.requests_to(path, "POST")
    _signed(seeded, sent, path, token)
    assert sent.json() == {"type": "TEXT", "content": '{"content": "Your charger ships today — tracking follows."}'}
    assert perform("send_message", "msg-1", reply, lambda ctx: connector.send_message(ctx, reply)).pk == row.pk
    assert len(seeded.requests_to(path, "POST")) == 1  # the ledger answered

    def decide(key: str, decision: ReturnDecision) -> WriteBack:
        return perform("decide_return", key, decision, lambda ctx: connector.decide_return(ctx, decision))

    approved = decide("ret-approve", ReturnDecision(RETURN_ID, ReturnKind.RETURN, ReturnDecisionKind.APPROVE))
    assert approved.status == WriteBackStatus.SUCCEEDED, approved.detail
    approve_path = f"/return_refund/202309/returns/{RETURN_ID}/approve"
    [approve] = seeded.requests_to(approve_path)
    _signed(seeded, approve, approve_path, token)
    assert approve.json() == {"decision": "APPROVE_RETURN"} and len(approve.arg("idempotency_key") or "") == 32
    assert seeded.returns[RETURN_ID]["return_status"] == "AWAITING_BUYER_SHIP"

    declined = decide(
        "ret-decline",
        ReturnDecision(REFUND_ID, ReturnKind.REFUND_REQUEST, ReturnDecisionKind.DECLINE, comment="It was used."),
    )
    assert declined.status == WriteBackStatus.SUCCEEDED, declined.detail
    [reasons] = seeded.requests_to("/return_refund/202309/reject_reasons")
    assert reasons.arg("return_or_cancel_id") == REFUND_ID
    reject_path = f"/return_refund/202309/returns/{REFUND_ID}/reject"
    [reject] = seeded.requests_to(reject_path)
    _signed(seeded, reject, reject_path, token)
    assert reject.json() == {
        "decision": "REJECT_REFUND",
        "reject_reason": "seller_reject_apply_other_reason",
        "comment": "It was used.",
    }
    cancel = decide("cancel-ok", ReturnDecision(CANCEL_ID, ReturnKind.CANCELLATION, ReturnDecisionKind.APPROVE))
    assert cancel.status == WriteBackStatus.SUCCEEDED
    [cancel_call] = seeded.requests_to(f"/return_refund/202309/cancellations/{CANCEL_ID}/approve")
    assert (
        cancel_call.json() == {} and seeded.cancellations[CANCEL_ID]["cancel_status"] == "CANCELLATION_REQUEST_SUCCESS"
    )
    # TikTok arranges return shipping: no label decision, refused before anything is sent.
    label = decide("ret-label", ReturnDecision(RETURN_ID, ReturnKind.RETURN, ReturnDecisionKind.PROVIDE_LABEL))
    assert label.status == WriteBackStatus.FAILED and "no provide_label decision" in label.detail

    # The refund of a received return: approve the package (TikTok refunds); a resend reconciles.
    seeded.returns[RETURN_ID]["return_status"] = "BUYER_SHIPPED_ITEM"
    refund = RefundRequest("refund-1", ORDER_ID, Decimal("29.99"), "USD", return_external_id=RETURN_ID)
    paid = perform("issue_refund", "refund-1", refund, lambda ctx: connector.issue_refund(ctx, refund))
    assert paid.status == WriteBackStatus.SUCCEEDED, paid.detail
    assert [r.json() for r in seeded.requests_to(approve_path)][-1] == {"decision": "APPROVE_RECEIVED_PACKAGE"}
    from aftersales.channels.context import store_context

    ctx = store_context(store, connector=connector)
    assert "reconciled" in connector.issue_refund(ctx, refund).detail
    assert len(seeded.requests_to(approve_path)) == 2
    bare = RefundRequest("refund-2", ORDER_ID, Decimal("5"), "USD")
    refused = perform("issue_refund", "refund-2", bare, lambda ctx: connector.issue_refund(ctx, bare))
    assert refused.status == WriteBackStatus.FAILED and "only through the buyer's return" in refused.detail


def test_webhooks_through_the_endpoint(store: Store, seeded: TikTokFake, waits: list[float]) -> None:
    url = f"/hooks/tiktok/{store_sync_for(store).webhook_token}"
    client = Client()

    def post(body: bytes, headers: dict[str, str]) -> Any:
        return client.post(url, data=body, content_type="application/json", headers=headers)

    order = seeded.orders[ORDER_ID]
    body, headers = seeded.webhook(ORDER_STATUS_CHANGE, {"order_id": ORDER_ID, "order_status": "AWAITING_SHIPMENT"})
    forged = post(body, {"Authorization": "f" * 64})
    assert forged.status_code == 401 and not RawEvent.objects.filter(store=store).exists()
    wrong_key = post(body, {"Authorization": seeded.webhook(1, {}, secret="not-the-secret")[1]["Authorization"]})
    assert wrong_key.status_code == 401
    accepted = post(body, headers)
    assert accepted.status_code == 200, accepted.content
    assert RawEvent.objects.get(store=store).event_id == f"order:{ORDER_ID}:{order['update_time']}"
    assert post(body, headers).status_code == 200  # TikTok's retry: stored once
    assert RawEvent.objects.filter(store=store).count() == 1
    assert sync_stream(store_id=store.pk, stream=Stream.ORDERS).created == 1  # the second order only

    body, headers = seeded.webhook(RETURN_STATUS_CHANGE, {"return_id": RETURN_ID, "order_id": ORDER_ID})
    assert post(body, headers).status_code == 200
    assert ReturnRequest.objects.filter(store=store, external_id=RETURN_ID).exists()

    seeded.add_message(
        CONVERSATION,
        {
            "id": "7282834513211419999",
            "type": "TEXT",
            "content": '{"content":"Thank you!"}',
            "create_time": ago(0),
            "sender": {"role": "BUYER", "im_user_id": "7021436810468230999", "nickname": "jordan.m"},
        },
    )
    body, headers = seeded.webhook(NEW_MESSAGE, {"conversation_id": CONVERSATION, "message_id": "7282834513211419999"})
    assert post(body, headers).status_code == 200
    assert Message.objects.filter(store=store, external_id="tiktok:7282834513211419999").exists()

    bad_json = b"{not json"
    from aftersales.channels.connectors.tiktok.webhooks import webhook_signature

    bad = post(bad_json, {"Authorization": webhook_signature(seeded.app_key, seeded.app_secret, bad_json)})
    assert bad.status_code == 400 and json.loads(bad.content)["code"] == "invalid_body"


def test_a_reply_with_attachments_is_refused_when_queued(store: Store, seeded: TikTokFake, waits: list[float]) -> None:
    refusal = assert_text_only_replies(
        store, "tiktok:7282834513211418901", "TikTok Shop chat message: text only, no attachments."
    )
    assert "TikTok Shop chat replies are sent as text only" in str(refusal)
