"""A fake AliExpress Open Platform on 127.0.0.1 for tests and `make run`'s demo store.

It checks what docs/connectors/aliexpress.md says AliExpress checks: app_key, a millisecond
timestamp within 15 minutes, sign_method=sha256 and `sign` (upper-case hex HMAC-SHA256 of the sorted
name+value parameters, the API path first for /rest calls), access tokens that expire and refresh
tokens (a revoked authorisation refuses both). System calls are POST /sync with `method`; it pages
the order list (page_size <= 50, modified-date window), the issue list and the message relations,
answers AliExpress's error envelope ({"error_response": {"type", "code", "msg", "request_id"}} in a
200) and records solutions and sent messages. Faults (429, 5xx, dropped connections) come from
FakePlatform."""

from __future__ import annotations

import hmac
import itertools
import json
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from email.parser import BytesParser
from email.policy import default as default_policy
from typing import Any
from urllib.parse import parse_qs

from aftersales.testing.fake_cdn import ChatFiles
from aftersales.testing.fake_platform import FakePlatform, FakeRequest, FakeResponse, json_response

from .client import REFRESH_PATH, sign
from .mapping import PACIFIC, TIME_FORMAT

TIMESTAMP_TOLERANCE_MS = 15 * 60 * 1000


BARE_ANSWERS = {
    "aliexpress.logistics.redefining.listlogisticsservice",
    "aliexpress.logistics.redefining.getlogisticsselleraddresses",
    "aliexpress.issue.image.upload",
    "aliexpress.issue.detail.get",
    "aliexpress.issue.solution.save",
    "aliexpress.issue.solution.agree",
}


def _error(code: str, msg: str, type_: str = "ISV") -> FakeResponse:
    return json_response(
        {"error_response": {"type": type_, "code": code, "msg": msg, "request_id": uuid.uuid4().hex[:13]}}
    )


def _fulfil_error(code: str, message: str) -> dict[str, Any]:
    return {"result_success": False, "error_code": code, "error_message": message}


def _is_multipart(request: FakeRequest) -> bool:
    return request.headers.get("content-type", "").startswith("multipart/form-data")


def _multipart(request: FakeRequest) -> tuple[dict[str, str], dict[str, tuple[str, bytes, str]]]:
    """The text fields and the file parts (name -> (filename, bytes, content type)) of a
    multipart/form-data body."""
    head = f"Content-Type: {request.headers['content-type']}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=default_policy).parsebytes(head + request.body)
    form: dict[str, str] = {}
    files: dict[str, tuple[str, bytes, str]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        if part.get_filename():
            files[str(name)] = (part.get_filename() or "", content, part.get_content_type())
        else:
            form[str(name)] = content.decode()
    return form, files


def _form(request: FakeRequest) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.body.decode(), keep_blank_values=True).items()}


def _pacific(value: str) -> datetime:
    return datetime.strptime(value, TIME_FORMAT).replace(tzinfo=PACIFIC)


