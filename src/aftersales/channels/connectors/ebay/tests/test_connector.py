"""The connector against the local fake eBay (real HTTP on 127.0.0.1): paging and cursors, tokens,
IAF vs Bearer, 429/5xx, digital signatures, every write-back's exact request, push verification."""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from aftersales.channels.base import (
    AttachmentRecord,
    AuthError,
    ConnectorError,
    MappingError,
    OrderRecord,
    OutboundReply,
    RateLimited,
    RefundLine,
    RefundReceipt,
    RefundRequest,
    RefundState,
    ReturnDecision,
    ReturnDecisionKind,
    ReturnKind,
    ReturnRecord,
    SignatureInvalid,
    Stream,
)
from aftersales.channels.connectors.ebay import fake as fake_module
from aftersales.channels.connectors.ebay.connector import EbayConnector
from aftersales.channels.connectors.ebay.fake import EbayFake
from aftersales.channels.connectors.ebay.signing import content_digest
from aftersales.channels.connectors.ebay.webhooks import challenge_response

from .conftest import Recorder, make_ctx

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def recent(minutes: int = 5) -> str:
    return fake_module.iso(datetime.now(UTC) - timedelta(minutes=minutes))


def order(n: int, **changes: Any) -> dict[str, Any]:
    data = load("order.json")
    data["orderId"] = f"12-00000-{n:05d}"
    data["lastModifiedDate"] = recent(60 - n % 50)
    data.update(changes)
    return data


def drain(connector: EbayConnector, ctx: Any, stream: Stream, cursor: str | None = None) -> tuple[list[Any], str]:
    records: list[Any] = []
    while True:
        page = connector.pull(ctx, stream, cursor, None)
        records.extend(page.records)
        cursor = page.next_cursor
        assert cursor is not None
        if page.done:
            return records, cursor


def test_orders_page_by_page_and_the_next_pass_reads_only_the_overlap(
    fake: EbayFake, connector: EbayConnector, ctx: Any, recorder: Recorder
) -> None:
    for n in range(60):
        fake.add_order(order(n))
    records, cursor = drain(connector, ctx, Stream.ORDERS)
    assert len({r.event_id for r in records}) == 60
    assert len(fake.requests_to("/sell/fulfillment/v1/order", "GET")) == 2  # 50 + 10
    first = fake.requests_to("/sell/fulfillment/v1/order")[0]
    assert first.arg("filter", "").startswith("lastmodifieddate:[") and first.arg("limit") == "50"
    assert first.headers["authorization"].startswith("Bearer v^1.1#")
    assert first.headers["x-ebay-c-marketplace-id"] == "EBAY_US"
    mapped = connector.map_record(ctx, records[0])
    assert isinstance(mapped[0], OrderRecord) and mapped[0].lines[0].external_line_id == "10012345678901"
    assert "ebay:fulfillment" in recorder.throttled
    # The next pass starts 10 minutes before the end of this one: the orders are older than that.
    again, _ = drain(connector, ctx, Stream.ORDERS, cursor)
    assert again == []


def test_the_first_call_refreshes_the_token_and_saves_it(
    fake: EbayFake, connector: EbayConnector, ctx: Any, recorder: Recorder
) -> None:
    connector.pull(ctx, Stream.ORDERS, None, None)
    [token_call] = fake.requests_to("/identity/v1/oauth2/token")
    expected = base64.b64encode(f"{fake.client_id}:{fake.client_secret}".encode()).decode()
    assert token_call.headers["authorization"] == f"Basic {expected}"
    assert token_call.headers["content-type"] == "application/x-www-form-urlencoded"
    assert b"grant_type=refresh_token" in token_call.body
    [saved] = recorder.saved
    assert set(saved) == {"access_token", "access_token_expires_at"}  # merged into the store by the engine
    assert saved["access_token"].startswith("v^1.1#")
    assert datetime.fromisoformat(saved["access_token_expires_at"]) > datetime.now(UTC) + timedelta(hours=1)


def test_a_token_expired_on_ebay_is_refreshed_once_and_the_call_goes_on(
    fake: EbayFake, connector: EbayConnector, recorder: Recorder
) -> None:
    fake.add_order(order(1))
    ctx = make_ctx(fake, recorder)
    connector.pull(ctx, Stream.ORDERS, None, None)
    saved = recorder.saved[-1]
    fake.expire_tokens()  # eBay revoked / expired it before the stored expiry
    ctx2 = make_ctx(fake, recorder, **{k: saved[k] for k in ("access_token", "access_token_expires_at")})
    page = connector.pull(ctx2, Stream.ORDERS, None, None)
    assert len(page.records) == 1
    statuses = [r.path for r in fake.requests[-3:]]
    assert statuses == ["/sell/fulfillment/v1/order", "/identity/v1/oauth2/token", "/sell/fulfillment/v1/order"]
    assert recorder.saved[-1]["access_token"] != saved["access_token"]


