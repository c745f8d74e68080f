"""Acceptance (issue 9): the eBay fake -> the sync engine -> tickets, orders and return requests;
reruns duplicate nothing; every write-back goes through the write-back ledger (key stored first)
and the exact request eBay received is asserted (path, headers with the digital signature, body);
an expired token is refreshed; 429 is honoured; a malformed record is quarantined while the rest
of the page goes on. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from aftersales.catalog.models import Order, Store
from aftersales.channels.base import (
    AttachmentRecord,
    ConnectorError,
    OutboundReply,
    RefundLine,
    RefundReceipt,
    RefundRequest,
    RefundState,
    ReturnDecision,
    ReturnDecisionKind,
    ReturnKind,
    ShipmentConfirmation,
    Stream,
)
from aftersales.channels.connectors.ebay.connector import EbayConnector
from aftersales.channels.connectors.ebay.fake import EbayFake, iso
from aftersales.channels.connectors.ebay.signing import content_digest
from aftersales.channels.connectors.ebay.tests.test_mapping import asyncapi_payload_schema
from aftersales.channels.models import RawEvent, RawEventStatus, SyncRunStatus, WriteBack, WriteBackStatus
from aftersales.channels.registry import get_connector
from aftersales.channels.sync import quarantined_events, sync_stream
from aftersales.channels.writeback import writeback_perform
from aftersales.core.actors import Actor
from aftersales.inbox.models import Message, Ticket
from aftersales.returns.models import ReturnRequest
from aftersales.testing.factories import StoreFactory, UserFactory

FIXTURES = Path(__file__).parent / "fixtures"
ORDER_ID = "12-01234-56789"


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def ago(minutes: int) -> str:
    return iso(datetime.now(UTC) - timedelta(minutes=minutes))


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retry-After and backoff waits recorded instead of slept (the engine's HTTP client and sync)."""
    waits: list[float] = []
    monkeypatch.setattr("aftersales.channels.http.wait_seconds", waits.append)
    monkeypatch.setattr("aftersales.channels.sync.wait_seconds", waits.append)
    return waits


@pytest.fixture
def store(db: Any, fake: EbayFake) -> Store:
    """An eBay.de seller (EU: refunds and return decisions are signed) pointed at the fake."""
    return StoreFactory(
        platform="ebay",
        site="ebay.de",
        currency="EUR",
        external_id=fake.seller,
        endpoint_url=fake.url,
        credentials=fake.credentials(signing_key=fake.new_signing_key()),
    )


@pytest.fixture
def seeded(fake: EbayFake) -> Iterator[EbayFake]:
    order = load("order.json")
    order["lastModifiedDate"] = ago(50)
    fake.add_order(order)
    second = copy.deepcopy(order)
    second["orderId"] = "12-01234-99999"
    second["lastModifiedDate"] = ago(45)
    fake.add_order(second)
    malformed = copy.deepcopy(order)
    malformed["orderId"] = "12-01234-00000"
    malformed["lastModifiedDate"] = ago(48)
    malformed["lineItems"][0]["quantity"] = "two"
    fake.add_order(malformed)
    conversation = load("conversation.json")
    messages = conversation.pop("messages")
    messages[0]["createdDate"], messages[1]["createdDate"] = ago(40), ago(39)
    fake.add_conversation(conversation, messages)
    for n, return_id in enumerate(("5000123456", "5000123457")):
        item = load("return.json")
        item["returnId"] = return_id
        item["creationInfo"]["creationDate"]["value"] = ago(30 - n)
        fake.add_return(item)
    inquiry = load("inquiry.json")
    inquiry["creationDate"]["value"] = ago(20)
    fake.add_inquiry(inquiry)
    case = load("case.json")
    case["creationDate"]["value"] = ago(10)
    fake.add_case(case)
    yield fake


