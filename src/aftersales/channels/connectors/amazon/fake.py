"""A local Amazon SP-API for tests, the demo and the ingest benchmark (real HTTP on 127.0.0.1).

What it speaks, shaped like the models in shared/platform-specs/amazon/models:
- Login with Amazon: POST /auth/o2/token (grant_type=refresh_token; checks client id, secret and
  refresh token; issues access tokens that expire after `token_ttl` seconds).
- Every SP-API call needs a live `x-amz-access-token` (else 403 Unauthorized / 401 expired
  token, as Amazon answers); answers carry x-amzn-RequestId and x-amzn-RateLimit-Limit.
- Orders 2026-01-01: searchOrders (exactly one of createdAfter / lastUpdatedAfter, marketplaceIds,
  maxResultsPerPage, paginationToken) and getOrder; orders v0 confirmShipment (204).
- Reports 2021-06-30: createReport, getReport (IN_QUEUE -> IN_PROGRESS -> DONE over polls),
  getReportDocument (a presigned URL on this server, GZIP when `gzip_reports`), the returns
  report GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE built from `self.returns` (60-day windows).
- Feeds 2021-06-30: createFeedDocument, the upload (PUT on the presigned URL), createFeed,
  getFeed (DONE after `feed_polls_until_done` polls), getFeedDocument and the processing report.
  A processed POST_PAYMENT_ADJUSTMENT_DATA feed posts refund events to the order's finances.
- Finances v0: listFinancialEventsByOrderId (RefundEventList).
- Faults: `throttle_amazon(path)` (429 with x-amzn-RateLimit-Limit, Amazon sends no Retry-After),
  the base's fail_next / drop_next, and `put_raw_order` for malformed orders.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import itertools
import json
import secrets
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

from aftersales.testing.fake_platform import FakePlatform, FakeRequest, FakeResponse, json_response

RETURNS_REPORT = "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE"
PAYMENT_ADJUSTMENT_FEED = "POST_PAYMENT_ADJUSTMENT_DATA"
RETURNS_COLUMNS = [
    "Order ID",
    "Order date",
    "Return request date",
    "Return request status",
    "Amazon RMA ID",
    "Seller RMA ID",
    "Label type",
    "Label cost",
    "Currency code",
    "Return carrier",
    "Tracking ID",
    "Label to be paid by",
    "A-to-z claim",
    "Is prime",
    "ASIN",
    "Merchant SKU",
    "Item Name",
    "Return quantity",
    "Return reason",
    "In policy",
    "Return type",
    "Resolution",
    "Invoice number",
    "Return delivery date",
    "Order Amount",
    "Order quantity",
    "SafeT action reason",
    "SafeT claim id",
    "SafeT claim state",
    "SafeT claim creation time",
    "SafeT claim reimbursement amount",
    "Refunded Amount",
]
# Documented default usage plans (requests per second) the fake reports in x-amzn-RateLimit-Limit.
RATE = {
    "searchOrders": "0.0056",
    "getOrder": "0.5",
    "confirmShipment": "2.0",
    "createReport": "0.0167",
    "getReport": "2.0",
    "getReportDocument": "0.0167",
    "createFeedDocument": "0.5",
    "createFeed": "0.0083",
    "getFeed": "2.0",
    "getFeedDocument": "0.0222",
    "listFinancialEventsByOrderId": "0.5",
}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _errors(status: int, code: str, message: str, details: str = "") -> FakeResponse:
    error = {"code": code, "message": message}
    if details:
        error["details"] = details
    return json_response({"errors": [error]}, status)


class AmazonFake(FakePlatform):
    name = "amazon"

    def __init__(
        self,
        *,
        client_id: str = "amzn1.application-oa2-client.fake",
        client_secret: str = "fake-client-secret",  # noqa: S107 (the fake's own test credentials)
        refresh_token: str = "Atzr|fake-refresh-token",  # noqa: S107
        marketplace_id: str = "ATVPDKIKX0DER",
        seller_id: str = "A2FAKESELLER",
        token_ttl: float = 3600,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_tokens = {refresh_token}
        self.marketplace_id = marketplace_id
        self.seller_id = seller_id
        self.token_ttl = token_ttl
        self.tokens: dict[str, float] = {}  # access token -> expiry (time.monotonic)
        self.orders: dict[str, dict[str, Any]] = {}
        self.returns: list[dict[str, str]] = []  # rows of the returns report
        self.reports: dict[str, dict[str, Any]] = {}
        self.report_polls_until_done = 2
        self.gzip_reports = True
        self.documents: dict[str, tuple[bytes, str | None]] = {}  # id -> (bytes, compression)
        self.uploads: dict[str, dict[str, Any]] = {}  # feed document id -> {contentType, body}
        self.feeds: dict[str, dict[str, Any]] = {}
        self.feed_polls_until_done = 1
        self.financial_events: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self.reject_feed_messages = False  # the processing report lists an error for every message
        self._ids = itertools.count(50001)
        super().__init__()

    # -- test helpers -----------------------------------------------------------------------------
    def add_order(self, order: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.orders[order["orderId"]] = order
        return order

    def put_raw_order(self, order_id: str, payload: Any) -> None:
        """A malformed order exactly as given (what a broken page looks like)."""
        with self.lock:
            self.orders[order_id] = payload

    def touch_order(self, order_id: str, **changes: Any) -> None:
        with self.lock:
            order = self.orders[order_id]
            order.update(changes)
            order["lastUpdatedTime"] = _iso(datetime.now(UTC))

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens = dict.fromkeys(self.tokens, 0.0)

    def throttle_amazon(self, path: str = ".*", *, operation: str = "searchOrders", times: int = 1) -> None:
        """What SP-API answers when a usage plan is exhausted: 429, QuotaExceeded, the plan's rate
        in x-amzn-RateLimit-Limit, no Retry-After."""
        self.fail_next(
            path,
            status=429,
            times=times,
            headers={"x-amzn-RateLimit-Limit": RATE[operation], "x-amzn-RequestId": secrets.token_hex(8)},
            body={
                "errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource."}]
            },
        )

    def _next_id(self) -> str:
        return str(next(self._ids))

    def presigned(self, kind: str, doc_id: str) -> str:
        """An S3-style presigned URL: the signature in the query string is the authorisation."""
        signature = hashlib.sha256(f"{kind}:{doc_id}:{self.client_secret}".encode()).hexdigest()
        return (
            f"{self.url}/{kind}/{doc_id}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=300&X-Amz-Signature={signature}"
        )

    def _signed(self, request: FakeRequest, kind: str) -> bool:
        expected = self.presigned(kind, request.params["doc_id"]).rsplit("X-Amz-Signature=", 1)[1]
        return request.arg("X-Amz-Signature") == expected

    # -- routes -----------------------------------------------------------------------------------
    def setup_routes(self) -> None:
        self.route("POST", r"/auth/o2/token", self._token)
        self.route("GET", r"/orders/2026-01-01/orders", self._guard("searchOrders", self._search_orders))
        self.route("GET", r"/orders/2026-01-01/orders/(?P<order_id>[^/]+)", self._guard("getOrder", self._get_order))
        self.route(
            "POST",
            r"/orders/v0/orders/(?P<order_id>[^/]+)/shipmentConfirmation",
            self._guard("confirmShipment", self._confirm_shipment),
        )
        self.route("POST", r"/reports/2021-06-30/reports", self._guard("createReport", self._create_report))
        self.route(
            "GET", r"/reports/2021-06-30/reports/(?P<report_id>[^/]+)", self._guard("getReport", self._get_report)
        )
        self.route(
            "GET",
            r"/reports/2021-06-30/documents/(?P<doc_id>[^/]+)",
            self._guard("getReportDocument", self._get_report_document),
        )
        self.route(
            "POST", r"/feeds/2021-06-30/documents", self._guard("createFeedDocument", self._create_feed_document)
        )
        self.route(
            "GET",
            r"/feeds/2021-06-30/documents/(?P<doc_id>[^/]+)",
            self._guard("getFeedDocument", self._get_feed_document),
        )
        self.route("POST", r"/feeds/2021-06-30/feeds", self._guard("createFeed", self._create_feed))
        self.route("GET", r"/feeds/2021-06-30/feeds/(?P<feed_id>[^/]+)", self._guard("getFeed", self._get_feed))
        self.route(
            "GET",
            r"/finances/v0/orders/(?P<order_id>[^/]+)/financialEvents",
            self._guard("listFinancialEventsByOrderId", self._financial_events),
        )
        # presigned S3-style URLs: no SP-API token, the URL itself is the authorisation
        self.route("GET", r"/_documents/(?P<doc_id>[^/]+)", self._download)
        self.route("PUT", r"/_uploads/(?P<doc_id>[^/]+)", self._upload)

    def _guard(self, operation: str, handler: Any) -> Any:
        def guarded(request: FakeRequest) -> FakeResponse:
            token = request.headers.get("x-amz-access-token", "")
            with self.lock:
                expiry = self.tokens.get(token)
            if expiry is None:
                return _errors(403, "Unauthorized", "Access to requested resource is denied.")
            if expiry <= time.monotonic():
                return _errors(
                    403,
                    "Unauthorized",
                    "Access to requested resource is denied.",
                    "The access token you provided has expired.",
                )
            response = handler(request)
            response.headers.setdefault("x-amzn-RateLimit-Limit", RATE[operation])
            response.headers.setdefault("x-amzn-RequestId", secrets.token_hex(8))
            return response

        return guarded

    # -- Login with Amazon ----------------------------------------------------------------------
    def _token(self, request: FakeRequest) -> FakeResponse:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if form.get("grant_type") != "refresh_token":
            return json_response({"error": "unsupported_grant_type", "error_description": "grant_type"}, 400)
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return json_response({"error": "invalid_client", "error_description": "Client authentication failed"}, 401)
        if form.get("refresh_token") not in self.refresh_tokens:
            return json_response(
                {
                    "error": "invalid_grant",
                    "error_description": "The request has an invalid grant parameter : refresh_token",
                },
                400,
            )
        token = "Atza|" + secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = time.monotonic() + self.token_ttl
        return json_response(
            {"access_token": token, "refresh_token": form["refresh_token"], "token_type": "bearer", "expires_in": 3600}
        )

    # -- orders -----------------------------------------------------------------------------------
    def _search_orders(self, request: FakeRequest) -> FakeResponse:
        token = request.arg("paginationToken")
        if token:
            try:
                state = json.loads(base64.urlsafe_b64decode(token.encode()))
            except ValueError:
                return _errors(400, "InvalidInput", "Invalid paginationToken.")
        else:
            created_after = request.arg("createdAfter")
            updated_after = request.arg("lastUpdatedAfter")
            if bool(created_after) == bool(updated_after):
                return _errors(400, "InvalidInput", "Exactly one of createdAfter and lastUpdatedAfter is required.")
            if (request.arg("createdBefore") and updated_after) or (request.arg("lastUpdatedBefore") and created_after):
                return _errors(400, "InvalidInput", "Incompatible date filters.")
            try:
                size = int(request.arg("maxResultsPerPage") or 100)
                for value in (
                    created_after,
                    updated_after,
                    request.arg("createdBefore"),
                    request.arg("lastUpdatedBefore"),
                ):
                    if value:
                        _parse(value)
            except ValueError:
                return _errors(400, "InvalidInput", "Invalid date or maxResultsPerPage.")
            if not 1 <= size <= 100:
                return _errors(400, "InvalidInput", "maxResultsPerPage must be between 1 and 100.")
            marketplaces = (request.arg("marketplaceIds") or "").split(",")
            if self.marketplace_id not in marketplaces:
                return _errors(400, "InvalidInput", "Invalid marketplaceIds.")
            state = {
                "field": "createdTime" if created_after else "lastUpdatedTime",
                "after": created_after or updated_after,
                "before": request.arg("createdBefore") or request.arg("lastUpdatedBefore"),
                "size": size,
                "offset": 0,
            }
        after, before = _parse(state["after"]), _parse(state["before"]) if state["before"] else None
        field = state["field"]
        with self.lock:
            orders = list(self.orders.values())

        def moment(order: Any) -> datetime | None:
            try:
                return _parse(order[field])
            except (KeyError, TypeError, ValueError):
                return None

        selected = [
            o for o in orders if (m := moment(o)) is not None and m >= after and (before is None or m <= before)
        ]
        selected.sort(key=lambda o: (moment(o), str(o.get("orderId"))))
        page = selected[state["offset"] : state["offset"] + state["size"]]
        body: dict[str, Any] = {"orders": page}
        if state["offset"] + state["size"] < len(selected):
            following = {**state, "offset": state["offset"] + state["size"]}
            body["pagination"] = {"nextToken": base64.urlsafe_b64encode(json.dumps(following).encode()).decode()}
        if field == "lastUpdatedTime":
            body["lastUpdatedBefore"] = state["before"] or _iso(datetime.now(UTC) - timedelta(minutes=2))
        else:
            body["createdBefore"] = state["before"] or _iso(datetime.now(UTC) - timedelta(minutes=2))
        return json_response(body)

    def _get_order(self, request: FakeRequest) -> FakeResponse:
        with self.lock:
            order = self.orders.get(request.params["order_id"])
        if order is None:
            return _errors(404, "NotFound", "The order was not found.")
        return json_response({"order": order})

    def _confirm_shipment(self, request: FakeRequest) -> FakeResponse:
        order_id = request.params["order_id"]
        try:
            body = request.json()
            detail = body["packageDetail"]
            items = [(i["orderItemId"], int(i["quantity"])) for i in detail["orderItems"]]
            ship_date = _parse(detail["shipDate"])
            carrier, tracking = detail["carrierCode"], detail["trackingNumber"]
            reference = detail["packageReferenceId"]
            marketplace = body["marketplaceId"]
        except (KeyError, TypeError, ValueError) as exc:
            return _errors(400, "InvalidInput", f"Invalid request body: {exc!r}")
        if marketplace != self.marketplace_id:
            return _errors(400, "InvalidInput", "Invalid marketplaceId.")
        with self.lock:
            order = self.orders.get(order_id)
            if order is None:
                return _errors(404, "NotFound", "The order was not found.")
            known = {item["orderItemId"] for item in order["orderItems"]}
            if not items or any(item_id not in known for item_id, _ in items):
                return _errors(400, "InvalidInput", "Invalid orderItemId.")
            order.setdefault("packages", []).append(
                {
                    "packageReferenceId": reference,
                    "createdTime": _iso(datetime.now(UTC)),
                    "packageStatus": {"status": "SHIPPED"},
                    "carrier": carrier,
                    "shipTime": _iso(ship_date),
                    "trackingNumber": tracking,
                    "packageItems": [{"orderItemId": i, "quantity": q} for i, q in items],
                }
            )
            order["fulfillment"]["fulfillmentStatus"] = "SHIPPED"
            order["lastUpdatedTime"] = _iso(datetime.now(UTC))
        return FakeResponse(status=204)

    # -- reports ----------------------------------------------------------------------------------
    def _create_report(self, request: FakeRequest) -> FakeResponse:
        try:
            spec = request.json()
            report_type = spec["reportType"]
            marketplaces = spec["marketplaceIds"]
            start = (
                _parse(spec["dataStartTime"]) if spec.get("dataStartTime") else datetime.now(UTC) - timedelta(days=30)
            )
            end = _parse(spec["dataEndTime"]) if spec.get("dataEndTime") else datetime.now(UTC)
        except (KeyError, TypeError, ValueError) as exc:
            return _errors(400, "InvalidInput", f"Invalid createReport specification: {exc!r}")
        if not isinstance(marketplaces, list) or not marketplaces:
            return _errors(400, "InvalidInput", "marketplaceIds is required.")
        if report_type == RETURNS_REPORT and end - start > timedelta(days=60):
            return _errors(400, "InvalidInput", "The date range of this report cannot exceed 60 days.")
        report_id = self._next_id()
        with self.lock:
            self.reports[report_id] = {
                "reportId": report_id,
                "reportType": report_type,
                "marketplaceIds": marketplaces,
                "dataStartTime": _iso(start),
                "dataEndTime": _iso(end),
                "createdTime": _iso(datetime.now(UTC)),
                "processingStatus": "IN_QUEUE",
                "_polls": 0,
            }
        return json_response({"reportId": report_id}, 202)

    def _get_report(self, request: FakeRequest) -> FakeResponse:
        with self.lock:
            report = self.reports.get(request.params["report_id"])
            if report is None:
                return _errors(404, "NotFound", "The report was not found.")
            report["_polls"] += 1
            if report["processingStatus"] in ("IN_QUEUE", "IN_PROGRESS"):
                if report["_polls"] >= self.report_polls_until_done:
                    self._finish_report(report)
                else:
                    report["processingStatus"] = "IN_PROGRESS"
                    report["processingStartTime"] = _iso(datetime.now(UTC))
            return json_response({k: v for k, v in report.items() if not k.startswith("_")})

    def _finish_report(self, report: dict[str, Any]) -> None:
        start, end = _parse(report["dataStartTime"]), _parse(report["dataEndTime"])
        rows = []
        for row in self.returns:
            day = datetime.strptime(row["Return request date"], "%d-%b-%Y").replace(tzinfo=UTC)
            if start - timedelta(days=1) < day <= end:
                rows.append(row)
        text = "\t".join(RETURNS_COLUMNS) + "\n"
        text += "".join("\t".join(row.get(c, "") for c in RETURNS_COLUMNS) + "\n" for row in rows)
        data = text.encode("utf-8")
        doc_id = f"amzn1.spdoc.1.4.na.{secrets.token_hex(8)}"
        self.documents[doc_id] = (gzip.compress(data), "GZIP") if self.gzip_reports else (data, None)
        report.update(
            processingStatus="DONE",
            processingStartTime=report.get("processingStartTime") or _iso(datetime.now(UTC)),
            processingEndTime=_iso(datetime.now(UTC)),
            reportDocumentId=doc_id,
        )

    def _get_report_document(self, request: FakeRequest) -> FakeResponse:
        doc_id = request.params["doc_id"]
        with self.lock:
            if doc_id not in self.documents:
                return _errors(404, "NotFound", "The report document was not found.")
            compression = self.documents[doc_id][1]
        body: dict[str, Any] = {"reportDocumentId": doc_id, "url": self.presigned("_documents", doc_id)}
        if compression:
            body["compressionAlgorithm"] = compression
        return json_response(body)

    def _download(self, request: FakeRequest) -> FakeResponse:
        if not self._signed(request, "_documents"):
            return FakeResponse(status=403, body=b"<Error><Code>SignatureDoesNotMatch</Code></Error>")
        with self.lock:
            document = self.documents.get(request.params["doc_id"])
        if document is None:
            return FakeResponse(status=404, body=b"<Error><Code>NoSuchKey</Code></Error>")
        return FakeResponse(body=document[0], headers={"Content-Type": "text/plain; charset=UTF-8"})

    # -- feeds ------------------------------------------------------------------------------------
    def _create_feed_document(self, request: FakeRequest) -> FakeResponse:
        try:
            content_type = request.json()["contentType"]
        except (KeyError, TypeError, ValueError):
            return _errors(400, "InvalidInput", "contentType is required.")
        doc_id = f"amzn1.tortuga.4.na.{secrets.token_hex(8)}"
        with self.lock:
            self.uploads[doc_id] = {"contentType": content_type, "body": None}
        return json_response({"feedDocumentId": doc_id, "url": self.presigned("_uploads", doc_id)}, 201)

    def _upload(self, request: FakeRequest) -> FakeResponse:
        if not self._signed(request, "_uploads"):
            return FakeResponse(status=403, body=b"<Error><Code>SignatureDoesNotMatch</Code></Error>")
        with self.lock:
            upload = self.uploads.get(request.params["doc_id"])
            if upload is None:
                return FakeResponse(status=404, body=b"<Error><Code>NoSuchUpload</Code></Error>")
            if request.headers.get("content-type") != upload["contentType"]:
                return FakeResponse(status=403, body=b"<Error><Code>SignatureDoesNotMatch</Code></Error>")
            upload["body"] = request.body
        return FakeResponse(status=200)

    def _create_feed(self, request: FakeRequest) -> FakeResponse:
        try:
            spec = request.json()
            feed_type = spec["feedType"]
            marketplaces = spec["marketplaceIds"]
            doc_id = spec["inputFeedDocumentId"]
        except (KeyError, TypeError, ValueError) as exc:
            return _errors(400, "InvalidInput", f"Invalid createFeed specification: {exc!r}")
        with self.lock:
            upload = self.uploads.get(doc_id)
            if upload is None or upload["body"] is None:
                return _errors(400, "InvalidInput", "The input feed document was not uploaded.")
            feed_id = self._next_id()
            self.feeds[feed_id] = {
                "feedId": feed_id,
                "feedType": feed_type,
                "marketplaceIds": marketplaces,
                "createdTime": _iso(datetime.now(UTC)),
                "processingStatus": "IN_QUEUE",
                "_input": upload["body"],
                "_polls": 0,
            }
        return json_response({"feedId": feed_id}, 202)

    def _get_feed(self, request: FakeRequest) -> FakeResponse:
        with self.lock:
            feed = self.feeds.get(request.params["feed_id"])
            if feed is None:
                return _errors(404, "NotFound", "The feed was not found.")
            feed["_polls"] += 1
            if feed["processingStatus"] in ("IN_QUEUE", "IN_PROGRESS"):
                if feed["_polls"] >= self.feed_polls_until_done:
                    self._process_feed(feed)
                else:
                    feed["processingStatus"] = "IN_PROGRESS"
            return json_response({k: v for k, v in feed.items() if not k.startswith("_")})

    def _process_feed(self, feed: dict[str, Any]) -> None:
        processed, errors, results = 0, 0, []
        try:
            root = ET.fromstring(feed["_input"])  # noqa: S314 (our own connector's upload, in tests)
            messages = root.findall("Message")
        except ET.ParseError as exc:
            feed.update(processingStatus="FATAL", processingEndTime=_iso(datetime.now(UTC)))
            results.append(("0", "Error", str(exc)))
            messages = []
        for message in messages:
            processed += 1
            message_id = message.findtext("MessageID", "")
            adjustment = message.find("OrderAdjustment")
            order_id = adjustment.findtext("AmazonOrderID", "") if adjustment is not None else ""
            if self.reject_feed_messages or adjustment is None or order_id not in self.orders:
                errors += 1
                results.append((message_id, "Error", f"Order {order_id!r} cannot be adjusted."))
                continue
            items = []
            for adjusted in adjustment.findall("AdjustedItem"):
                charges = [
                    {
                        "ChargeType": component.findtext("Type", ""),
                        "ChargeAmount": {
                            "CurrencyCode": component.find("Amount").get("currency", ""),  # type: ignore[union-attr]
                            "CurrencyAmount": float(-Decimal(component.findtext("Amount", "0"))),
                        },
                    }
                    for component in adjusted.findall("ItemPriceAdjustments/Component")
                ]
                items.append(
                    {
                        "OrderItemId": adjusted.findtext("AmazonOrderItemCode", ""),
                        "OrderAdjustmentItemId": self._next_id(),
                        "QuantityShipped": int(adjusted.findtext("Quantity", "0") or 0),
                        "ItemChargeAdjustmentList": charges,
                    }
                )
            event = {
                "AmazonOrderId": order_id,
                "MarketplaceName": "Amazon.com",
                "PostedDate": _iso(datetime.now(UTC)),
                "ShipmentItemAdjustmentList": items,
            }
            self.financial_events.setdefault(order_id, {}).setdefault("RefundEventList", []).append(event)
        report = ET.Element("AmazonEnvelope")
        header = ET.SubElement(report, "Header")
        ET.SubElement(header, "DocumentVersion").text = "1.02"
        ET.SubElement(header, "MerchantIdentifier").text = self.seller_id
        ET.SubElement(report, "MessageType").text = "ProcessingReport"
        body = ET.SubElement(ET.SubElement(report, "Message"), "ProcessingReport")
        ET.SubElement(body, "DocumentTransactionID").text = feed["feedId"]
        ET.SubElement(body, "StatusCode").text = "Complete"
        summary = ET.SubElement(body, "ProcessingSummary")
        ET.SubElement(summary, "MessagesProcessed").text = str(processed)
        ET.SubElement(summary, "MessagesSuccessful").text = str(processed - errors)
        ET.SubElement(summary, "MessagesWithError").text = str(errors)
        ET.SubElement(summary, "MessagesWithWarning").text = "0"
        for message_id, code, description in results:
            result = ET.SubElement(body, "Result")
            ET.SubElement(result, "MessageID").text = message_id
            ET.SubElement(result, "ResultCode").text = code
            ET.SubElement(result, "ResultMessageCode").text = "18028"
            ET.SubElement(result, "ResultDescription").text = description
        doc_id = f"amzn1.tortuga.4.na.{secrets.token_hex(8)}"
        self.documents[doc_id] = (ET.tostring(report, encoding="utf-8", xml_declaration=True), None)
        if feed["processingStatus"] != "FATAL":
            feed["processingStatus"] = "DONE"
        feed.update(
            processingStartTime=feed["createdTime"],
            processingEndTime=_iso(datetime.now(UTC)),
            resultFeedDocumentId=doc_id,
        )

    def _get_feed_document(self, request: FakeRequest) -> FakeResponse:
        doc_id = request.params["doc_id"]
        with self.lock:
            if doc_id not in self.documents:
                return _errors(404, "NotFound", "The feed document was not found.")
        return json_response({"feedDocumentId": doc_id, "url": self.presigned("_documents", doc_id)})

    # -- finances ---------------------------------------------------------------------------------
    def _financial_events(self, request: FakeRequest) -> FakeResponse:
        with self.lock:
            events = self.financial_events.get(request.params["order_id"], {})
            payload = {"FinancialEvents": {name: list(items) for name, items in events.items()}}
        return json_response({"payload": payload})


# --- sample data -----------------------------------------------------------------------------------


def sample_order(
    order_id: str,
    *,
    updated: datetime,
    status: str = "UNSHIPPED",
    buyer_email: str = "",
    items: list[tuple[str, str, int, str]] | None = None,  # (orderItemId, sku, quantity, unit price)
    currency: str = "USD",
    marketplace_id: str = "ATVPDKIKX0DER",
    address_lines: tuple[str, ...] = (),
) -> dict[str, Any]:
    """An Order as searchOrders / getOrder return it with includedData BUYER, RECIPIENT,
    PROCEEDS, FULFILLMENT, PACKAGES (the same shape as the model's examples). Without a Restricted
    Data Token the delivery address has no street lines; `address_lines` adds them (addressLine1..3)
    as a call with one would return them."""
    items = items or [(f"{order_id[-7:]}0001", "SKU-1", 1, "19.99")]
    total = sum((Decimal(price) * quantity for _, _, quantity, price in items), Decimal("0"))
    return {
        "orderId": order_id,
        "createdTime": _iso(updated - timedelta(hours=2)),
        "lastUpdatedTime": _iso(updated),
        "salesChannel": {"channelName": "AMAZON", "marketplaceId": marketplace_id, "marketplaceName": "Amazon.com"},
        "buyer": {"buyerName": "Jane Buyer", "buyerEmail": buyer_email or f"{order_id[-7:]}@marketplace.amazon.com"},
        "recipient": {
            "deliveryAddress": {
                "name": "Jane Buyer",
                "city": "Seattle",
                "postalCode": "98101",
                "countryCode": "US",
                **{f"addressLine{n}": line for n, line in enumerate(address_lines, start=1)},
            }
        },
        "proceeds": {"grandTotal": {"amount": f"{total:.2f}", "currencyCode": currency}},
        "fulfillment": {"fulfillmentStatus": status, "fulfilledBy": "MERCHANT", "fulfillmentServiceLevel": "STANDARD"},
        "orderItems": [
            {
                "orderItemId": item_id,
                "quantityOrdered": quantity,
                "product": {
                    "asin": "B08N5WRWNW",
                    "title": f"Product {sku}",
                    "sellerSku": sku,
                    "price": {"unitPrice": {"amount": price, "currencyCode": currency}},
                },
                "fulfillment": {"quantityFulfilled": 0, "quantityUnfulfilled": quantity},
            }
            for item_id, sku, quantity, price in items
        ],
        "packages": [],
    }


def sample_return_row(
    order_id: str, *, rma: str, sku: str, requested: datetime, status: str = "Approved", quantity: int = 1
) -> dict[str, str]:
    row = dict.fromkeys(RETURNS_COLUMNS, "")
    row.update(
        {
            "Order ID": order_id,
            "Order date": (requested - timedelta(days=7)).strftime("%d-%b-%Y"),
            "Return request date": requested.strftime("%d-%b-%Y"),
            "Return request status": status,
            "Amazon RMA ID": rma,
            "Label type": "AmazonUnPaidLabel",
            "Currency code": "USD",
            "A-to-z claim": "N",
            "Is prime": "N",
            "ASIN": "B08N5WRWNW",
            "Merchant SKU": sku,
            "Item Name": f"Product {sku}",
            "Return quantity": str(quantity),
            "Return reason": "CR-DEFECTIVE",
            "In policy": "Y",
            "Return type": "C-Returns",
            "Resolution": "StandardRefund",
            "Order Amount": "19.99",
            "Order quantity": str(quantity),
        }
    )
    return row
