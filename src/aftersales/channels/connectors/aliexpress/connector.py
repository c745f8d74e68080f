"""AliExpress Open Platform connector: pulls orders (aliexpress.trade.seller.orderlist.get),
issues (aliexpress.issue.issuelist.get: AliExpress's disputes) and the message centre (relation
list + message detail list), and writes back: buyer messages (sendmsg) and the seller's solution to
an issue (refund, or return and refund, with an amount: aliexpress.issue.solution.save), which is
also how a refund of an issue is issued. docs/connectors/aliexpress.md lists the calls, the facts
relied on and their sources, and what is ambiguous."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

from aftersales.channels.base import (
    AttachmentRecord,
    Capability,
    ConnectionCheck,
    ConnectorError,
    OutboundReply,
    Page,
    RawRecord,
    Record,
    RefundReceipt,
    RefundRequest,
    RefundState,
    ReturnDecision,
    ReturnDecisionKind,
    ReturnKind,
    SentReceipt,
    ShipmentConfirmation,
    StoreContext,
    Stream,
    WriteReceipt,
)
from aftersales.channels.connectors import marketplace, media
from aftersales.channels.http import ClientPerCall
from aftersales.channels.replies import reply_text, send_through_store
from aftersales.core.clock import now

from . import mapping
from .client import DEFAULT_BASE_URL, AliExpressClient, result_of

ORDER_LIST = "aliexpress.trade.seller.orderlist.get"
ISSUE_LIST = "aliexpress.issue.issuelist.get"
ISSUE_SOLUTION = "aliexpress.issue.solution.save"
ISSUE_AGREE = "aliexpress.issue.solution.agree"
ISSUE_DETAIL = "aliexpress.issue.detail.get"
RELATION_LIST = "aliexpress.message.redefining.versiontwo.querymsgrelationlist"
MESSAGE_LIST = "aliexpress.message.redefining.versiontwo.querymsgdetaillist"
SEND_MESSAGE = "aliexpress.message.redefining.sendmsg"
ORDER_FULFILL = "aliexpress.solution.order.fulfill"
ISSUE_IMAGE_UPLOAD = "aliexpress.issue.image.upload"
LOGISTICS_SERVICES = "aliexpress.logistics.redefining.listlogisticsservice"
SELLER_ADDRESSES = "aliexpress.logistics.redefining.getlogisticsselleraddresses"
EVIDENCE_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif"}

ORDER_PAGE_SIZE = 50  # the order list's maximum page size
ISSUE_PAGE_SIZE = 50
RELATION_PAGE_SIZE = 20
MESSAGE_PAGE_SIZE = 50
ORDERS_LOOKBACK = timedelta(days=30)
MESSAGES_LOOKBACK = timedelta(days=7)
CREATED_WINDOW = timedelta(days=180)  # a modified-date query must name a creation range <= 180 days
OVERLAP = timedelta(minutes=10)
MAX_ISSUE_PAGES = 20  # one pass reads at most 1,000 issues (newest first)
# Issue statuses after which the buyer's money is on its way.
REFUNDED_ISSUE_STATUSES = frozenset({"ACCEPTISSUE", "finish"})


def _pacific(value: datetime) -> str:
    return value.astimezone(mapping.PACIFIC).strftime(mapping.TIME_FORMAT)


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def _wrapped(result: Mapping[str, Any], path: str, item: str) -> list[Any]:
    value = mapping.dig(result, path)
    if isinstance(value, Mapping):
        value = value.get(item, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConnectorError(f"AliExpress answered a {path} that is not a list")
    return value


def _page_count(result: Mapping[str, Any]) -> int:
    try:
        return int(result.get("total_page") or 0)
    except (TypeError, ValueError):
        return 0


def _fulfil_refused(result: Mapping[str, Any]) -> str | None:
    """AliExpress's words when the fulfil result says it failed (BaseResult: result_success,
    error_code, error_message), else None."""
    if result.get("result_success") is True:
        return None
    code, message = result.get("error_code") or "", result.get("error_message") or ""
    return f"{message} ({code})" if code and message else str(message or code or "no result_success")


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def _same_money(solution: Mapping[str, Any], amount: Decimal, currency: str) -> bool:
    """The buyer's solution asks for this amount: refund_money (the buyer's currency) or
    refund_money_post (the order's), each with its currency."""
    for value, unit in (("refund_money", "refund_money_currency"), ("refund_money_post", "refund_money_post_currency")):
        try:
            asked = Decimal(str(solution.get(value) or ""))
        except ArithmeticError:
            continue
        if asked == amount and str(solution.get(unit) or "").upper() == currency.upper():
            return True
    return False


class AliExpressConnector(ClientPerCall[AliExpressClient]):
    platform = "aliexpress"
    capabilities = marketplace.RETURNS_CAPABILITIES | {Capability.MARK_SHIPPED}
    # AliExpress answers ApiCallLimit / AppCallLimit when an app or a seller calls too fast; it
    # publishes per-app quotas in the console, not per call: these pace one store's calls.
    rate_limits: ClassVar[dict[str, tuple[float, int]]] = marketplace.store_buckets(
        "aliexpress", ("orders", "issues", "messages"), per_second=5.0, burst=20
    )
    credential_fields: ClassVar[tuple[str, ...]] = ("app_key", "app_secret", "refresh_token")
    default_base_url = DEFAULT_BASE_URL
    client_class = AliExpressClient

    # -- pulling -----------------------------------------------------------------------------------
    def pull(self, ctx: StoreContext, stream: Stream, cursor: str | None, since: datetime | None) -> Page:
        state = marketplace.json_cursor(cursor, "AliExpress")
        with self.client(ctx) as client:
            if stream == Stream.ORDERS:
                return self._pull_orders(client, state, since)
            if stream == Stream.RETURNS:
                return self._pull_issues(client, state)
            if stream == Stream.MESSAGES:
                return self._pull_messages(client, state, since)
        raise ConnectorError(f"AliExpress has no {stream} stream", permanent=True)

    def _pull_orders(self, client: AliExpressClient, state: dict[str, Any], since: datetime | None) -> Page:
        """Orders modified in [from, to] (Pacific time strings, frozen while paged), page by page;
        the next pass starts OVERLAP before this one's end."""
        current = now()
        try:
            if state.get("from") and state.get("to"):
                start, end = str(state["from"]), str(state["to"])
            else:
                begin = datetime.fromisoformat(state["next_from"]) - OVERLAP if state.get("next_from") else None
                start, end = _pacific(begin or since or current - ORDERS_LOOKBACK), _pacific(current)
            page = int(state.get("page") or 1)
        except (TypeError, ValueError) as exc:
            raise ConnectorError(f"unreadable AliExpress cursor {state!r}"[:200], permanent=True) from exc
        query = {
            "current_page": page,
            "page_size": ORDER_PAGE_SIZE,
            "create_date_start": _pacific(current - CREATED_WINDOW),
            "create_date_end": _pacific(current),
            "modified_date_start": start,
            "modified_date_end": end,
        }
        result = result_of(
            client.call(ORDER_LIST, {"param_aeop_order_query": query}, bucket="aliexpress:orders"), "order list"
        )
        orders = _wrapped(result, "target_list", "aeop_order_item_dto")
        records = [
            RawRecord(Stream.ORDERS, mapping.version_key("order", o), {"kind": "order", "data": o}) for o in orders
        ]
        if orders and page < _page_count(result):
            return Page(records, json.dumps({"from": start, "to": end, "page": page + 1}), done=False)
        return Page(records, json.dumps({"next_from": current.isoformat()}), done=True)

    def _pull_issues(self, client: AliExpressClient, state: dict[str, Any]) -> Page:
        """The issue list, newest first, page by page (at most MAX_ISSUE_PAGES per pass): an issue's
        event id carries its gmt_modified, so a version already stored is a no-op."""
        page = int(state.get("page") or 1)
        query = {"current_page": page, "page_size": ISSUE_PAGE_SIZE}
        result = result_of(client.call(ISSUE_LIST, {"query_dto": query}, bucket="aliexpress:issues"), "issue list")
        issues = _wrapped(result, "data_list", "issue_api_issue_dto")
        records = [
            RawRecord(Stream.RETURNS, mapping.version_key("issue", i), {"kind": "issue", "data": i}) for i in issues
        ]
        if issues and page < min(_page_count(result), MAX_ISSUE_PAGES):
            return Page(records, json.dumps({"page": page + 1}), done=False)
        return Page(records, json.dumps({"page": 1}), done=True)

    def _pull_messages(self, client: AliExpressClient, state: dict[str, Any], since: datetime | None) -> Page:
        """Relations (one per buyer channel) newest first; each with a message since the watermark is
        expanded into its messages (oldest first). The pass ends at the first older relation."""
        try:
            watermark = int(state.get("watermark") or 0) or _ms(since or now() - MESSAGES_LOOKBACK)
            top = int(state.get("top") or watermark)
            page = int(state.get("page") or 1)
        except (TypeError, ValueError) as exc:
            raise ConnectorError(f"unreadable AliExpress cursor {state!r}"[:200], permanent=True) from exc
        query = {"current_page": page, "page_size": RELATION_PAGE_SIZE}
        result = result_of(client.call(RELATION_LIST, {"query": query}, bucket="aliexpress:messages"), "relations")
        relations = _wrapped(result, "relation_list", "relation_result")
        records: list[RawRecord] = []
        reached_older = False
        for relation in relations:
            head = relation if isinstance(relation, Mapping) else {}
            try:
                last = int(head.get("message_time") or 0)
            except (TypeError, ValueError):
                last = 0
            if last and last < watermark:
                reached_older = True
                break
            top = max(top, last)
            for message in self._messages(client, head, watermark):
                records.append(
                    RawRecord(
                        Stream.MESSAGES,
                        mapping.version_key("message", message),
                        media.with_downloads(
                            client,
                            {"kind": "message", "relation": dict(head), "data": message},
                            mapping.media_urls(message),
                            bucket="aliexpress:messages",
                        ),
                    )
                )
        if relations and not reached_older and page < _page_count(result):
            return Page(records, json.dumps({"watermark": watermark, "top": top, "page": page + 1}), done=False)
        overlap = int(OVERLAP.total_seconds() * 1000)
        return Page(records, json.dumps({"watermark": max(top, watermark + overlap) - overlap}), done=True)

    def _messages(self, client: AliExpressClient, relation: Mapping[str, Any], watermark: int) -> list[Any]:
        channel_id = relation.get("channel_id")
        if not channel_id:
            return [{}]  # kept and quarantined by map_record (channel_id is missing)
        params = {"channel_id": str(channel_id), "current_page": 1, "page_size": MESSAGE_PAGE_SIZE}
        result = result_of(client.call(MESSAGE_LIST, params, bucket="aliexpress:messages"), "message list")
        batch = _wrapped(result, "message_detail_list", "message_detail")
        newer = []
        for message in batch:
            try:
                sent = int(message.get("gmt_create") or 0) if isinstance(message, Mapping) else 0
            except (TypeError, ValueError):
                sent = 0  # malformed: kept, quarantined by map_record
            if sent and sent < watermark:
                continue
            newer.append(message)
        return sorted(newer, key=lambda m: str(m.get("gmt_create") or "") if isinstance(m, Mapping) else "")

    def map_record(self, ctx: StoreContext, raw: RawRecord) -> list[Record]:
        return mapping.map_payload(raw.payload, currency=ctx.currency)

    def test_connection(self, ctx: StoreContext) -> ConnectionCheck:
        try:
            with self.client(ctx) as client:
                client.call(ORDER_LIST, {"param_aeop_order_query": {"current_page": 1, "page_size": 1}})
        except ConnectorError as exc:
            return ConnectionCheck(ok=False, detail=str(exc))
        return ConnectionCheck(ok=True, detail="AliExpress answered the order list")

    # -- write-backs -------------------------------------------------------------------------------
    def send_reply(self, reply: OutboundReply) -> SentReceipt:
        return send_through_store(self, reply)

    def send_message(self, ctx: StoreContext, reply: OutboundReply) -> SentReceipt:
        text = reply_text(reply, limit=None, platform="AliExpress", code="content")
        if reply.attachments:
            raise ConnectorError(
                "AliExpress messages are sent as text only: attachments are not sent", permanent=True, code="content"
            )
        if not reply.conversation_id or not reply.customer_address:
            raise ConnectorError("the buyer's AliExpress message channel is unknown", permanent=True, code="channel_id")
        create = {
            "channel_id": reply.conversation_id,
            "buyer_id": reply.customer_address,
            "content": text,
            "msg_sources": "message_center",
        }
        with self.client(ctx) as client:
            payload = client.call(
                SEND_MESSAGE, {"create_param": create}, bucket="aliexpress:messages", idempotent=False
            )
        result = result_of(payload, "sendmsg")
        if result.get("is_success") is False:
            raise ConnectorError(f"AliExpress refused the message: {result.get('error_msg') or ''}", permanent=True)
        message_id = result.get("message_id") or payload.get("request_id")
        if not message_id:
            raise ConnectorError("AliExpress accepted the message without an id")
        return SentReceipt(external_id=f"aliexpress:{message_id}", sent_at=now())

    def _solution(
        self,
        ctx: StoreContext,
        client: AliExpressClient,
        *,
        issue_id: str,
        buyer_id: str,
        kind: ReturnKind,
        amount: Decimal,
        currency: str,
        note: str,
    ) -> Mapping[str, Any]:
        """The seller's solution to an issue, as the SDK metadata documents it: the buyer's pending
        solution is read (aliexpress.issue.detail.get: issue_id, buyer_login_id); when it is the
        same (type, amount, currency) it is accepted (aliexpress.issue.solution.agree: issue_id,
        buyer_login_id, solution_id, return_address_id for a return); otherwise the seller adds
        their own, refusing the buyer's (aliexpress.issue.solution.save, `param_dto`:
        SellerAddOrModifySolutionDto with buyer_solution_id, return_good_address_id for a return)."""
        if not buyer_id:
            raise ConnectorError(
                f"AliExpress needs the buyer's login id of issue {issue_id}: no buyer is known for it",
                permanent=True,
            )
        solution_type = "return_and_refund" if kind == ReturnKind.RETURN else "refund"
        address = self._return_address(ctx, client) if solution_type == "return_and_refund" else ""
        answer = client.call(
            ISSUE_DETAIL, {"issue_id": issue_id, "buyer_login_id": buyer_id}, bucket="aliexpress:issues"
        )
        detail = answer.get("result_object")
        if not isinstance(detail, Mapping):
            raise ConnectorError("AliExpress issue.detail.get answered without a result_object")
        listed = detail.get("buyer_solution_list")
        solutions = [
            s
            for s in (listed.get("solution_api_dto") if isinstance(listed, Mapping) else None) or []
            if isinstance(s, Mapping)
        ]
        pending = next((s for s in solutions if s.get("status") == "wait_seller_accept"), None)
        if pending is None or not str(pending.get("id") or ""):
            raise ConnectorError(
                f"AliExpress shows no buyer solution awaiting the seller on issue {issue_id}", permanent=True
            )
        if str(pending.get("solution_type")) == solution_type and _same_money(pending, amount, currency):
            agree: dict[str, Any] = {
                "issue_id": issue_id,
                "buyer_login_id": buyer_id,
                "solution_id": str(pending["id"]),
            }
            if solution_type == "return_and_refund":
                agree["return_address_id"] = address
            payload = client.call(ISSUE_AGREE, agree, bucket="aliexpress:issues")
            what = "solution.agree"
        else:
            dto: dict[str, Any] = {
                "add_seller_solution": True,
                "add_solution_type": solution_type,
                "buyer_login_id": buyer_id,
                "buyer_solution_id": str(pending["id"]),
                "issue_id": issue_id,
                "refund_amount": _money(amount),
                "refund_amount_currency": currency,
                "solution_context": note.strip()[:512],
            }
            if solution_type == "return_and_refund":
                dto["return_good_address_id"] = address
            payload = client.call(ISSUE_SOLUTION, {"param_dto": dto}, bucket="aliexpress:issues")
            what = "solution.save"
        if payload.get("result_object") is not True:
            raise ConnectorError(f"AliExpress {what} answered {payload.get('result_object')!r}", permanent=True)
        return payload

    @staticmethod
    def return_addresses(client: AliExpressClient) -> list[Mapping[str, Any]]:
        """The seller's return (refund) addresses: aliexpress.logistics.redefining.getlogisticsselleraddresses
        with `seller_address_query` "refund"; answer `refund_seller_address_list.refundselleraddresslist[]`
        {address_id, name, street_address, city, province, country, postcode, is_default}."""
        payload = client.call(SELLER_ADDRESSES, {"seller_address_query": "refund"}, bucket="aliexpress:issues")
        if payload.get("result_success") is False:
            raise ConnectorError(
                f"AliExpress refused the seller's address list: {payload.get('error_desc') or ''}", permanent=True
            )
        listed = _wrapped(payload, "refund_seller_address_list", "refundselleraddresslist")
        return [a for a in listed if isinstance(a, Mapping) and str(a.get("address_id") or "")]

    def _return_address(self, ctx: StoreContext, client: AliExpressClient) -> str:
        """The return address of a return solution, chosen from the seller's return addresses on
        AliExpress: the store setting `return_address_id` when it is one of them, else (no setting)
        AliExpress's default return address, or the only one; anything else is refused naming
        `return_address_id` with the ids AliExpress lists."""
        addresses = self.return_addresses(client)
        ids = [str(a["address_id"]) for a in addresses]
        choices = ", ".join(f"{a['address_id']} ({a.get('name') or ''}, {a.get('city') or ''})" for a in addresses[:10])
        wanted = str(ctx.credentials.get("return_address_id") or "").strip()
        if wanted:
            if wanted in ids:
                return wanted
            raise ConnectorError(
                f"return_address_id {wanted} is none of the seller's return addresses on AliExpress: "
                f"{choices or 'none'}",
                permanent=True,
                code="return_address_id",
            )
        default = [str(a["address_id"]) for a in addresses if a.get("is_default") in (True, 1, "true", "1")]
        if len(default) == 1 or len(ids) == 1:
            return default[0] if len(default) == 1 else ids[0]
        raise ConnectorError(
            "AliExpress needs the seller's return address for a return solution: "
            + (f"set return_address_id to one of {choices}" if ids else "add a return address on AliExpress"),
            permanent=True,
            code="return_address_id",
        )

    def decide_return(self, ctx: StoreContext, decision: ReturnDecision) -> WriteReceipt:
        """The seller answers an issue with a solution of their own: refund (or return and refund)
        of an amount. AliExpress has no plain refusal: a seller who disagrees proposes another
        solution or lets AliExpress arbitrate with evidence (not sent from here)."""
        if decision.kind not in (ReturnKind.RETURN, ReturnKind.REFUND_REQUEST):
            raise ConnectorError(f"AliExpress has no {decision.kind} decisions", permanent=True)
        if decision.decision not in (ReturnDecisionKind.APPROVE, ReturnDecisionKind.OFFER_PARTIAL_REFUND):
            raise ConnectorError(
                f"AliExpress issues have no {decision.decision} decision: propose a refund of another amount, "
                "or answer AliExpress's arbitration on AliExpress",
                permanent=True,
            )
        if decision.amount is None or decision.amount <= 0:
            raise ConnectorError("an AliExpress solution needs the refund amount", permanent=True, code="refund_amount")
        currency = decision.currency or ctx.currency
        with self.client(ctx) as client:
            self._solution(
                ctx,
                client,
                issue_id=decision.return_external_id,
                buyer_id=decision.buyer_id,
                kind=decision.kind,
                amount=decision.amount,
                currency=currency,
                note=decision.comment,
            )
        return WriteReceipt(external_id=decision.return_external_id, detail=f"solution {decision.amount} {currency}")

    def issue_refund(self, ctx: StoreContext, refund: RefundRequest) -> RefundReceipt:
        """AliExpress refunds a buyer through an issue: the refund is the seller's refund solution to
        it (AliExpress moves the money). A refund without an issue is refused with the reason."""
        if not refund.return_external_id:
            raise ConnectorError(
                "AliExpress refunds only through the buyer's issue (dispute): refund this order on AliExpress",
                permanent=True,
            )
        with self.client(ctx) as client:
            self._solution(
                ctx,
                client,
                issue_id=refund.return_external_id,
                buyer_id=refund.buyer_id,
                kind=ReturnKind.REFUND_REQUEST,
                amount=refund.amount,
                currency=refund.currency or ctx.currency,
                note=refund.note or refund.reason,
            )
        return RefundReceipt(f"issue:{refund.return_external_id}", RefundState.PENDING, detail="refund solution")

    def refund_status(self, ctx: StoreContext, refund: RefundRequest, receipt: RefundReceipt) -> RefundReceipt:
        return receipt  # the issue's status (pulled) tells when AliExpress paid

    # -- shipping ----------------------------------------------------------------------------------
    def mark_shipped(self, ctx: StoreContext, shipment: ShipmentConfirmation) -> WriteReceipt:
        """aliexpress.solution.order.fulfill: `service_name` (AliExpress's logistics service key,
        e.g. CAINIAO_STANDARD: the carrier as the agent typed it), `out_ref` (the order),
        `send_type` all (the whole order) or part (some lines given), `logistics_no` (the tracking
        number). The carrier "other" needs a tracking website, which the agent does not give:
        refused. Not resent after a timeout (the ledger keeps one attempt per shipment); AliExpress's
        refusal (result_success false) is shown with its words. docs/connectors/aliexpress.md."""
        service = shipment.carrier.strip()
        if service.casefold() == "other":
            raise ConnectorError(
                "AliExpress needs a tracking website for the carrier 'other': mark the order shipped on AliExpress",
                permanent=True,
            )
        with self.client(ctx) as client:
            service = self._logistics_service(client, service, shipment.tracking_number)
            params = {
                "service_name": service,
                "out_ref": shipment.order_external_id,
                "send_type": "part" if shipment.line_ids else "all",
                "logistics_no": shipment.tracking_number,
            }
            payload = client.call(ORDER_FULFILL, params, bucket="aliexpress:orders", idempotent=False)
        refused = _fulfil_refused(result_of(payload, "order.fulfill"))
        if refused is not None:
            raise ConnectorError(f"AliExpress refused the shipment: {refused}", permanent=True)
        return WriteReceipt(
            external_id=shipment.order_external_id, detail=f"{params['send_type']} {service} {shipment.tracking_number}"
        )

    @staticmethod
    def _logistics_service(client: AliExpressClient, carrier: str, number: str) -> str:
        """The agent's carrier matched to AliExpress's logistics services
        (aliexpress.logistics.redefining.listlogisticsservice, no parameters; answer
        `result_list.aeop_logistics_service_result[]` {service_name, display_name, logistics_company,
        tracking_no_regex, …}): by service key, then by display name, then by logistics company (any
        case; the company only when it names one service). The tracking number must match the
        service's `tracking_no_regex` when it gives one. Refused with the reason, before fulfilling."""
        payload = client.call(LOGISTICS_SERVICES, {}, bucket="aliexpress:orders")
        if payload.get("result_success") is False:
            raise ConnectorError(f"AliExpress refused its logistics service list: {payload.get('error_desc') or ''}")
        services = [
            s
            for s in _wrapped(payload, "result_list", "aeop_logistics_service_result")
            if isinstance(s, Mapping) and s.get("service_name")
        ]
        wanted = carrier.casefold()
        match = next((s for s in services if str(s["service_name"]).casefold() == wanted), None)
        match = match or next((s for s in services if str(s.get("display_name") or "").casefold() == wanted), None)
        by_company = [s for s in services if str(s.get("logistics_company") or "").casefold() == wanted]
        match = match or (by_company[0] if len(by_company) == 1 else None)
        if match is None:
            keys = ", ".join(str(s["service_name"]) for s in services[:30])
            raise ConnectorError(
                f"AliExpress has no logistics service {carrier!r}: "
                f"use one of its service keys ({keys or 'none listed'})",
                permanent=True,
                code="carrier",
            )
        pattern = str(match.get("tracking_no_regex") or "")
        try:
            valid = not pattern or re.fullmatch(pattern.removeprefix("^").removesuffix("$"), number) is not None
        except re.error:
            valid = True  # a pattern Python cannot read: AliExpress checks it itself
        if not valid:
            raise ConnectorError(
                f"tracking number {number!r} is not one of {match['service_name']} (AliExpress expects {pattern})",
                permanent=True,
                code="tracking_number",
            )
        return str(match["service_name"])

    # -- evidence ----------------------------------------------------------------------------------
    def upload_issue_evidence(
        self, ctx: StoreContext, *, issue_id: str, buyer_login_id: str, image: AttachmentRecord
    ) -> WriteReceipt:
        """aliexpress.issue.image.upload: the seller's evidence picture for an issue (dispute),
        `issue_id`, `buyer_login_id`, `extension` and the picture as the multipart file `image_bytes`;
        AliExpress answers `result_object` true or false. The picture is attached to the issue
        itself: the solution call (aliexpress.issue.solution.save) has no field naming it. Only
        JPEG, PNG and GIF pictures (the type sniffed by the inbox when the file was stored) are sent.
        docs/connectors/aliexpress.md."""
        extension = EVIDENCE_TYPES.get(image.content_type)
        if extension is None:
            raise ConnectorError(
                f"AliExpress takes evidence pictures (JPEG, PNG, GIF), not {image.content_type or 'this file'}",
                permanent=True,
                code="image",
            )
        if not issue_id or not buyer_login_id:
            raise ConnectorError("the issue and its buyer are needed for evidence", permanent=True, code="issue_id")
        params = {"issue_id": issue_id, "buyer_login_id": buyer_login_id, "extension": extension}
        with self.client(ctx) as client:
            payload = client.call(
                ISSUE_IMAGE_UPLOAD,
                params,
                bucket="aliexpress:issues",
                idempotent=False,
                files={"image_bytes": (f"evidence.{extension}", image.content, image.content_type)},
            )
        if payload.get("result_object") is not True:
            raise ConnectorError(f"AliExpress refused the evidence picture for issue {issue_id}", permanent=True)
        return WriteReceipt(external_id=issue_id, detail=f"evidence {image.filename} uploaded")