def test_a_stored_token_past_its_expiry_is_refreshed_before_the_call(
    fake: EbayFake, connector: EbayConnector, recorder: Recorder
) -> None:
    ctx = make_ctx(fake, recorder, access_token="stale", access_token_expires_at="2020-01-01T00:00:00+00:00")
    connector.pull(ctx, Stream.ORDERS, None, None)
    assert [r.path for r in fake.requests] == ["/identity/v1/oauth2/token", "/sell/fulfillment/v1/order"]


def test_a_revoked_refresh_token_is_a_permanent_auth_error(
    fake: EbayFake, connector: EbayConnector, recorder: Recorder
) -> None:
    ctx = make_ctx(fake, recorder, refresh_token="revoked")
    with pytest.raises(AuthError) as caught:
        connector.pull(ctx, Stream.ORDERS, None, None)
    assert caught.value.permanent and "refresh token is invalid" in str(caught.value)
    assert "revoked" not in str(caught.value)  # the secret itself is never in a message


def test_429_is_honoured_with_its_retry_after(
    fake: EbayFake, connector: EbayConnector, ctx: Any, recorder: Recorder
) -> None:
    fake.add_order(order(1))
    fake.throttle_next("/sell/fulfillment/v1/order", retry_after=1, times=2)
    page = connector.pull(ctx, Stream.ORDERS, None, None)
    assert len(page.records) == 1
    assert recorder.slept == [1.0, 1.0]


def test_429_that_does_not_stop_raises_rate_limited(fake: EbayFake, recorder: Recorder) -> None:
    connector = EbayConnector(sleep=recorder.slept.append, max_retries=1)
    ctx = make_ctx(fake, recorder)
    fake.throttle_next("/sell/fulfillment/v1/order", retry_after=7, times=5)
    with pytest.raises(RateLimited) as caught:
        connector.pull(ctx, Stream.ORDERS, None, None)
    assert caught.value.retry_after == 7.0 and not caught.value.permanent


def test_5xx_and_drops_are_retried_on_reads_but_a_refund_is_never_blindly_resent(
    fake: EbayFake, connector: EbayConnector, ctx: Any, recorder: Recorder
) -> None:
    fake.add_order(order(1))
    fake.fail_next("/sell/fulfillment/v1/order", status=503)
    fake.drop_next("/sell/fulfillment/v1/order")
    assert len(connector.pull(ctx, Stream.ORDERS, None, None).records) == 1
    assert len(recorder.slept) == 2
    fake.fail_next(r"/sell/fulfillment/v1/order/.*/issue_refund", status=500)
    refund = RefundRequest(
        idempotency_key="k1", order_external_id="12-00000-00001", amount=Decimal("5"), currency="EUR"
    )
    with pytest.raises(ConnectorError) as caught:
        connector.issue_refund(ctx, refund)
    assert not caught.value.permanent
    assert len(fake.requests_to(r"/sell/fulfillment/v1/order/.*/issue_refund")) == 1


def test_post_order_uses_iaf_and_the_fake_refuses_bearer(fake: EbayFake, connector: EbayConnector, ctx: Any) -> None:
    fake.add_return(
        load("return.json")
        | {"creationInfo": load("return.json")["creationInfo"] | {"creationDate": {"value": recent()}}}
    )
    records, _ = drain(connector, ctx, Stream.RETURNS)
    assert len(records) == 1
    search = fake.requests_to("/post-order/v2/return/search")[0]
    assert search.headers["authorization"].startswith("IAF v^1.1#")
    assert search.arg("offset") == "1" and search.arg("creation_date_range_from")
    bearer = search.headers["authorization"].replace("IAF ", "Bearer ")
    import httpx

    refused = httpx.get(fake.url + "/post-order/v2/return/search", headers={"Authorization": bearer})
    assert refused.status_code == 401


def _created(data: dict[str, Any], when: str, *, key: str = "creationDate") -> dict[str, Any]:
    data = copy.deepcopy(data)
    data[key] = {"value": when}
    return data