def counts(store: Store) -> tuple[int, int, int, int, int]:
    return (
        Ticket.objects.filter(store=store).count(),
        Message.objects.filter(store=store).count(),
        Order.objects.filter(store=store).count(),
        ReturnRequest.objects.filter(store=store).count(),
        RawEvent.objects.filter(store=store).count(),
    )


def sync_all(store: Store) -> dict[str, Any]:
    return {s: sync_stream(store_id=store.pk, stream=s) for s in (Stream.ORDERS, Stream.MESSAGES, Stream.RETURNS)}


def test_sync_into_tickets_and_rerun_duplicates_nothing(store: Store, seeded: EbayFake, slept: list[float]) -> None:
    runs = sync_all(store)
    orders, messages, returns = runs[Stream.ORDERS], runs[Stream.MESSAGES], runs[Stream.RETURNS]
    assert {r.status for r in runs.values()} == {SyncRunStatus.SUCCEEDED}
    assert (orders.records, orders.created, orders.quarantined) == (3, 2, 1)
    assert (messages.records, messages.created) == (2, 2)  # the buyer's message and the seller's reply
    assert (returns.pages, returns.records, returns.created) == (4, 4, 4)  # open + closed returns, inquiries, cases
    [bad] = quarantined_events(organization_id=store.organization_id, store_id=store.pk)
    assert bad.event_id.startswith("order:12-01234-00000:") and bad.field == "lineItems[0].quantity"

    order = Order.objects.get(store=store, external_id=ORDER_ID)
    assert order.lines.get().external_line_id == "10012345678901"
    ticket = Ticket.objects.get(store=store, messages__external_id="M-900001")
    # The seller's message from eBay's back office is kept on the thread; the buyer's two returns
    # join her open ticket.
    assert list(ticket.messages.order_by("id").values_list("external_id", "direction")) == [
        ("M-900001", "inbound"),
        ("M-900002", "outbound"),
        ("return:5000123456", "inbound"),
        ("return:5000123457", "inbound"),
    ]
    returned = ReturnRequest.objects.get(store=store, external_id="5000123456")
    assert returned.kind == ReturnKind.RETURN and returned.respond_by == datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    assert returned.order == order and returned.ticket_id is not None
    inquiry = ReturnRequest.objects.get(store=store, external_id="5100234567")
    assert inquiry.kind == ReturnKind.INQUIRY and inquiry.respond_by == datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    assert ReturnRequest.objects.get(store=store, external_id="5200345678").kind == ReturnKind.CASE
    before = counts(store)

    again = sync_all(store)
    assert {r.created for r in again.values()} == {0}
    assert counts(store) == before
    # A backfill from the start reads everything again: known records only.
    backfill = sync_stream(store_id=store.pk, stream=Stream.RETURNS, since=datetime.now(UTC) - timedelta(days=1))
    assert (backfill.records, backfill.created, backfill.duplicates) == (4, 0, 4)
    assert counts(store) == before

    # A status change on eBay is seen by the next poll (returns have no push topic).
    seeded.returns["5000123457"]["state"] = "CLOSED"
    changed = sync_stream(store_id=store.pk, stream=Stream.RETURNS)
    assert changed.updated == 1
    assert ReturnRequest.objects.get(store=store, external_id="5000123457").platform_status == "CLOSED"


