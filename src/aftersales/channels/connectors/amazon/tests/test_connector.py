"""The Amazon connector against the Amazon fake over real HTTP, without the database: a plain
StoreContext (credentials in memory, save_credentials recorded). Exact requests are asserted from
the fake's request log; requests with a model are validated against it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import pytest

from aftersales.channels.base import (
    AuthError,
    Capability,
    ConnectorError,
    MappingError,
    OrderRecord,
    RawRecord,
    RefundLine,
    RefundReceipt,
    RefundRequest,
    RefundState,
    ReturnDecision,
    ReturnDecisionKind,
    ReturnKind,
    ShipmentConfirmation,
    StoreContext,
    Stream,
)
from aftersales.channels.connectors.amazon import schemas
from aftersales.channels.connectors.amazon.connector import AmazonConnector
from aftersales.channels.connectors.amazon.fake import AmazonFake, sample_order, sample_return_row

NOW = datetime.now(UTC).replace(microsecond=0)


class Recorder:
    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.saved: list[dict[str, Any]] = []
        self.throttled: list[str] = []


@pytest.fixture
def fake() -> Iterator[AmazonFake]:
    fake = AmazonFake()
    fake.report_polls_until_done = 2
    with fake.running():
        yield fake


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


@pytest.fixture
def connector(rec: Recorder) -> AmazonConnector:
    connector = AmazonConnector()
    connector.sleep = rec.sleeps.append  # type: ignore[method-assign,assignment]
    connector.report_poll_interval = 0.0
    connector.page_size = 2
    return connector


def make_ctx(fake: AmazonFake, rec: Recorder, **credentials: Any) -> StoreContext:
    creds = {
        "lwa_client_id": fake.client_id,
        "lwa_client_secret": fake.client_secret,
        "refresh_token": "Atzr|fake-refresh-token",
        **credentials,
    }
    return StoreContext(
        store_id=1,
        organization_id=1,
        platform="amazon",
        site="amazon.com",
        seller_id="A2FAKESELLER",
        currency="USD",
        credentials=creds,
        base_url=fake.url,
        save_credentials=rec.saved.append,
        throttle=lambda bucket, cost: rec.throttled.append(bucket),
    )


@pytest.fixture
def ctx(fake: AmazonFake, rec: Recorder) -> StoreContext:
    return make_ctx(fake, rec)


def add_orders(fake: AmazonFake, count: int = 5) -> list[str]:
    ids = [f"111-0000000-{i:07d}" for i in range(count)]
    for i, order_id in enumerate(ids):
        fake.add_order(sample_order(order_id, updated=NOW - timedelta(hours=count - i)))
    return ids


def pull_all(connector: AmazonConnector, ctx: StoreContext, stream: Stream, cursor: str | None = None, **kw: Any):
    records: list[RawRecord] = []
    while True:
        page = connector.pull(ctx, stream, cursor, kw.get("since"))
        records += page.records
        cursor = page.next_cursor
        if page.done:
            return records, cursor


# --- orders ---------------------------------------------------------------------------------------


def test_orders_paged_with_pagination_token_and_watermark(fake, ctx, connector, rec):
    ids = add_orders(fake)
    records, cursor = pull_all(connector, ctx, Stream.ORDERS, since=NOW - timedelta(days=1))
    assert [r.payload["orderId"] for r in records] == ids
    assert records[0].event_id == f"{ids[0]}:{fake.orders[ids[0]]['lastUpdatedTime']}"
    searches = fake.requests_to(r"/orders/2026-01-01/orders", "GET")
    assert len(searches) == 3  # 5 orders, 2 per page
    first = searches[0]
    assert first.query == {
        "lastUpdatedAfter": [(NOW - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")],
        "marketplaceIds": ["ATVPDKIKX0DER"],
        "includedData": ["BUYER,RECIPIENT,PROCEEDS,FULFILLMENT,PACKAGES"],
        "maxResultsPerPage": ["2"],
    }
    assert first.headers["x-amz-access-token"].startswith("Atza|")
    assert "paginationToken" in searches[1].query
    assert set(rec.throttled) >= {"searchOrders", "lwa"}
    # the watermark: the newest lastUpdatedTime minus the overlap
    assert json.loads(cursor) == {"after": (NOW - timedelta(hours=1, minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    again, _ = pull_all(connector, ctx, Stream.ORDERS, cursor)
    assert [r.payload["orderId"] for r in again] == [ids[-1]]  # within the overlap: the same version again
    assert again[0].event_id == records[-1].event_id


def test_orders_map_to_order_records(fake, ctx, connector):
    add_orders(fake, 1)
    [raw] = connector.pull(ctx, Stream.ORDERS, None, NOW - timedelta(days=1)).records
    [record] = connector.map_record(ctx, raw)
    assert isinstance(record, OrderRecord)
    assert record.lines[0].external_line_id == "00000000001"


def test_malformed_order_is_a_record_that_fails_mapping_the_rest_goes_on(fake, ctx, connector):
    add_orders(fake, 2)
    broken = sample_order("111-9999999-9999999", updated=NOW - timedelta(minutes=30))
    broken["fulfillment"]["fulfillmentStatus"] = "TELEPORTED"
    fake.put_raw_order("111-9999999-9999999", broken)
    records, _ = pull_all(connector, ctx, Stream.ORDERS, since=NOW - timedelta(days=1))
    outcomes = []
    for raw in records:
        try:
            connector.map_record(ctx, raw)
            outcomes.append("ok")
        except MappingError as exc:
            outcomes.append(exc.field)
    assert outcomes == ["ok", "ok", "fulfillment.fulfillmentStatus"]


def test_payload_without_ids_gets_a_stable_event_id(connector):
    first = connector.order_raw({"createdTime": "x"})
    assert first.event_id.startswith("malformed-order:")
    assert connector.order_raw({"createdTime": "x"}).event_id == first.event_id


# --- tokens ---------------------------------------------------------------------------------------


def test_token_refreshed_on_expiry_and_persisted(fake, ctx, connector, rec):
    add_orders(fake, 1)
    connector.pull(ctx, Stream.ORDERS, None, NOW - timedelta(days=1))
    assert len(fake.requests_to(r"/auth/o2/token")) == 1
    [saved] = rec.saved
    assert saved["access_token"].startswith("Atza|") and "access_token_expires_at" in saved
    # the next run starts from the stored token: no new grant
    stored = make_ctx(fake, rec, **saved)
    connector.pull(stored, Stream.ORDERS, None, NOW - timedelta(days=1))
    assert len(fake.requests_to(r"/auth/o2/token")) == 1
    # Amazon revokes / expires it early: 403, one refresh, the call goes through
    fake.expire_tokens()
    connector.pull(stored, Stream.ORDERS, None, NOW - timedelta(days=1))
    assert len(fake.requests_to(r"/auth/o2/token")) == 2
    statuses = [r.path for r in fake.requests[-3:]]
    assert statuses == ["/orders/2026-01-01/orders", "/auth/o2/token", "/orders/2026-01-01/orders"]


def test_token_near_expiry_is_refreshed_first(fake, ctx, connector, rec):
    add_orders(fake, 1)
    soon = (datetime.now(UTC) + timedelta(seconds=30)).isoformat()
    connector.pull(
        make_ctx(fake, rec, access_token="Atza|old", access_token_expires_at=soon), Stream.ORDERS, None, None
    )
    assert [r.path for r in fake.requests] == ["/auth/o2/token", "/orders/2026-01-01/orders"]


def test_revoked_refresh_token_is_permanent(fake, rec, connector):
    with pytest.raises(AuthError) as raised:
        connector.pull(make_ctx(fake, rec, refresh_token="Atzr|revoked"), Stream.ORDERS, None, None)
    assert raised.value.permanent
    assert "invalid grant" in str(raised.value)
    check = connector.test_connection(make_ctx(fake, rec, lwa_client_secret="wrong"))
    assert not check.ok and "Client authentication failed" in check.detail


def test_unknown_site_is_a_permanent_error_naming_the_known_ones(fake, rec, connector):
    from dataclasses import replace

    from aftersales.channels.connectors.amazon.client import default_base_url

    assert default_base_url("amazon.de") == "https://sellingpartnerapi-eu.amazon.com"
    assert default_base_url("amazon.example") == ""
    ctx = replace(make_ctx(fake, rec), site="amazon.example", base_url="")
    with pytest.raises(ConnectorError) as raised:
        connector.pull(ctx, Stream.ORDERS, None, None)
    assert raised.value.permanent and "amazon.co.uk" in str(raised.value)


def test_connection_ok(ctx, connector):
    check = connector.test_connection(ctx)
    assert check.ok and "ATVPDKIKX0DER" in check.detail


def test_token_and_presigned_signatures_never_in_logs(fake, ctx, connector, caplog):
    add_orders(fake, 1)
    add_returns(fake)
    caplog.set_level("DEBUG")
    connector.pull(ctx, Stream.ORDERS, None, None)
    connector.pull(ctx, Stream.RETURNS, None, NOW - timedelta(days=10))
    token = fake.requests_to(r"/orders/.*")[-1].headers["x-amz-access-token"]
    [download] = fake.requests_to(r"/_documents/.*")
    signature = download.query["X-Amz-Signature"][0]
    # httpx's own INFO line carries the full URL: production logging keeps httpx at WARNING
    from aftersales.settings import base

    assert base.LOGGING["loggers"]["httpx"]["level"] == "WARNING"
    ours = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    text = "".join(r.getMessage() + str(r.__dict__) for r in ours)
    assert "/_documents/" in text  # the download is logged, without its signed query string
    assert token not in text and fake.client_secret not in text and "Atzr|" not in text and signature not in text


# --- throttling and errors ------------------------------------------------------------------------


def test_429_waits_what_x_amzn_ratelimit_limit_says_then_goes_on(fake, ctx, connector, rec):
    add_orders(fake, 1)
    fake.throttle_amazon(r"/orders/2026-01-01/orders", operation="searchOrders")
    records = connector.pull(ctx, Stream.ORDERS, None, None).records
    assert len(records) == 1
    assert rec.sleeps == [pytest.approx(1 / 0.0056)]
    assert len(fake.requests_to(r"/orders/2026-01-01/orders")) == 2


def test_5xx_retried_with_backoff(fake, ctx, connector, rec):
    add_orders(fake, 1)
    fake.fail_next(
        r"/orders/2026-01-01/orders", status=503, times=2, body={"errors": [{"code": "x", "message": "busy"}]}
    )
    assert len(connector.pull(ctx, Stream.ORDERS, None, None).records) == 1
    assert len(rec.sleeps) == 2


def test_empty_5xx_is_an_error_not_an_empty_page(fake, ctx, connector):
    add_orders(fake, 1)
    fake.fail_next(r"/orders/2026-01-01/orders", status=500, times=10, body=b"<html>oops</html>")
    with pytest.raises(ConnectorError) as raised:
        connector.pull(ctx, Stream.ORDERS, None, None)
    assert not raised.value.permanent and raised.value.status == 500


@pytest.mark.parametrize(
    "body",
    [b"{truncated", b"[]", b"[1]", b'"text"', {"orders": "none"}, {"pagination": {}}, {"errors": [{"code": "x"}]}],
)
def test_malformed_page_is_a_transient_error_not_an_empty_page(fake, ctx, connector, body):
    add_orders(fake, 1)
    fake.fail_next(r"/orders/2026-01-01/orders", status=200, times=10, body=body)
    with pytest.raises(ConnectorError) as raised:
        connector.pull(ctx, Stream.ORDERS, None, None)
    assert not raised.value.permanent


def test_bad_request_is_permanent_with_amazons_words(fake, ctx, connector):
    fake.fail_next(
        r"/orders/2026-01-01/orders", status=400, body={"errors": [{"code": "InvalidInput", "message": "Bad date"}]}
    )
    with pytest.raises(ConnectorError) as raised:
        connector.pull(ctx, Stream.ORDERS, None, None)
    assert raised.value.permanent and raised.value.code == "InvalidInput" and "Bad date" in str(raised.value)


# --- returns --------------------------------------------------------------------------------------


def add_returns(fake: AmazonFake) -> None:
    fake.returns += [
        sample_return_row("111-0000000-0000001", rma="DRMA1", sku="SKU-1", requested=NOW - timedelta(days=3)),
        sample_return_row("111-0000000-0000001", rma="DRMA1", sku="SKU-2", requested=NOW - timedelta(days=3)),
        sample_return_row("111-0000000-0000002", rma="DRMA2", sku="SKU-1", requested=NOW - timedelta(days=1)),
    ]


@pytest.mark.parametrize("gzipped", [True, False])
def test_returns_report_created_polled_downloaded_and_grouped(fake, ctx, connector, rec, gzipped):
    add_returns(fake)
    fake.gzip_reports = gzipped
    page = connector.pull(ctx, Stream.RETURNS, None, NOW - timedelta(days=10))
    assert page.done
    assert [r.payload["rows"][0]["Amazon RMA ID"] for r in page.records] == ["DRMA1", "DRMA2"]
    [created] = fake.requests_to(r"/reports/2021-06-30/reports", "POST")
    spec = json.loads(created.body)
    assert spec["reportType"] == "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE"
    assert spec["marketplaceIds"] == ["ATVPDKIKX0DER"]
    assert (
        schemas.errors_of(schemas.definition_validator("reports_2021-06-30", "CreateReportSpecification"), spec) == []
    )
    assert len(fake.requests_to(r"/reports/2021-06-30/reports/\d+", "GET")) == 2  # IN_PROGRESS, DONE
    assert rec.sleeps == [0.0]
    [download] = fake.requests_to(r"/_documents/.*")
    assert "x-amz-access-token" not in download.headers  # the token never goes to the document host
    records = [connector.map_record(ctx, r)[0] for r in page.records]
    assert [(r.external_id, len(r.lines), r.kind) for r in records] == [
        ("DRMA1", 2, ReturnKind.RETURN),
        ("DRMA2", 1, ReturnKind.RETURN),
    ]
    assert json.loads(page.next_cursor)["start"] < (NOW - timedelta(days=13)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_returns_backfill_in_60_day_windows(fake, ctx, connector):
    pages = []
    cursor = None
    while True:
        page = connector.pull(ctx, Stream.RETURNS, cursor, NOW - timedelta(days=150))
        pages.append(page)
        cursor = page.next_cursor
        if page.done:
            break
    assert len(pages) == 3
    for created in fake.requests_to(r"/reports/2021-06-30/reports", "POST"):
        spec = json.loads(created.body)
        start = datetime.fromisoformat(spec["dataStartTime"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(spec["dataEndTime"].replace("Z", "+00:00"))
        assert end - start <= timedelta(days=60)


def test_report_not_ready_resumes_the_same_report_next_run(fake, ctx, connector):
    add_returns(fake)
    fake.report_polls_until_done = 3
    connector.report_poll_attempts = 2
    page = connector.pull(ctx, Stream.RETURNS, None, NOW - timedelta(days=10))
    assert page.records == [] and page.done
    assert "report_id" in json.loads(page.next_cursor)
    page = connector.pull(ctx, Stream.RETURNS, page.next_cursor, None)
    assert len(page.records) == 2
    assert len(fake.requests_to(r"/reports/2021-06-30/reports", "POST")) == 1


def test_corrupt_report_document_is_a_transient_error(fake, ctx, connector):
    add_returns(fake)
    original = fake._finish_report

    def corrupt(report: dict[str, Any]) -> None:
        original(report)
        fake.documents[report["reportDocumentId"]] = (b"not gzip", "GZIP")

    fake._finish_report = corrupt  # type: ignore[method-assign]
    with pytest.raises(ConnectorError) as raised:
        connector.pull(ctx, Stream.RETURNS, None, NOW - timedelta(days=10))
    assert "GZIP" in str(raised.value) and not raised.value.permanent


# --- write-backs ----------------------------------------------------------------------------------


def refund_request(**overrides: Any) -> RefundRequest:
    values: dict[str, Any] = {
        "idempotency_key": "refund-42",
        "order_external_id": "111-0000000-0000001",
        "amount": Decimal("25.00"),
        "currency": "USD",
        "return_external_id": "DRMA1",
        "lines": [
            RefundLine(external_line_id="00000010001", quantity=1, amount=Decimal("15.00")),
            RefundLine(external_line_id="00000010002", quantity=1, amount=Decimal("10.00")),
        ],
    }
    values.update(overrides)
    return RefundRequest(**values)


@pytest.fixture
def two_item_order(fake: AmazonFake) -> None:
    fake.add_order(
        sample_order(
            "111-0000000-0000001",
            updated=NOW - timedelta(hours=1),
            items=[("00000010001", "SKU-1", 1, "15.00"), ("00000010002", "SKU-2", 1, "10.00")],
        )
    )


def test_refund_through_the_payment_adjustment_feed(fake, ctx, connector, two_item_order):
    refund = refund_request()
    receipt = connector.issue_refund(ctx, refund)
    assert receipt.state == RefundState.PENDING
    doc_request, upload, feed_request = (
        fake.requests_to(r"/feeds/2021-06-30/documents", "POST")
        + fake.requests_to(r"/_uploads/.*", "PUT")
        + fake.requests_to(r"/feeds/2021-06-30/feeds", "POST")
    )
    assert json.loads(doc_request.body) == {"contentType": "text/xml; charset=UTF-8"}
    assert doc_request.headers["x-amz-access-token"].startswith("Atza|")
    assert upload.headers["content-type"] == "text/xml; charset=UTF-8"
    assert "x-amz-access-token" not in upload.headers
    xml = upload.body.decode()
    assert "<AmazonOrderID>111-0000000-0000001</AmazonOrderID>" in xml
    assert "<AmazonOrderItemCode>00000010001</AmazonOrderItemCode>" in xml
    assert '<Amount currency="USD">15.00</Amount>' in xml and '<Amount currency="USD">10.00</Amount>' in xml
    assert "<AdjustmentReason>CustomerReturn</AdjustmentReason>" in xml
    assert json.loads(feed_request.body) == {
        "feedType": "POST_PAYMENT_ADJUSTMENT_DATA",
        "marketplaceIds": ["ATVPDKIKX0DER"],
        "inputFeedDocumentId": upload.path.rsplit("/", 1)[1],  # the document the XML was uploaded to
    }
    assert receipt.external_id in fake.feeds
    status = connector.refund_status(ctx, refund, receipt)
    assert status == RefundReceipt(
        receipt.external_id, RefundState.SUCCEEDED, "refund among the order's financial events"
    )


def test_refund_status_pending_then_failed_processing(fake, ctx, connector, two_item_order):
    fake.feed_polls_until_done = 2
    fake.reject_feed_messages = True
    refund = refund_request()
    receipt = connector.issue_refund(ctx, refund)
    assert connector.refund_status(ctx, refund, receipt).state == RefundState.PENDING
    failed = connector.refund_status(ctx, refund, receipt)
    assert failed.state == RefundState.FAILED and "cannot be adjusted" in failed.detail


def test_refund_whose_lines_do_not_add_up_is_refused_before_any_call(fake, ctx, connector):
    with pytest.raises(ConnectorError) as raised:
        connector.issue_refund(ctx, refund_request(amount=Decimal("30.00")))
    assert raised.value.permanent and raised.value.code == "invalid_amount"
    assert fake.requests_to(r"/feeds/.*") == []


def test_whole_order_refund_of_a_single_item_order(fake, ctx, connector):
    fake.add_order(sample_order("111-0000000-0000003", updated=NOW, items=[("00000030001", "SKU-1", 2, "10.00")]))
    refund = refund_request(order_external_id="111-0000000-0000003", amount=Decimal("20.00"), lines=[])
    receipt = connector.issue_refund(ctx, refund)
    assert (
        "<AmazonOrderItemCode>00000030001</AmazonOrderItemCode>" in fake.requests_to(r"/_uploads/.*")[0].body.decode()
    )
    assert connector.refund_status(ctx, refund, receipt).state == RefundState.SUCCEEDED


def test_whole_order_refund_of_several_items_needs_lines(fake, ctx, connector, two_item_order):
    with pytest.raises(ConnectorError) as raised:
        connector.issue_refund(ctx, refund_request(lines=[]))
    assert raised.value.code == "lines_required"


def test_create_feed_without_an_answer_is_not_retried(fake, ctx, connector, two_item_order):
    fake.fail_next(
        r"/feeds/2021-06-30/feeds", status=500, body={"errors": [{"code": "InternalFailure", "message": "x"}]}
    )
    with pytest.raises(ConnectorError) as raised:
        connector.issue_refund(ctx, refund_request())
    assert raised.value.permanent and raised.value.code == "feed_unconfirmed"
    assert len(fake.requests_to(r"/feeds/2021-06-30/feeds", "POST")) == 1


def test_create_feed_throttled_is_transient(fake, ctx, connector, two_item_order):
    fake.throttle_amazon(r"/feeds/2021-06-30/feeds", operation="createFeed")
    with pytest.raises(ConnectorError) as raised:
        connector.issue_refund(ctx, refund_request())
    assert not raised.value.permanent and raised.value.status == 429
    assert fake.feeds == {}


def test_mark_shipped_confirms_the_shipment(fake, ctx, connector, two_item_order):
    receipt = connector.mark_shipped(
        ctx,
        ShipmentConfirmation(
            order_external_id="111-0000000-0000001",
            carrier="UPS",
            tracking_number="1Z999AA10123456784",
            shipped_at=datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
        ),
    )
    assert receipt.external_id == "111-0000000-0000001/1"
    [request] = fake.requests_to(r"/orders/v0/orders/111-0000000-0000001/shipmentConfirmation", "POST")
    body = json.loads(request.body)
    assert body == {
        "marketplaceId": "ATVPDKIKX0DER",
        "packageDetail": {
            "packageReferenceId": "1",
            "carrierCode": "UPS",
            "trackingNumber": "1Z999AA10123456784",
            "shipDate": "2026-12-01T10:00:00Z",
            "orderItems": [
                {"orderItemId": "00000010001", "quantity": 1},
                {"orderItemId": "00000010002", "quantity": 1},
            ],
        },
    }
    assert schemas.errors_of(schemas.definition_validator("ordersV0", "ConfirmShipmentRequest"), body) == []
    assert request.headers["content-type"] == "application/json"
    assert request.headers["host"] == fake.url.removeprefix("http://")
    assert fake.orders["111-0000000-0000001"]["fulfillment"]["fulfillmentStatus"] == "SHIPPED"


def test_mark_shipped_some_lines_with_another_carrier(fake, ctx, connector, two_item_order):
    connector.mark_shipped(
        ctx,
        ShipmentConfirmation(
            order_external_id="111-0000000-0000001",
            carrier="Speedy Parcels",
            tracking_number="SP1",
            shipped_at=NOW,
            line_ids=["00000010002"],
        ),
    )
    detail = json.loads(fake.requests_to(r"/orders/v0/.*")[0].body)["packageDetail"]
    assert (detail["carrierCode"], detail["carrierName"]) == ("Other", "Speedy Parcels")
    assert detail["orderItems"] == [{"orderItemId": "00000010002", "quantity": 1}]
    with pytest.raises(ConnectorError) as raised:
        connector.mark_shipped(
            ctx,
            ShipmentConfirmation(
                order_external_id="111-0000000-0000001",
                carrier="UPS",
                tracking_number="1",
                shipped_at=NOW,
                line_ids=["nope"],
            ),
        )
    assert raised.value.code == "unknown_line"


def test_mark_shipped_sends_what_is_left_to_ship(fake, ctx, connector, two_item_order):
    fake.orders["111-0000000-0000001"]["orderItems"][0]["fulfillment"] = {
        "quantityFulfilled": 1,
        "quantityUnfulfilled": 0,
    }
    connector.mark_shipped(
        ctx,
        ShipmentConfirmation(
            order_external_id="111-0000000-0000001", carrier="DHL", tracking_number="J1", shipped_at=NOW
        ),
    )
    detail = json.loads(fake.requests_to(r"/orders/v0/.*")[0].body)["packageDetail"]
    assert detail["orderItems"] == [{"orderItemId": "00000010002", "quantity": 1}]


def test_messages_and_return_decisions_are_not_offered(ctx, connector):
    assert Capability.SEND_MESSAGE not in connector.capabilities
    assert Capability.DECIDE_RETURN not in connector.capabilities
    assert "relay" in connector.not_offered[Capability.SEND_MESSAGE]
    with pytest.raises(ConnectorError) as raised:
        connector.decide_return(
            ctx, ReturnDecision(return_external_id="DRMA1", kind=ReturnKind.RETURN, decision=ReturnDecisionKind.APPROVE)
        )
    assert raised.value.permanent and "Seller Central" in str(raised.value)


def test_sqs_trigger_fetches_the_order(fake, ctx, connector):
    add_orders(fake, 2)
    raw = connector.fetch_order(ctx, "111-0000000-0000001")
    assert raw.event_id == f"111-0000000-0000001:{fake.orders['111-0000000-0000001']['lastUpdatedTime']}"
    [request] = fake.requests_to(r"/orders/2026-01-01/orders/111-0000000-0000001")
    assert parse_qs("includedData=" + request.query["includedData"][0])["includedData"] == [
        "BUYER,RECIPIENT,PROCEEDS,FULFILLMENT,PACKAGES"
    ]