def test_returns_inquiries_and_cases_are_one_stream_with_deadlines(
    fake: EbayFake, connector: EbayConnector, ctx: Any
) -> None:
    for n in range(3):
        returned = load("return.json")
        returned["returnId"] = f"50001{n}"
        returned["creationInfo"]["creationDate"]["value"] = recent(30 + n)
        fake.add_return(returned)
    fake.add_inquiry(_created(load("inquiry.json"), recent()))
    fake.add_case(_created(load("case.json"), recent()))
    connector_small_pages = EbayConnector(sleep=lambda s: None)
    from aftersales.channels.connectors.ebay import connector as connector_module

    original = connector_module.PAGE_SIZE
    connector_module.PAGE_SIZE = 2
    try:
        records, cursor = drain(connector_small_pages, ctx, Stream.RETURNS)
    finally:
        connector_module.PAGE_SIZE = original
    kinds = [r.payload["kind"] for r in records]
    assert kinds == ["return", "return", "return", "inquiry", "case"]
    mapped = [connector.map_record(ctx, r)[0] for r in records]
    assert all(isinstance(m, ReturnRecord) and m.respond_by for m in mapped)
    assert [m.kind for m in mapped][-2:] == [ReturnKind.INQUIRY, ReturnKind.CASE]
    searches = fake.requests_to("/post-order/v2/return/search")
    assert [(r.arg("return_state"), r.arg("offset")) for r in searches] == [(None, "1"), (None, "2"), ("CLOSED", "1")]
    # A status change of a known return is a new version (the next pass re-reads RETURNS_REFRESH);
    # a closed one is found by the closed search and read with its detail.
    fake.returns["500010"]["state"] = "CLOSED"
    again, _ = drain(connector, ctx, Stream.RETURNS, cursor)
    changed = {r.event_id for r in again} - {r.event_id for r in records}
    closed = next(r for r in again if r.payload["data"].get("summary", {}).get("returnId") == "500010")
    assert changed == {closed.event_id} and closed.event_id.startswith("return:500010:CLOSED:")


def test_messages_are_pulled_conversation_by_conversation(fake: EbayFake, connector: EbayConnector, ctx: Any) -> None:
    conversation = load("conversation.json")
    messages = conversation.pop("messages")
    for m in messages:
        m["createdDate"] = recent(20)
    fake.add_conversation(conversation, messages)
    records, _ = drain(connector, ctx, Stream.MESSAGES)
    assert [r.event_id for r in records] == ["message:M-900001", "message:M-900002"]
    first, second = (connector.map_record(ctx, r)[0] for r in records)
    assert not first.from_seller and second.from_seller  # type: ignore[union-attr]
    assert first.conversation_id == "C-771100" and first.order_external_id == "12-01234-56789"  # type: ignore[union-attr]
    listing = fake.requests_to("/commerce/message/v1/conversation")[0]
    assert listing.arg("conversation_type") == "FROM_MEMBERS" and listing.arg("start_time")


def test_a_malformed_record_does_not_stop_the_page(fake: EbayFake, connector: EbayConnector, ctx: Any) -> None:
    fake.add_order(order(1))
    broken = order(2)
    del broken["pricingSummary"]
    fake.add_order(broken)
    fake.add_order(order(3, orderFulfillmentStatus="LOST_AT_SEA"))
    page = connector.pull(ctx, Stream.ORDERS, None, None)
    assert len(page.records) == 3
    outcomes = []
    for raw in page.records:
        try:
            connector.map_record(ctx, raw)
            outcomes.append("ok")
        except MappingError as exc:
            outcomes.append(exc.field)
    assert sorted(outcomes) == ["ok", "orderFulfillmentStatus", "pricingSummary.total"]


# -- write-backs ----------------------------------------------------------------------------------


def _last(fake: EbayFake, path: str) -> Any:
    return fake.requests_to(path)[-1]


def test_send_message_into_the_conversation(fake: EbayFake, connector: EbayConnector, ctx: Any) -> None:
    conversation = load("conversation.json")
    fake.add_conversation(conversation, conversation.pop("messages"))
    reply = OutboundReply(
        message_id=1,
        store_id=1,
        credentials={},
        conversation_id="C-771100",
        order_external_id="12-01234-56789",
        customer_address="buyer_anna",
        customer_name="Anna",
        subject="",
        body="Ihre Sendung kommt morgen an.",
    )
    receipt = connector.send_message(ctx, reply)
    request = _last(fake, "/commerce/message/v1/send_message")
    assert request.method == "POST" and request.headers["authorization"].startswith("Bearer ")
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {"messageText": "Ihre Sendung kommt morgen an.", "conversationId": "C-771100"}
    assert receipt.external_id.startswith("M-")
    with pytest.raises(ConnectorError) as caught:
        connector.send_message(ctx, OutboundReply(**{**reply.__dict__, "body": "x" * 2001}))
    assert caught.value.permanent and caught.value.code == "messageText"
    new = connector.send_message(ctx, OutboundReply(**{**reply.__dict__, "conversation_id": ""}))
    assert _last(fake, "/commerce/message/v1/send_message").json() == {
        "messageText": "Ihre Sendung kommt morgen an.",
        "otherPartyUsername": "buyer_anna",
        "reference": {"referenceId": "12-01234-56789", "referenceType": "ORDER"},
    }
    assert new.external_id