class AliExpressFake(ChatFiles, FakePlatform):
    name = "aliexpress"

    def __init__(
        self,
        *,
        app_key: str = "501234",
        app_secret: str = "aliexpress-test-app-secret",  # noqa: S107 (the fake's own test secret)
        seller_login_id: str = "cn1500123456",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app_key = app_key
        self.app_secret = app_secret
        self.seller_login_id = seller_login_id
        self.clock = clock
        self._ids = itertools.count(1)
        self.access_tokens: dict[str, float] = {}  # token -> expiry (epoch seconds)
        self.refresh_token = f"rt-{uuid.uuid4().hex[:16]}"
        self.revoked = False
        self.orders: dict[str, dict[str, Any]] = {}
        self.issues: dict[str, dict[str, Any]] = {}
        self.relations: dict[str, dict[str, Any]] = {}  # channel id -> relation
        self.messages: dict[str, list[dict[str, Any]]] = {}  # channel id -> newest first
        self.solutions: list[dict[str, Any]] = []
        self.fulfilments: list[dict[str, str]] = []
        self.evidence: list[dict[str, Any]] = []
        # AliExpress's logistics services (aliexpress.logistics.redefining.listlogisticsservice's
        # aeop_logistics_service_result); their service_name is what order.fulfill accepts.
        self.service_list: list[dict[str, Any]] = [
            {
                "service_name": "CAINIAO_STANDARD",
                "display_name": "AliExpress Standard Shipping",
                "logistics_company": "CAINIAO",
                "min_process_day": 1,
                "max_process_day": 7,
                "recommend_order": 1,
            },
            {
                "service_name": "CAINIAO_ECONOMY",
                "display_name": "AliExpress Saver Shipping",
                "logistics_company": "CAINIAO",
                "min_process_day": 1,
                "max_process_day": 7,
                "recommend_order": 2,
            },
            {
                "service_name": "EMS",
                "display_name": "EMS",
                "logistics_company": "EMS",
                "tracking_no_regex": "^[a-zA-Z]{2}[0-9]{9}[a-zA-Z]{2}$",
                "recommend_order": 3,
            },
            {"service_name": "DHL", "display_name": "DHL", "logistics_company": "DHL", "recommend_order": 4},
            {"service_name": "UPS", "display_name": "UPS Express Saver", "logistics_company": "UPS"},
            {"service_name": "FEDEX_IE", "display_name": "Fedex IE", "logistics_company": "FEDEX"},
            {"service_name": "OTHER", "display_name": "Seller's Shipping Method", "logistics_company": "OTHER"},
        ]
        self.logistics_services = {str(s["service_name"]) for s in self.service_list}
        # The seller's return addresses (getlogisticsselleraddresses, seller_address_query "refund").
        self.return_addresses: list[dict[str, Any]] = [
            {
                "address_id": 30012345,
                "name": "Returns desk",
                "street_address": "88 Wensan Rd",
                "city": "Hangzhou",
                "province": "Zhejiang",
                "country": "CN",
                "postcode": "310012",
                "is_default": True,
            },
            {
                "address_id": 30012399,
                "name": "Shenzhen warehouse",
                "street_address": "2 Keji Rd",
                "city": "Shenzhen",
                "province": "Guangdong",
                "country": "CN",
                "postcode": "518057",
                "is_default": False,
            },
        ]
        super().__init__()

    # -- credentials -----------------------------------------------------------------------------
    def new_access_token(self, seconds: int = 24 * 3600) -> str:
        token = f"at-{next(self._ids)}-{uuid.uuid4().hex[:12]}"
        self.access_tokens[token] = self.clock() + seconds
        return token

    def credentials(self, **overrides: Any) -> dict[str, Any]:
        return {
            "app_key": self.app_key,
            "app_secret": self.app_secret,
            "refresh_token": self.refresh_token,
            **overrides,
        }

    def expire_tokens(self) -> None:
        with self.lock:
            self.access_tokens = dict.fromkeys(self.access_tokens, 0.0)

    # -- data ------------------------------------------------------------------------------------
    def add_order(self, order: dict[str, Any]) -> None:
        with self.lock:
            self.orders[str(order["order_id"])] = order

    def add_issue(self, issue: dict[str, Any]) -> None:
        """An issue; without a buyer_solution_list it gets the buyer's pending solution (refund, or
        return and refund while the issue awaits a return, of refund_money_post)."""
        if "buyer_solution_list" not in issue:
            money = issue.get("refund_money_post") or {}
            returning = "RETURN" in str(issue.get("issue_status") or "").upper()
            issue = {
                **issue,
                "buyer_solution_list": {
                    "solution_api_dto": [
                        {
                            "id": f"{issue['id']}7",
                            "issue_id": issue["id"],
                            "solution_owner": "buyer",
                            "solution_type": "return_and_refund" if returning else "refund",
                            "is_default": True,
                            "status": "wait_seller_accept",
                            "refund_money_post": str(money.get("amount") or "0.00"),
                            "refund_money_post_currency": str(money.get("currency_code") or "USD"),
                        }
                    ]
                },
            }
        with self.lock:
            self.issues[str(issue["id"])] = issue

    def add_message(self, relation: dict[str, Any], message: dict[str, Any]) -> None:
        """A message on the buyer's channel (the relation is created or moved to the top)."""
        with self.lock:
            channel = str(relation["channel_id"])
            self.relations[channel] = {**self.relations.get(channel, {}), **relation}
            self.relations[channel]["message_time"] = message.get("gmt_create")
            self.messages.setdefault(channel, []).insert(0, message)

    # -- routes ----------------------------------------------------------------------------------
    def setup_routes(self) -> None:
        self.route("POST", r"/sync", self.sync)
        self.route("POST", r"/rest" + REFRESH_PATH, self.refresh)
        self.route_files()

    def _check_signature(self, form: dict[str, str], api_path: str = "") -> FakeResponse | None:
        if form.get("app_key") != self.app_key:
            return _error("InvalidAppKey", "The specified App Key is invalid")
        try:
            stamp = int(form.get("timestamp") or "")
        except ValueError:
            return _error("MissingTimestamp", "The input parameter timestamp that is mandatory is missing")
        if abs(self.clock() * 1000 - stamp) > TIMESTAMP_TOLERANCE_MS:
            return _error("InvalidTimestamp", "The specified timestamp is expired")
        if form.get("sign_method") != "sha256":
            return _error("InvalidSignMethod", "The specified signature method is invalid")
        expected = sign(self.app_secret, form, api_path)
        if not hmac.compare_digest(expected, form.get("sign") or ""):
            return _error("IncompleteSignature", "The request signature does not conform to platform standards")
        return None

    def refresh(self, request: FakeRequest) -> FakeResponse:
        form = _form(request)
        denied = self._check_signature(form, REFRESH_PATH)
        if denied is not None:
            return denied
        if self.revoked or form.get("refresh_token") != self.refresh_token:
            return json_response(
                {"code": "IllegalRefreshToken", "message": "The specified refresh token is invalid or expired"}
            )
        token = self.new_access_token()
        expiry_ms = int(self.access_tokens[token] * 1000)
        return json_response(
            {
                "code": "0",
                "access_token": token,
                "refresh_token": self.refresh_token,
                "expire_time": expiry_ms,
                "seller_id": "2000123456",
                "account": self.seller_login_id,
                "request_id": uuid.uuid4().hex[:13],
            }
        )

    def sync(self, request: FakeRequest) -> FakeResponse:
        form, files = _multipart(request) if _is_multipart(request) else (_form(request), {})
        denied = self._check_signature(form)
        if denied is not None:
            return denied
        token = form.get("access_token") or ""
        if self.revoked or self.access_tokens.get(token, 0.0) <= self.clock():
            return _error("IllegalAccessToken", "The specified access token is invalid or expired")
        method = form.get("method") or ""
        handler = {
            "aliexpress.trade.seller.orderlist.get": self.order_list,
            "aliexpress.issue.issuelist.get": self.issue_list,
            "aliexpress.issue.solution.save": self.solution_save,
            "aliexpress.issue.solution.agree": self.solution_agree,
            "aliexpress.issue.detail.get": self.issue_detail,
            "aliexpress.message.redefining.versiontwo.querymsgrelationlist": self.relation_list,
            "aliexpress.message.redefining.versiontwo.querymsgdetaillist": self.message_list,
            "aliexpress.message.redefining.sendmsg": self.send_message,
            "aliexpress.solution.order.fulfill": self.order_fulfill,
            "aliexpress.issue.image.upload": lambda f: self.issue_image_upload(f, files),
            "aliexpress.logistics.redefining.listlogisticsservice": self.list_logistics_services,
            "aliexpress.logistics.redefining.getlogisticsselleraddresses": self.seller_addresses,
        }.get(method)
        if handler is None:
            return _error("InvalidApiPath", f"The specified API {method!r} is invalid")
        try:
            result = handler(form)
        except (KeyError, TypeError, ValueError) as exc:
            return _error("isv.param-error", f"invalid parameter: {exc}")
        if isinstance(result, FakeResponse):
            return result
        if method in BARE_ANSWERS:  # these answer a bare result_object
            return json_response({method.replace(".", "_") + "_response": result, "request_id": "0ba2"})
        return json_response({method.replace(".", "_") + "_response": {"result": result}, "request_id": "0ba2"})

    @staticmethod
    def _json(form: dict[str, str], name: str) -> dict[str, Any]:
        value = json.loads(form[name])
        if not isinstance(value, dict):
            raise ValueError(f"{name} is not an object")
        return value

    @staticmethod
    def _page(items: list[Any], page: int, size: int) -> tuple[list[Any], int]:
        total_pages = max(1, -(-len(items) // size))
        return items[(page - 1) * size : page * size], total_pages

    def order_list(self, form: dict[str, str]) -> dict[str, Any] | FakeResponse:
        query = self._json(form, "param_aeop_order_query")
        size, page = int(query.get("page_size", 20)), int(query.get("current_page", 1))
        if size > 50:
            return _error("isv.param-error", "page_size must be at most 50")
        low = _pacific(query["modified_date_start"]) if query.get("modified_date_start") else None
        high = _pacific(query["modified_date_end"]) if query.get("modified_date_end") else None
        if (low or high) and not query.get("create_date_start"):
            return _error("isv.param-error", "create_date_start is required with a modified date")
        with self.lock:
            orders = sorted(self.orders.values(), key=lambda o: str(o.get("gmt_update") or ""), reverse=True)
        chosen = [
            o
            for o in orders
            if (low is None or _pacific(str(o["gmt_update"])) >= low)
            and (high is None or _pacific(str(o["gmt_update"])) <= high)
        ]
        items, total_pages = self._page(chosen, page, size)
        return {
            "success": True,
            "current_page": page,
            "page_size": size,
            "total_count": len(chosen),
            "total_page": total_pages,
            "target_list": {"aeop_order_item_dto": items},
        }

    def issue_list(self, form: dict[str, str]) -> dict[str, Any]:
        query = self._json(form, "query_dto")
        size, page = min(int(query.get("page_size", 20)), 50), int(query.get("current_page", 1))
        with self.lock:
            issues = sorted(self.issues.values(), key=lambda i: str(i.get("gmt_create") or ""), reverse=True)
        items, total_pages = self._page(issues, page, size)
        return {
            "current_page": page,
            "total_item": len(issues),
            "total_page": total_pages,
            "data_list": {"issue_api_issue_dto": items},
        }

    def _buyer_issue(self, issue_id: Any, buyer_login_id: Any) -> dict[str, Any] | None:
        issue = self.issues.get(str(issue_id))
        return issue if issue is not None and issue.get("buyer_login_id") == buyer_login_id else None

    @staticmethod
    def _pending(issue: dict[str, Any], solution_id: Any) -> dict[str, Any] | None:
        listed = (issue.get("buyer_solution_list") or {}).get("solution_api_dto") or []
        return next(
            (s for s in listed if str(s["id"]) == str(solution_id) and s["status"] == "wait_seller_accept"), None
        )

    def _answerable(self, issue: dict[str, Any]) -> FakeResponse | None:
        if issue["issue_status"] not in ("WAIT_SELLER_CONFIRM_REFUND", "SELLER_REFUSE_REFUND", "processing"):
            return _error("isv.issue-status-error", f"issue status {issue['issue_status']} cannot be solved")
        return None

    def issue_detail(self, form: dict[str, str]) -> dict[str, Any] | FakeResponse:
        """aliexpress.issue.detail.get: issue_id and buyer_login_id, both required."""
        with self.lock:
            issue = self._buyer_issue(form["issue_id"], form["buyer_login_id"])
            if issue is None:
                return _error("isv.issue-not-exist", "The issue does not exist")
            return {"result_object": json.loads(json.dumps(issue))}

    def solution_save(self, form: dict[str, str]) -> dict[str, Any] | FakeResponse:
        """aliexpress.issue.solution.save: one `param_dto` (SellerAddOrModifySolutionDto). Adding
        a solution refuses the buyer's pending one (buyer_solution_id, required); a return solution
        needs return_good_address_id. Any other parameter (the old param_solution_parameter) is refused."""
        extra = set(form) - {"method", "app_key", "timestamp", "sign_method", "access_token", "sign", "param_dto"}
        if extra:
            return _error("isv.param-error", f"unknown parameters {sorted(extra)}")
        dto = self._json(form, "param_dto")
        known = {
            "add_seller_solution",
            "add_solution_type",
            "buyer_login_id",
            "buyer_solution_id",
            "issue_id",
            "modify_seller_solution_id",
            "refund_amount",
            "refund_amount_currency",
            "return_good_address_id",
            "solution_context",
        }
        if set(dto) - known:
            return _error("isv.param-error", f"unknown param_dto fields {sorted(set(dto) - known)}")
        if dto["add_seller_solution"] is not True or dto["add_solution_type"] not in ("refund", "return_and_refund"):
            return _error("isv.param-error", "add_seller_solution / add_solution_type")
        if dto["add_solution_type"] == "return_and_refund" and not self._address(dto.get("return_good_address_id")):
            return _error("isv.param-error", "return_good_address_id must be one of the seller's return addresses")
        Decimal(str(dto["refund_amount"]))
        with self.lock:
            issue = self._buyer_issue(dto["issue_id"], dto["buyer_login_id"])
            if issue is None:
                return _error("isv.issue-not-exist", "The issue does not exist")
            if (refused := self._answerable(issue)) is not None:
                return refused
            buyer = self._pending(issue, dto["buyer_solution_id"])
            if buyer is None:
                return _error("isv.param-error", "buyer_solution_id is not the buyer's pending solution")
            buyer["status"] = "seller_refused"
            self.solutions.append(dto)
            issue["issue_status"] = "processing"
        return {"result_object": True}

    def solution_agree(self, form: dict[str, str]) -> dict[str, Any] | FakeResponse:
        """aliexpress.issue.solution.agree: issue_id, buyer_login_id, solution_id (the buyer's
        pending solution), return_address_id when that solution is a return."""
        extra = set(form) - {
            "method", "app_key", "timestamp", "sign_method", "access_token", "sign",
            "issue_id", "buyer_login_id", "solution_id", "return_address_id",
        }  # fmt: skip
        if extra:
            return _error("isv.param-error", f"unknown parameters {sorted(extra)}")
        with self.lock:
            issue = self._buyer_issue(form["issue_id"], form["buyer_login_id"])
            if issue is None:
                return _error("isv.issue-not-exist", "The issue does not exist")
            if (refused := self._answerable(issue)) is not None:
                return refused
            buyer = self._pending(issue, form["solution_id"])
            if buyer is None:
                return _error("isv.param-error", "solution_id is not the buyer's pending solution")
            if buyer["solution_type"] == "return_and_refund" and not self._address(form.get("return_address_id")):
                return _error("isv.param-error", "return_address_id must be one of the seller's return addresses")
            buyer["status"] = "reached"
            self.solutions.append({"agreed": dict(form)})
            issue["issue_status"] = "processing"
        return {"result_object": True}

    def order_fulfill(self, form: dict[str, str]) -> dict[str, Any] | FakeResponse:
        """aliexpress.solution.order.fulfill: plain parameters service_name, out_ref, send_type
        (all | part), logistics_no, optional tracking_website (required for OTHER) and description;
        the result is a BaseResult (result_success, error_code, error_message)."""
        service, order_id, send_type = form["service_name"], form["out_ref"], form["send_type"]
        if not form["logistics_no"]:
            return _fulfil_error("PARAM_ERROR", "logistics_no is required")
        if send_type not in ("all", "part"):
            return _fulfil_error("PARAM_ERROR", "send_type must be all or part")
        if service not in self.logistics_services:
            return _fulfil_error("LOGISTICS_SERVICE_NOT_SUPPORT", f"logistics service {service} is not supported")
        if service == "OTHER" and not form.get("tracking_website"):
            return _fulfil_error("PARAM_ERROR", "tracking_website is required when service_name is OTHER")
        with self.lock:
            order = self.orders.get(order_id)
            if order is None:
                return _fulfil_error("ORDER_NOT_EXIST", "The order does not exist")
            if order["order_status"] not in ("WAIT_SELLER_SEND_GOODS", "SELLER_PART_SEND_GOODS"):
                return _fulfil_error("ORDER_STATUS_ERROR", f"order status {order['order_status']} cannot be fulfilled")
            self.fulfilments.append(dict(form))
            order["order_status"] = "WAIT_BUYER_ACCEPT_GOODS" if send_type == "all" else "SELLER_PART_SEND_GOODS"
        return {"result_success": True}

    def _address(self, address_id: Any) -> bool:
        return str(address_id or "") in {str(a["address_id"]) for a in self.return_addresses}

    def list_logistics_services(self, form: dict[str, str]) -> dict[str, Any]:
        """No business parameters; answers result_list.aeop_logistics_service_result[], result_success."""
        return {"result_list": {"aeop_logistics_service_result": list(self.service_list)}, "result_success": True}

    def seller_addresses(self, form: dict[str, str]) -> dict[str, Any] | FakeResponse:
        """seller_address_query: a comma list of sender, pickup, refund (required); answers
        <type>_seller_address_list.<type>selleraddresslist[] for each type asked, result_success."""
        kinds = [k.strip() for k in form["seller_address_query"].split(",") if k.strip()]
        if not kinds or set(kinds) - {"sender", "pickup", "refund"}:
            return _error("isv.param-error", f"invalid seller_address_query: {form['seller_address_query']}")
        answer: dict[str, Any] = {"result_success": True}
        for kind in kinds:
            listed = self.return_addresses if kind == "refund" else []
            answer[f"{kind}_seller_address_list"] = {f"{kind}selleraddresslist": list(listed)}
        return answer

    def issue_image_upload(self, form: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> dict[str, Any]:
        """aliexpress.issue.image.upload: issue_id, buyer_login_id, extension (text, signed) and the
        file part image_bytes (not signed); answers {"result_object": bool}."""
        part = files.get("image_bytes")
        with self.lock:
            issue = self.issues.get(form["issue_id"])
            ok = (
                issue is not None
                and issue.get("buyer_login_id") == form["buyer_login_id"]
                and form["extension"] in ("jpg", "jpeg", "png", "gif")
                and part is not None
                and len(part[1]) > 0
            )
            if ok and part is not None:
                self.evidence.append({**form, "content": part[1], "content_type": part[2]})
        return {"result_object": ok}

    def relation_list(self, form: dict[str, str]) -> dict[str, Any]:
        query = self._json(form, "query")
        size, page = int(query.get("page_size", 20)), int(query.get("current_page", 1))
        with self.lock:
            relations = sorted(self.relations.values(), key=lambda r: int(r.get("message_time") or 0), reverse=True)
        items, total_pages = self._page(relations, page, size)
        return {"total_page": total_pages, "relation_list": {"relation_result": items}}

    def message_list(self, form: dict[str, str]) -> dict[str, Any]:
        size, page = int(form.get("page_size", "20")), int(form.get("current_page", "1"))
        with self.lock:
            messages = list(self.messages.get(str(form["channel_id"]), []))
        items, total_pages = self._page(messages, page, size)
        return {"total_page": total_pages, "message_detail_list": {"message_detail": items}}

    def send_message(self, form: dict[str, str]) -> dict[str, Any] | FakeResponse:
        create = self._json(form, "create_param")
        channel = str(create["channel_id"])
        with self.lock:
            relation = self.relations.get(channel)
            if relation is None or relation.get("other_login_id") != create.get("buyer_id"):
                return {"is_success": False, "error_msg": "channel not found for this buyer"}
            message_id = str(9_000_000_000 + next(self._ids))
            self.add_message(
                relation,
                {
                    "id": message_id,
                    "gmt_create": int(self.clock() * 1000),
                    "sender_login_id": self.seller_login_id,
                    "sender_name": "Seller",
                    "message_type": "text",
                    "content": create["content"],
                },
            )
        return {"is_success": True, "message_id": message_id}