def test_expired_token_is_refreshed_and_stored_encrypted(
    store: Store, seeded: EbayFake, slept: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    sync_stream(store_id=store.pk, stream=Stream.ORDERS)
    store.refresh_from_db()
    first = store.credentials["access_token"]
    assert store.credentials["refresh_token"] == seeded.refresh_token  # merged, not replaced
    seeded.expire_tokens()
    run = sync_stream(store_id=store.pk, stream=Stream.ORDERS)
    assert run.status == SyncRunStatus.SUCCEEDED
    store.refresh_from_db()
    assert store.credentials["access_token"] != first
    paths = [r.path for r in seeded.requests[-3:]]
    assert paths == ["/sell/fulfillment/v1/order", "/identity/v1/oauth2/token", "/sell/fulfillment/v1/order"]
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM catalog_store WHERE id = %s", [store.pk])
        stored = str(cursor.fetchone()[0])
    assert store.credentials["access_token"] not in stored and "refresh" not in stored  # encrypted at rest
    logged = caplog.text + "".join(str(getattr(r, "__dict__", "")) for r in caplog.records)
    assert "platform call" in logged  # the engine's client logged the calls...
    for secret in (first, store.credentials["access_token"], seeded.refresh_token, seeded.client_secret):
        assert secret not in logged  # ...never a token or secret


def test_429_is_honoured(store: Store, seeded: EbayFake, slept: list[float]) -> None:
    seeded.throttle_next("/post-order/v2/inquiry/search", retry_after=1)
    run = sync_stream(store_id=store.pk, stream=Stream.RETURNS)
    assert run.status == SyncRunStatus.SUCCEEDED and run.created == 4
    assert 1.0 in slept
    searches = seeded.requests_to("/post-order/v2/inquiry/search")
    assert len(searches) == 2  # refused once, then sent again after Retry-After


def test_a_revoked_grant_pauses_the_store_with_ebays_words(db: Any, fake: EbayFake, slept: list[float]) -> None:
    store = StoreFactory(
        platform="ebay",
        site="ebay.com",
        external_id=fake.seller,
        endpoint_url=fake.url,
        credentials=fake.credentials(refresh_token="revoked"),
    )
    run = sync_stream(store_id=store.pk, stream=Stream.ORDERS)
    assert run.status == SyncRunStatus.PAUSED
    assert "refresh token is invalid" in run.error and "revoked" not in run.error
    store.sync.refresh_from_db()
    assert store.sync.paused


def _actor() -> Actor:
    return Actor.user(UserFactory())


def _signed(request: Any) -> None:
    assert request.headers["x-ebay-signature-key"].startswith("eyJfake.")
    assert request.headers["signature-input"].startswith(
        'sig1=("content-digest" "x-ebay-signature-key" "@method" "@path" "@authority");created='
    )
    assert request.headers["signature"].startswith("sig1=:")
    assert request.headers["content-digest"] == content_digest(request.body)


def test_every_write_back_sends_the_exact_request(store: Store, seeded: EbayFake, slept: list[float]) -> None:
    sync_all(store)
    store.refresh_from_db()  # the token the sync refreshed (else every write-back refreshes its own)
    tokens_before = len(seeded.requests_to("/identity/v1/oauth2/token"))
    connector = get_connector("ebay")
    assert isinstance(connector, EbayConnector)
    actor = _actor()

    def perform(kind: str, key: str, request: Any, call: Any) -> WriteBack:
        row = writeback_perform(store=store, kind=kind, key=key, request=request, actor=actor, call=call)
        assert row.status == WriteBackStatus.SUCCEEDED, row.detail
        return row

    # A reply in the buyer's conversation.
    reply = OutboundReply(
        message_id=1,
        store_id=store.pk,
        credentials={},
        conversation_id="C-771100",
        order_external_id=ORDER_ID,
        customer_address="buyer_anna",
        customer_name="Anna Schmidt",
        subject="",
        body="Ihre Sendung ist unterwegs: JJD0001.",
    )
    row = perform("send_message", "msg-1", reply, lambda ctx: connector.send_message(ctx, reply))
    [sent] = seeded.requests_to("/commerce/message/v1/send_message")
    assert sent.method == "POST"
    assert sent.headers["authorization"].startswith("Bearer v^1.1#")
    assert sent.headers["x-ebay-c-marketplace-id"] == "EBAY_DE"
    assert sent.json() == {"messageText": "Ihre Sendung ist unterwegs: JJD0001.", "conversationId": "C-771100"}
    assert row.external_id.startswith("M-")

    # Return decisions, each way (two returns: one approved, one declined before).
    def decide(key: str, decision: ReturnDecision) -> WriteBack:
        return perform("decide_return", key, decision, lambda ctx: connector.decide_return(ctx, decision))

    decide(
        "ret-offer",
        ReturnDecision(
            "5000123456",
            ReturnKind.RETURN,
            ReturnDecisionKind.OFFER_PARTIAL_REFUND,
            comment="10 EUR for the scratch?",
            amount=Decimal("10"),
            currency="EUR",
        ),
    )
    decide(
        "ret-decline",
        ReturnDecision(
            "5000123457", ReturnKind.RETURN, ReturnDecisionKind.DECLINE, comment="Outside the return window"
        ),
    )
    decide("ret-approve", ReturnDecision("5000123456", ReturnKind.RETURN, ReturnDecisionKind.APPROVE))
    decide(
        "ret-rma",
        ReturnDecision("5000123456", ReturnKind.RETURN, ReturnDecisionKind.PROVIDE_RMA, rma_number="RMA-2026-001"),
    )
    decisions = seeded.requests_to(r"/post-order/v2/return/\d+/decide")
    assert [(r.path.split("/")[4], r.json()) for r in decisions] == [
        (
            "5000123456",
            {
                "decision": "OFFER_PARTIAL_REFUND",
                "comments": {"content": "10 EUR for the scratch?"},
                "partialRefundAmount": {"value": "10.00", "currency": "EUR"},
            },
        ),
        ("5000123457", {"decision": "DECLINE", "comments": {"content": "Outside the return window"}}),
        ("5000123456", {"decision": "APPROVE"}),
        ("5000123456", {"decision": "PROVIDE_RMA", "RMANumber": "RMA-2026-001"}),
    ]
    for request in decisions:
        assert request.headers["authorization"].startswith("IAF v^1.1#")
        _signed(request)

    label = AttachmentRecord(filename="return-label.pdf", content=b"%PDF-1.7 label", content_type="application/pdf")
    decide(
        "ret-label",
        ReturnDecision(
            "5000123456",
            ReturnKind.RETURN,
            ReturnDecisionKind.PROVIDE_LABEL,
            label=label,
            carrier="DHL",
            tracking_number="JJD0099",
        ),
    )
    upload, submit, tracking = (
        seeded.requests_to("/post-order/v2/return/5000123456/file/upload")[0],
        seeded.requests_to("/post-order/v2/return/5000123456/file/submit")[0],
        seeded.requests_to("/post-order/v2/return/5000123456/add_shipping_label")[0],
    )
    assert upload.json() == {
        "fileName": "return-label.pdf",
        "data": base64.b64encode(b"%PDF-1.7 label").decode(),
        "filePurpose": "LABEL_RELATED",
    }
    assert seeded.files[upload.json() and next(iter(seeded.files))]["bytes"] == b"%PDF-1.7 label"
    assert submit.json() == {"filePurpose": "LABEL_RELATED"}
    assert tracking.json() == {"carrierName": "DHL", "trackingNumber": "JJD0099"}
    decide("ret-received", ReturnDecision("5000123456", ReturnKind.RETURN, ReturnDecisionKind.MARK_RECEIVED))
    received = seeded.requests_to("/post-order/v2/return/5000123456/mark_as_received")[0]
    assert received.headers["authorization"].startswith("IAF ") and received.json() == {}
    assert seeded.returns["5000123456"]["state"] == "ITEM_DELIVERED"

    # Inquiry: shipment info; case: refund (signed).
    decide(
        "inq-ship",
        ReturnDecision(
            "5100234567", ReturnKind.INQUIRY, ReturnDecisionKind.PROVIDE_LABEL, carrier="DHL", tracking_number="JJD0100"
        ),
    )
    assert seeded.requests_to("/post-order/v2/inquiry/5100234567/provide_shipment_info")[0].json() == {
        "shippingCarrierName": "DHL",
        "trackingNumber": "JJD0100",
    }
    decide(
        "case-refund",
        ReturnDecision("5200345678", ReturnKind.CASE, ReturnDecisionKind.APPROVE, comment="Refunded in full"),
    )
    case_refund = seeded.requests_to("/post-order/v2/casemanagement/5200345678/issue_refund")[0]
    assert case_refund.json() == {"comments": {"content": "Refunded in full"}}
    _signed(case_refund)

    # The refund: the key is stored before the call, eBay is called once, the status is polled.
    refund = RefundRequest(
        idempotency_key="refund-line-1",
        order_external_id=ORDER_ID,
        amount=Decimal("29.99"),
        currency="EUR",
        reason="buyer_return",
        lines=[RefundLine(external_line_id="10012345678901", quantity=1, amount=Decimal("29.99"))],
    )
    seen_before_call: list[str] = []

    def issue(ctx: Any) -> RefundReceipt:
        seen_before_call.append(WriteBack.objects.get(store=store, idempotency_key=refund.idempotency_key).status)
        return connector.issue_refund(ctx, refund)

    row = perform("issue_refund", refund.idempotency_key, refund, issue)
    assert seen_before_call == [WriteBackStatus.SENDING]
    [call] = seeded.requests_to(f"/sell/fulfillment/v1/order/{ORDER_ID}/issue_refund")
    assert call.method == "POST" and call.headers["authorization"].startswith("Bearer ")
    assert call.json() == {
        "reasonForRefund": "BUYER_RETURN",
        "refundItems": [{"lineItemId": "10012345678901", "refundAmount": {"value": "29.99", "currency": "EUR"}}],
    }
    _signed(call)
    assert row.external_id.startswith("R-") and row.response["state"] == "pending"
    again = writeback_perform(
        store=store, kind="issue_refund", key=refund.idempotency_key, request=refund, actor=actor, call=issue
    )
    assert again.pk == row.pk and len(seen_before_call) == 1  # the ledger answered; eBay not called
    assert len(seeded.requests_to(f"/sell/fulfillment/v1/order/{ORDER_ID}/issue_refund")) == 1

    receipt = RefundReceipt(external_id=row.external_id, state=RefundState.PENDING)
    ctx_store = Store.objects.get(pk=store.pk)
    from aftersales.channels.context import store_context

    assert connector.refund_status(store_context(ctx_store), refund, receipt).state == RefundState.PENDING
    seeded.complete_refunds()
    assert connector.refund_status(store_context(ctx_store), refund, receipt).state == RefundState.SUCCEEDED

    # The received return is refunded through the return (Post-Order), signed, once.
    return_refund = RefundRequest(
        idempotency_key="refund-ret-5000123456",
        order_external_id=ORDER_ID,
        amount=Decimal("20"),
        currency="EUR",
        return_external_id="5000123456",
        note="Refund for the returned case",
    )
    row = perform(
        "issue_refund",
        return_refund.idempotency_key,
        return_refund,
        lambda ctx: connector.issue_refund(ctx, return_refund),
    )
    [call] = seeded.requests_to("/post-order/v2/return/5000123456/issue_refund")
    assert call.headers["authorization"].startswith("IAF ")
    assert call.json() == {
        "refundDetail": {
            "itemizedRefundDetail": [
                {"refundAmount": {"value": "20.00", "currency": "EUR"}, "refundFeeType": "PURCHASE_PRICE"}
            ],
            "totalAmount": {"value": "20.00", "currency": "EUR"},
        },
        "comments": {"content": "Refund for the returned case"},
    }
    _signed(call)
    assert (row.external_id, row.response["state"]) == ("return:5000123456", "succeeded")
    polled = connector.refund_status(
        store_context(ctx_store), return_refund, RefundReceipt(row.external_id, RefundState.PENDING)
    )
    assert polled.state == RefundState.SUCCEEDED and seeded.returns["5000123456"]["state"] == "REFUND_ISSUED"

    # Mark the second order shipped.
    shipment = ShipmentConfirmation(
        order_external_id="12-01234-99999",
        carrier="DHL",
        tracking_number="JJD0200",
        shipped_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
    )
    row = perform("mark_shipped", "ship-99999", shipment, lambda ctx: connector.mark_shipped(ctx, shipment))
    [shipped] = seeded.requests_to("/sell/fulfillment/v1/order/12-01234-99999/shipping_fulfillment")
    assert shipped.headers["authorization"].startswith("Bearer ")
    assert shipped.json() == {
        "lineItems": [{"lineItemId": "10012345678901", "quantity": 2}],
        "shippedDate": "2026-12-01T09:30:00.000Z",
        "shippingCarrierCode": "DHL",
        "trackingNumber": "JJD0200",
    }
    assert row.external_id and seeded.orders["12-01234-99999"]["orderFulfillmentStatus"] == "FULFILLED"
    assert len(seeded.requests_to("/identity/v1/oauth2/token")) == tokens_before  # the stored token was used


def test_a_refund_whose_answer_was_lost_is_not_sent_twice(store: Store, seeded: EbayFake, slept: list[float]) -> None:
    """eBay takes no idempotency key: the worker refunded, then died before recording the receipt.
    The retry under the same key finds the refund on the order and does not send another."""
    sync_stream(store_id=store.pk, stream=Stream.ORDERS)
    connector = get_connector("ebay")
    assert isinstance(connector, EbayConnector)
    refund = RefundRequest(
        idempotency_key="refund-lost",
        order_external_id=ORDER_ID,
        amount=Decimal("12.50"),
        currency="EUR",
        reason="other",
    )
    from aftersales.channels.context import store_context

    first = connector.issue_refund(store_context(store), refund)  # made, but its answer never recorded
    row = writeback_perform(
        store=store,
        kind="issue_refund",
        key=refund.idempotency_key,
        request=refund,
        actor=_actor(),
        call=lambda ctx: connector.issue_refund(ctx, refund),
    )
    assert row.status == WriteBackStatus.SUCCEEDED and row.external_id == first.external_id
    assert "reconciled" in row.detail
    assert len(seeded.requests_to(f"/sell/fulfillment/v1/order/{ORDER_ID}/issue_refund")) == 1


def test_a_transient_failure_leaves_the_key_pending_and_the_retry_sends_once(
    store: Store, seeded: EbayFake, slept: list[float]
) -> None:
    sync_stream(store_id=store.pk, stream=Stream.ORDERS)
    connector = get_connector("ebay")
    assert isinstance(connector, EbayConnector)
    refund = RefundRequest(
        idempotency_key="refund-503", order_external_id=ORDER_ID, amount=Decimal("5"), currency="EUR"
    )
    seeded.fail_next(f"/sell/fulfillment/v1/order/{ORDER_ID}/issue_refund", status=503)
    with pytest.raises(ConnectorError):
        writeback_perform(
            store=store,
            kind="issue_refund",
            key=refund.idempotency_key,
            request=refund,
            actor=_actor(),
            call=lambda ctx: connector.issue_refund(ctx, refund),
        )
    assert WriteBack.objects.get(store=store, idempotency_key="refund-503").status == WriteBackStatus.PENDING
    row = writeback_perform(
        store=store,
        kind="issue_refund",
        key=refund.idempotency_key,
        request=refund,
        actor=_actor(),
        call=lambda ctx: connector.issue_refund(ctx, refund),
    )
    assert row.status == WriteBackStatus.SUCCEEDED
    refunds = seeded.orders[ORDER_ID]["paymentSummary"]["refunds"]
    assert [r["amount"]["value"] for r in refunds] == ["5.00"]


def test_a_malformed_page_item_is_quarantined_with_its_field_and_retried_after_a_fix(
    store: Store, seeded: EbayFake, slept: list[float]
) -> None:
    run = sync_stream(store_id=store.pk, stream=Stream.ORDERS)
    assert (run.created, run.quarantined) == (2, 1)
    row = RawEvent.objects.get(store=store, status=RawEventStatus.QUARANTINED)
    assert row.field == "lineItems[0].quantity" and "not an integer" in row.reason


# -- Notification API pushes through the engine's webhook endpoint ------------------------------


def hook_url(store: Store) -> str:
    from aftersales.channels.sync import store_sync_for

    return f"/hooks/ebay/{store_sync_for(store).webhook_token}"


def test_a_push_with_a_bad_signature_is_refused_and_nothing_is_stored(
    store: Store, fake: EbayFake, client: Any
) -> None:
    sample = load("spec/message.json")
    url = hook_url(store)
    refused = fake.push(url, sample, valid=False, client=client)
    assert refused.status_code == 401 and refused.json()["code"] == "signature_invalid"
    assert client.post(url, data=json.dumps(sample), content_type="application/json").status_code == 401  # unsigned
    headers, body = fake.signed_notification(sample)
    header = json.loads(base64.b64decode(headers["X-EBAY-SIGNATURE"]))
    header["kid"] = "a-key-ebay-never-issued"
    forged = base64.b64encode(json.dumps(header).encode()).decode()
    answer = client.post(url, data=body, content_type="application/json", headers={"X-EBAY-SIGNATURE": forged})
    assert answer.status_code == 401
    assert RawEvent.objects.filter(store=store).count() == 0


def test_a_signed_push_is_stored_once_and_opens_nothing(
    store: Store, fake: EbayFake, client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    sample = load("spec/message.json")
    jsonschema.validate(sample, asyncapi_payload_schema())
    url = hook_url(store)
    with django_capture_on_commit_callbacks(execute=True):  # the erasure redacts raw copies after commit
        first = fake.push(url, sample, client=client)
    assert first.status_code == 200 and first.json() == {"received": 1, "actions": {"updated": 1}}
    again = fake.push(url, sample, client=client)  # eBay retries a push: known, no-op
    assert again.status_code == 200 and again.json()["actions"] == {"duplicate": 1}
    [row] = RawEvent.objects.filter(store=store)
    assert row.event_id == f"notification:{sample['notification']['notificationId']}" and row.source == "webhook"
    assert "buyer data erased: 0 identities" in row.reason  # nobody known by that name here
    assert row.payload == {"erased": "[erased: the buyer closed their marketplace account]"}  # the notice names them
    assert Ticket.objects.filter(store=store).count() == 0
    # A signed body that does not match the published schema is stored and quarantined with the field.
    broken = copy.deepcopy(sample)
    broken["notification"]["notificationId"] = "n-2"
    broken["notification"]["publishAttemptCount"] = "twice"
    quarantined = fake.push(url, broken, client=client)
    assert quarantined.status_code == 200 and quarantined.json()["actions"] == {"quarantined": 1}
    assert RawEvent.objects.get(store=store, event_id="notification:n-2").field == "notification.publishAttemptCount"
    assert fake.public_key_fetches == 1  # cached by key id


def test_an_agents_reply_reaches_ebay_and_the_next_poll_does_not_duplicate_it(
    world: Any, fake: EbayFake, slept: list[float]
) -> None:
    from aftersales.inbox.services.delivery import message_deliver
    from aftersales.inbox.services.tickets import ticket_reply

    store = world.store_de  # the personas' eBay.de store, pointed at the fake
    store.endpoint_url = fake.url
    store.external_id = fake.seller
    store.currency = "EUR"
    store.credentials = fake.credentials(signing_key=fake.new_signing_key())
    store.save()
    conversation = load("conversation.json")
    messages = conversation.pop("messages")
    messages[0]["createdDate"], messages[1]["createdDate"] = ago(40), ago(39)
    fake.add_conversation(conversation, messages)
    assert sync_stream(store_id=store.pk, stream=Stream.MESSAGES).created == 2
    ticket = Ticket.objects.get(store=store)
    reply = ticket_reply(ticket=ticket, author=world.admin, body="Das Paket wird morgen zugestellt.")
    assert message_deliver(reply.pk) == "sent"
    [sent] = fake.requests_to("/commerce/message/v1/send_message")
    assert sent.json() == {"messageText": "Das Paket wird morgen zugestellt.", "conversationId": "C-771100"}
    assert sent.headers["authorization"].startswith("Bearer ")
    reply.refresh_from_db()
    assert reply.external_id.startswith("M-")
    # eBay now lists our reply in the conversation: the next poll finds it known.
    run = sync_stream(store_id=store.pk, stream=Stream.MESSAGES)
    assert (run.records, run.created) == (3, 0)
    assert ticket.messages.count() == 3


def test_the_endpoint_challenge_is_answered(store: Store, client: Any) -> None:
    import hashlib

    url = hook_url(store)
    answer = client.get(url, {"challenge_code": "a8628072-3d33-45ee-9004-bee86830a22d"})
    assert answer.status_code == 200 and answer["Content-Type"] == "application/json"
    expected = hashlib.sha256(
        ("a8628072-3d33-45ee-9004-bee86830a22d" + EbayFake.verification_token + "http://testserver" + url).encode()
    ).hexdigest()
    assert answer.json() == {"challengeResponse": expected}
    # The endpoint registered with eBay (behind a proxy) is the one hashed when the store names it.
    store.credentials = {**store.credentials, "endpoint_url": "https://help.example.com" + url}
    store.save()
    again = client.get(url, {"challenge_code": "x"})
    registered = "x" + EbayFake.verification_token + "https://help.example.com" + url
    assert again.json() == {"challengeResponse": hashlib.sha256(registered.encode()).hexdigest()}


def test_send_reply_builds_the_stores_context(store: Store, fake: EbayFake) -> None:
    """The protocol's send_reply (no context given) reaches the same endpoint as send_message."""
    conversation = load("conversation.json")
    fake.add_conversation(conversation, conversation.pop("messages"))
    reply = OutboundReply(
        message_id=7,
        store_id=store.pk,
        credentials={},
        conversation_id="C-771100",
        order_external_id=None,
        customer_address="buyer_anna",
        customer_name="Anna",
        subject="",
        body="Danke!",
    )
    receipt = EbayConnector().send_reply(reply)
    [sent] = fake.requests_to("/commerce/message/v1/send_message")
    assert sent.json() == {"messageText": "Danke!", "conversationId": "C-771100"}
    assert receipt.external_id.startswith("M-")


def test_a_buyers_photo_becomes_an_attachment_of_the_message(store: Store, fake: EbayFake, slept: list[float]) -> None:
    import io

    from PIL import Image

    picture = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(picture, format="PNG")
    conversation = load("conversation.json")
    [message] = conversation.pop("messages")[:1]
    message["createdDate"] = ago(5)
    message["messageMedia"] = [
        {
            "mediaName": "cracked.png",
            "mediaType": "IMAGE",
            "mediaUrl": fake.add_media("cracked.png", picture.getvalue()),
        }
    ]
    fake.add_conversation(conversation, [message])
    run = sync_stream(store_id=store.pk, stream=Stream.MESSAGES)
    assert run.created == 1
    stored = Message.objects.get(store=store, external_id="M-900001")
    [attachment] = stored.attachments.all()
    assert attachment.filename == "cracked.png" and attachment.content_type == "image/png"
    assert sync_stream(store_id=store.pk, stream=Stream.MESSAGES).created == 0


def test_the_demo_seed_syncs_completely(store: Store, fake: EbayFake, slept: list[float]) -> None:
    fake.seed_demo(orders=60)
    runs = sync_all(store)
    assert {r.status for r in runs.values()} == {SyncRunStatus.SUCCEEDED}
    assert runs[Stream.ORDERS].created == 60 and runs[Stream.ORDERS].pages == 2
    assert runs[Stream.MESSAGES].created == 20
    assert runs[Stream.RETURNS].created == 12 + 9 + 6  # returns, inquiries, cases
    assert sum(r.quarantined for r in runs.values()) == 0
    assert ReturnRequest.objects.filter(store=store, respond_by__isnull=True).count() == 0