def _decide(kind: ReturnDecisionKind, **fields: Any) -> ReturnDecision:
    return ReturnDecision(return_external_id="5000123456", kind=ReturnKind.RETURN, decision=kind, **fields)


@pytest.mark.parametrize(
    ("decision", "body"),
    [
        (
            _decide(ReturnDecisionKind.APPROVE, comment="Sorry!"),
            {"decision": "APPROVE", "comments": {"content": "Sorry!"}},
        ),
        (
            _decide(ReturnDecisionKind.DECLINE, comment="Outside the window"),
            {"decision": "DECLINE", "comments": {"content": "Outside the window"}},
        ),
        (
            _decide(ReturnDecisionKind.OFFER_PARTIAL_REFUND, amount=Decimal("7.5"), currency="EUR"),
            {"decision": "OFFER_PARTIAL_REFUND", "partialRefundAmount": {"value": "7.50", "currency": "EUR"}},
        ),
        (
            _decide(ReturnDecisionKind.PROVIDE_RMA, rma_number="RMA-77"),
            {"decision": "PROVIDE_RMA", "RMANumber": "RMA-77"},
        ),
    ],
)
def test_return_decisions(
    fake: EbayFake, connector: EbayConnector, ctx: Any, decision: ReturnDecision, body: dict
) -> None:
    fake.add_return(load("return.json"))
    connector.decide_return(ctx, decision)
    request = _last(fake, "/post-order/v2/return/5000123456/decide")
    assert request.headers["authorization"].startswith("IAF ")
    assert request.json() == body
    assert "signature" not in request.headers  # a US seller without a key: unsigned


def test_label_and_mark_received(fake: EbayFake, connector: EbayConnector, ctx: Any) -> None:
    fake.add_return(load("return.json"))
    label = AttachmentRecord(filename="label.pdf", content=b"%PDF-1.4 label", content_type="application/pdf")
    receipt = connector.decide_return(
        ctx, _decide(ReturnDecisionKind.PROVIDE_LABEL, label=label, carrier="DHL", tracking_number="JJD0001")
    )
    upload = _last(fake, "/post-order/v2/return/5000123456/file/upload").json()
    assert upload == {
        "fileName": "label.pdf",
        "data": base64.b64encode(b"%PDF-1.4 label").decode(),
        "filePurpose": "LABEL_RELATED",
    }
    assert _last(fake, "/post-order/v2/return/5000123456/file/submit").json() == {"filePurpose": "LABEL_RELATED"}
    assert _last(fake, "/post-order/v2/return/5000123456/add_shipping_label").json() == {
        "carrierName": "DHL",
        "trackingNumber": "JJD0001",
    }
    assert "label file" in receipt.detail
    connector.decide_return(ctx, _decide(ReturnDecisionKind.MARK_RECEIVED, comment="Arrived intact"))
    assert _last(fake, "/post-order/v2/return/5000123456/mark_as_received").json() == {
        "comments": {"content": "Arrived intact"}
    }
    assert fake.returns["5000123456"]["state"] == "ITEM_DELIVERED"


def test_inquiry_refund_shipment_info_and_case_appeal(fake: EbayFake, connector: EbayConnector, ctx: Any) -> None:
    fake.add_inquiry(load("inquiry.json"))
    fake.add_case(load("case.json"))
    inquiry = ReturnDecision(
        return_external_id="5100234567",
        kind=ReturnKind.INQUIRY,
        decision=ReturnDecisionKind.PROVIDE_LABEL,
        carrier="DHL",
        tracking_number="JJD0002",
    )
    connector.decide_return(ctx, inquiry)
    assert _last(fake, "/post-order/v2/inquiry/5100234567/provide_shipment_info").json() == {
        "shippingCarrierName": "DHL",
        "trackingNumber": "JJD0002",
    }
    receipt = connector.decide_return(ctx, ReturnDecision("5100234567", ReturnKind.INQUIRY, ReturnDecisionKind.APPROVE))
    assert receipt.detail == "issue_refund SUCCESS"
    appeal = ReturnDecision(
        "5200345678", ReturnKind.CASE, ReturnDecisionKind.DECLINE, comment="Tracking shows delivery"
    )
    connector.decide_return(ctx, appeal)
    assert _last(fake, "/post-order/v2/casemanagement/5200345678/appeal").json() == {
        "comments": {"content": "Tracking shows delivery"}
    }
    with pytest.raises(ConnectorError):
        connector.decide_return(ctx, ReturnDecision("5100234567", ReturnKind.INQUIRY, ReturnDecisionKind.DECLINE))


def test_refund_once_then_reconciled_and_polled(fake: EbayFake, connector: EbayConnector, ctx: Any) -> None:
    fake.add_order(load("order.json"))
    refund = RefundRequest(
        idempotency_key="rf-1",
        order_external_id="12-01234-56789",
        amount=Decimal("29.99"),
        currency="EUR",
        reason="buyer_return",
        lines=[RefundLine(external_line_id="10012345678901", quantity=1, amount=Decimal("29.99"))],
    )
    receipt = connector.issue_refund(ctx, refund)
    assert receipt.state == RefundState.PENDING and receipt.external_id.startswith("R-")
    [request] = fake.requests_to("/sell/fulfillment/v1/order/12-01234-56789/issue_refund")
    assert request.json() == {
        "reasonForRefund": "BUYER_RETURN",
        "refundItems": [{"lineItemId": "10012345678901", "refundAmount": {"value": "29.99", "currency": "EUR"}}],
    }
    # The outcome was lost (a crash after the call): the resend finds the refund on the order.
    again = connector.issue_refund(ctx, refund)
    assert again.external_id == receipt.external_id and "reconciled" in again.detail
    assert len(fake.requests_to("/sell/fulfillment/v1/order/12-01234-56789/issue_refund")) == 1
    assert connector.refund_status(ctx, refund, receipt).state == RefundState.PENDING
    fake.complete_refunds()
    assert connector.refund_status(ctx, refund, receipt).state == RefundState.SUCCEEDED
    unknown = connector.refund_status(ctx, refund, RefundReceipt(external_id="R-none", state=RefundState.PENDING))
    assert unknown.state == RefundState.PENDING


def test_eu_seller_refunds_and_decisions_are_signed_and_verified(
    fake: EbayFake, connector: EbayConnector, recorder: Recorder
) -> None:
    fake.add_order(load("order.json"))
    fake.add_return(load("return.json"))
    key = fake.new_signing_key()
    ctx = make_ctx(fake, recorder, site="ebay.de", signing_key=key)
    refund = RefundRequest(
        idempotency_key="rf-2", order_external_id="12-01234-56789", amount=Decimal("10"), currency="EUR"
    )
    connector.issue_refund(ctx, refund)
    request = _last(fake, "/sell/fulfillment/v1/order/12-01234-56789/issue_refund")
    assert request.headers["x-ebay-c-marketplace-id"] == "EBAY_DE"
    assert request.headers["x-ebay-signature-key"] == key["jwe"]
    assert request.headers["content-digest"] == content_digest(request.body)
    assert request.headers["signature-input"].startswith(
        'sig1=("content-digest" "x-ebay-signature-key" "@method" "@path" "@authority");created='
    )
    assert request.headers["signature"].startswith("sig1=:")
    assert request.json() == {
        "reasonForRefund": "OTHER",
        "orderLevelRefundAmount": {"value": "10.00", "currency": "EUR"},
    }
    connector.decide_return(ctx, _decide(ReturnDecisionKind.APPROVE))
    assert "signature" in _last(fake, "/post-order/v2/return/5000123456/decide").headers


def test_rsa_keys_sign_too(fake: EbayFake, connector: EbayConnector, recorder: Recorder) -> None:
    fake.add_return(load("return.json"))
    ctx = make_ctx(fake, recorder, site="ebay.co.uk", signing_key=fake.new_signing_key("rsa"))
    connector.decide_return(ctx, _decide(ReturnDecisionKind.DECLINE, comment="no"))
    assert fake.returns["5000123456"]["state"] == "RETURN_REJECTED"


def test_a_wrong_signature_is_refused_by_the_fake_and_an_eu_seller_without_key_before_sending(
    fake: EbayFake, connector: EbayConnector, recorder: Recorder
) -> None:
    fake.add_order(load("order.json"))
    refund = RefundRequest(
        idempotency_key="rf-3", order_external_id="12-01234-56789", amount=Decimal("1"), currency="EUR"
    )
    stranger = fake.new_signing_key()
    fake.signing_keys[stranger["jwe"]] = fake.signing_keys[fake.new_signing_key()["jwe"]]  # another key's public half
    with pytest.raises(ConnectorError) as caught:
        connector.issue_refund(make_ctx(fake, recorder, site="ebay.de", signing_key=stranger), refund)
    assert caught.value.permanent and "Signature validation failed" in str(caught.value)
    sent = len(fake.requests)
    with pytest.raises(AuthError) as refused:
        connector.issue_refund(make_ctx(fake, recorder, site="ebay.de"), refund)
    assert refused.value.code == "signing_key"
    assert [r.path for r in fake.requests[sent:]] == [
        "/identity/v1/oauth2/token",
        "/sell/fulfillment/v1/order/12-01234-56789",
    ]  # the order was read (reconciliation), the refund never sent


def test_mark_shipped(fake: EbayFake, connector: EbayConnector, ctx: Any) -> None:
    from aftersales.channels.base import ShipmentConfirmation

    fake.add_order(load("order.json") | {"orderFulfillmentStatus": "NOT_STARTED"})
    shipped_at = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    receipt = connector.mark_shipped(
        ctx, ShipmentConfirmation("12-01234-56789", carrier="DHL", tracking_number="JJD0003", shipped_at=shipped_at)
    )
    assert _last(fake, "/sell/fulfillment/v1/order/12-01234-56789/shipping_fulfillment").json() == {
        "lineItems": [{"lineItemId": "10012345678901", "quantity": 2}],
        "shippedDate": "2026-11-21T08:00:00.000Z",
        "shippingCarrierCode": "DHL",
        "trackingNumber": "JJD0003",
    }
    assert receipt.external_id


# -- pushes ---------------------------------------------------------------------------------------


def test_a_signed_push_verifies_and_the_key_is_cached(fake: EbayFake, connector: EbayConnector, ctx: Any) -> None:
    sample = load("spec/message.json")
    headers, body = fake.signed_notification(sample)
    [record] = connector.verify_webhook(ctx, headers, body)
    assert record.event_id == f"notification:{sample['notification']['notificationId']}"
    assert record.raw == body
    [mapped] = connector.map_record(ctx, record)
    assert mapped.external_ids == ("test_user", "ma8vp1jySJC")  # type: ignore[union-attr]
    key_call = fake.requests_to(r"/commerce/notification/v1/public_key/.*")[0]
    assert key_call.headers["authorization"].startswith("Bearer ")  # an application token
    token_call = fake.requests_to("/identity/v1/oauth2/token")[-1]
    assert b"grant_type=client_credentials" in token_call.body
    second = copy.deepcopy(sample)
    second["notification"]["notificationId"] = "another"
    connector.verify_webhook(ctx, *fake.signed_notification(second))
    assert fake.public_key_fetches == 1


def test_bad_pushes_are_refused(fake: EbayFake, connector: EbayConnector, ctx: Any) -> None:
    sample = load("spec/message.json")
    headers, body = fake.signed_notification(sample, valid=False)
    with pytest.raises(SignatureInvalid):
        connector.verify_webhook(ctx, headers, body)
    with pytest.raises(SignatureInvalid):
        connector.verify_webhook(ctx, {}, body)
    with pytest.raises(SignatureInvalid):
        connector.verify_webhook(ctx, {"X-EBAY-SIGNATURE": "not base64!"}, body)
    header = json.loads(base64.b64decode(headers["X-EBAY-SIGNATURE"]))
    header["kid"] = "unknown-kid"
    forged = {"X-EBAY-SIGNATURE": base64.b64encode(json.dumps(header).encode()).decode()}
    with pytest.raises(SignatureInvalid):
        connector.verify_webhook(ctx, forged, body)


def test_a_signed_push_with_a_bad_payload_is_stored_then_quarantined(
    fake: EbayFake, connector: EbayConnector, ctx: Any
) -> None:
    headers, body = fake.signed_notification(
        {"metadata": {"topic": "MARKETPLACE_ACCOUNT_DELETION"}, "notification": {}}
    )
    [record] = connector.verify_webhook(ctx, headers, body)
    assert record.event_id.startswith("notification:sha256:")
    with pytest.raises(MappingError) as caught:
        connector.map_record(ctx, record)
    assert caught.value.field == "metadata.schemaVersion"


def test_endpoint_challenge(connector: EbayConnector, ctx: Any) -> None:
    answer = connector.webhook_challenge(
        ctx, "a8628072-3d33-45ee-9004-bee86830a22d", "https://example.com/hooks/ebay/t"
    )
    expected = challenge_response(
        "a8628072-3d33-45ee-9004-bee86830a22d", EbayFake.verification_token, "https://example.com/hooks/ebay/t"
    )
    assert answer == {"challengeResponse": expected} and len(expected) == 64


def test_connection_check(fake: EbayFake, connector: EbayConnector, ctx: Any, recorder: Recorder) -> None:
    assert connector.test_connection(ctx).ok
    assert not connector.test_connection(make_ctx(fake, recorder, refresh_token="bad")).ok


def test_a_buyers_images_are_fetched_from_ebays_media_host_only(
    fake: EbayFake, connector: EbayConnector, ctx: Any
) -> None:
    conversation = load("conversation.json")
    messages = conversation.pop("messages")[:1]
    messages[0]["createdDate"] = recent(5)
    messages[0]["messageMedia"] = [
        {"mediaName": "cracked.png", "mediaType": "IMAGE", "mediaUrl": fake.add_media("cracked.png", b"\x89PNG...")},
        {"mediaName": "gone.jpg", "mediaType": "IMAGE", "mediaUrl": f"{fake.url}/media/gone.jpg"},
        {"mediaName": "meta.txt", "mediaType": "TXT", "mediaUrl": "http://169.254.169.254/latest/meta-data"},
    ]
    fake.add_conversation(conversation, messages)
    [record], _ = drain(connector, ctx, Stream.MESSAGES)
    media = record.payload["media"]
    assert base64.b64decode(media[0]["content_b64"]) == b"\x89PNG..."
    assert media[1]["error"] == "HTTP 404" and media[2]["error"] == "not an eBay media address"
    assert "authorization" not in fake.requests_to("/media/cracked.png")[0].headers
    [message] = connector.map_record(ctx, record)
    assert [(a.filename, a.content, a.content_type) for a in message.attachments] == [  # type: ignore[union-attr]
        ("cracked.png", b"\x89PNG...", "image/png")
    ]
    assert message.body.endswith(  # type: ignore[union-attr]
        "[gone.jpg: not retrieved from eBay (HTTP 404)]\n"
        "[meta.txt: not retrieved from eBay (not an eBay media address)]"
    )
    broken = {**record.payload, "media": [{"mediaName": "x.png", "content_b64": "***"}]}
    with pytest.raises(MappingError) as caught:
        connector.map_record(ctx, type(record)(stream=record.stream, event_id=record.event_id, payload=broken))
    assert caught.value.field == "media[0].content_b64"


def test_media_hosts_in_production() -> None:
    from aftersales.channels.base import StoreContext
    from aftersales.channels.connectors.ebay.client import EbayClient
    from aftersales.channels.connectors.ebay.media import media_allowed

    production = StoreContext(1, 1, "ebay", "ebay.de", "s", "EUR", {}, base_url="https://api.ebay.com")
    client = EbayClient(production)
    try:
        assert media_allowed(client, "https://i.ebayimg.com/images/g/abc/s-l1600.jpg")
        assert not media_allowed(client, "http://i.ebayimg.com/images/g/abc/s-l1600.jpg")
        assert not media_allowed(client, "https://ebayimg.com.evil.example/x.jpg")
        assert not media_allowed(client, "https://127.0.0.1:8000/x.jpg")
    finally:
        client.close()


def test_a_new_single_message_conversation_costs_no_extra_call(
    fake: EbayFake, connector: EbayConnector, ctx: Any
) -> None:
    conversation = load("conversation.json")
    [first, _second] = conversation.pop("messages")
    first["createdDate"] = conversation["createdDate"] = recent(3)
    fake.add_conversation(conversation, [first])
    records, _ = drain(connector, ctx, Stream.MESSAGES)
    assert [r.event_id for r in records] == ["message:M-900001"]
    assert fake.requests_to("/commerce/message/v1/conversation/C-771100") == []
    assert connector.map_record(ctx, records[0])[0].external_id == "M-900001"  # type: ignore[union-attr]


def test_a_push_checked_with_refused_app_credentials_is_an_auth_error_not_a_bad_signature(
    fake: EbayFake, connector: EbayConnector, recorder: Recorder
) -> None:
    headers, body = fake.signed_notification(load("spec/message.json"))
    with pytest.raises(AuthError):
        connector.verify_webhook(make_ctx(fake, recorder, client_secret="wrong"), headers, body)
    fake.fail_next(r"/commerce/notification/v1/public_key/.*", status=503, times=10)
    with pytest.raises(ConnectorError) as caught:  # eBay unavailable: transient (the endpoint answers 503)
        connector.verify_webhook(make_ctx(fake, recorder), headers, body)
    assert not caught.value.permanent and not isinstance(caught.value, AuthError)


def test_a_stale_application_token_is_dropped_and_minted_again(
    fake: EbayFake, connector: EbayConnector, ctx: Any
) -> None:
    from aftersales.channels.connectors.ebay import client as client_module

    client_module._app_tokens[(fake.url, fake.client_id)] = ("stale-app-token", 4102444800.0)
    headers, body = fake.signed_notification(load("spec/message.json"))
    assert len(connector.verify_webhook(ctx, headers, body)) == 1
    calls = [r.path for r in fake.requests]
    assert calls[0].startswith("/commerce/notification/v1/public_key/")  # refused: 401
    assert calls[1:] == ["/identity/v1/oauth2/token", calls[0]]


def test_an_unreadable_cursor_is_a_permanent_error(connector: EbayConnector, ctx: Any) -> None:
    for cursor in ("{not json", '{"next_from": "yesterday"}', '{"from": "x", "to": "y", "offset": 50}'):
        with pytest.raises(ConnectorError) as caught:
            connector.pull(ctx, Stream.ORDERS, cursor, None)
        assert caught.value.permanent


def test_a_return_is_refunded_through_the_return_and_never_twice(
    fake: EbayFake, connector: EbayConnector, ctx: Any
) -> None:
    fake.add_order(load("order.json"))
    fake.add_return(load("return.json"))
    refund = RefundRequest(
        idempotency_key="rf-ret",
        order_external_id="12-01234-56789",
        amount=Decimal("29.99"),
        currency="EUR",
        return_external_id="5000123456",
    )
    receipt = connector.issue_refund(ctx, refund)
    assert (receipt.external_id, receipt.state) == ("return:5000123456", RefundState.SUCCEEDED)
    assert fake.requests_to("/sell/fulfillment/v1/order/12-01234-56789/issue_refund") == []
    # A resend (the first answer lost): the refund is on the order, nothing is sent again.
    again = connector.issue_refund(ctx, refund)
    assert "reconciled" in again.detail
    assert len(fake.requests_to("/post-order/v2/return/5000123456/issue_refund")) == 1
    # Another amount, but the return says it is refunded already: not sent either.
    other = RefundRequest(**{**refund.__dict__, "amount": Decimal("5")})
    assert "reconciled" in connector.issue_refund(ctx, other).detail
    assert len(fake.requests_to("/post-order/v2/return/5000123456/issue_refund")) == 1
    assert connector.refund_status(ctx, refund, receipt).state == RefundState.SUCCEEDED


def test_a_conversation_gone_between_list_and_read_does_not_stop_the_page(
    fake: EbayFake, connector: EbayConnector, ctx: Any
) -> None:
    conversation = load("conversation.json")
    messages = conversation.pop("messages")
    for m in messages:
        m["createdDate"] = recent(20)
    fake.add_conversation(conversation, messages)
    fake.add_conversation({**conversation, "conversationId": "C-gone"}, messages)
    fake.fail_next("/commerce/message/v1/conversation/C-gone", status=404, body={"errors": [{"message": "gone"}]})
    records, _ = drain(connector, ctx, Stream.MESSAGES)
    assert [r.event_id for r in records] == ["message:M-900001", "message:M-900002"]


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_fetch_return_label_reads_get_shipping_label(fake: EbayFake, connector: EbayConnector, ctx: Any) -> None:
    assert connector.fetch_return_label(ctx, "5000012345") is None  # eBay has none yet
    fake.issue_return_label("5000012345", PDF, carrier="USPS", tracking_number="9400111899223197428490")
    label = connector.fetch_return_label(ctx, "5000012345")
    assert label is not None
    assert (label.content, label.filename) == (PDF, "ebay-return-5000012345-label.pdf")
    assert (label.carrier, label.tracking_number) == ("USPS", "9400111899223197428490")
    request = fake.requests_to("/post-order/v2/return/5000012345/get_shipping_label", "GET")[-1]
    assert request.method == "GET" and request.body in (b"", None)
    assert request.headers["authorization"].startswith("IAF v^1.1#")
    assert request.path == "/post-order/v2/return/5000012345/get_shipping_label"
