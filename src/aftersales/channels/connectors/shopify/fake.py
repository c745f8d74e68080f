"""A local Shopify: the Admin GraphQL API on 127.0.0.1 (tests, the demo, the ingest benchmark).

Every request to POST /admin/api/<version>/graphql.json is parsed, validated against the published
Admin schema (schema.py) and executed with graphql-core against the fake's orders, returns, refunds
and fulfillment orders, so a field the real API does not have fails here as it would there. What the
fake enforces, as Shopify documents it:
- X-Shopify-Access-Token (401 otherwise), a known API version in the path (404 otherwise);
- query cost: `extensions.cost` on every answer (the requested cost computed from the document the
  way Shopify describes it: 1 per object, connections and `first:` lists multiply their selection,
  10 per mutation; the actual cost from what was returned, the difference refunded to the bucket)
  and a leaky bucket (default 1,000 points, 50/s) answering
  THROTTLED when a query costs more than is available; MAX_COST_EXCEEDED above the bucket size;
- cursor pagination (opaque cursors) and the `query:` search syntax the connector uses
  (`updated_at:>=`, `return_status:`, negation with `-`, `AND`);
- refundCreate: the `@idempotent(key:)` directive is required from API version 2026-04 (unknown before
  2026-01); the same key returns the same refund (never a second one); the same key with different
  input is refused (IDEMPOTENCY_KEY_PARAMETER_MISMATCH, the fake's name for it);
- returnApproveRequest / returnDeclineRequest only on REQUESTED returns; fulfillmentCreate only on
  open fulfillment orders with remaining quantities.
Faults come from FakePlatform (fail_next: 5xx, drop_next, throttle_next: HTTP 429) plus
`tamper(order_id, field=value)`, which rewrites a node of the answer after execution (an enum value of
a newer API version, a malformed amount: what the schema alone would not let through).

`send_webhook()` delivers a webhook the way Shopify does (X-Shopify-Topic, -Hmac-Sha256, -Event-Id,
-Triggered-At...) with a valid or an invalid HMAC."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    graphql_sync,
    parse,
    validate,
)
from graphql import GraphQLError as _GraphQLError
from graphql.language import DirectiveNode, DocumentNode, SelectionSetNode, VariableNode
from graphql.type import GraphQLInterfaceType, GraphQLNamedType, GraphQLUnionType, get_named_type
from graphql.utilities import value_from_ast_untyped

from aftersales.testing.fake_platform import FakePlatform, FakeRequest, FakeResponse, json_response

from .auth import SCOPES
from .schema import admin_schema

SUPPORTED_VERSIONS = ("2025-01", "2025-04", "2025-07", "2025-10", "2026-01", "2026-04")
IDEMPOTENT_FROM = "2026-01"  # the directive exists (optional) from this version
IDEMPOTENT_REQUIRED_FROM = "2026-04"


def _money(amount: Decimal | str, currency: str) -> dict[str, Any]:
    money = {"amount": str(Decimal(str(amount)).quantize(Decimal("0.01"))), "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": dict(money)}


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def _uncursor(cursor: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, json.JSONDecodeError):
        raise _GraphQLError(f"Invalid cursor for current pagination sort: {cursor!r}") from None


def _connection(items: list[Any], first: int | None, after: str | None, key: Callable[[Any], Any]) -> dict:
    if first is None:
        raise _GraphQLError("you must provide one of first or last")
    if first > 250:
        raise _GraphQLError("The value of first is too large: it must be 250 or less")
    start = 0
    if after:
        after_key = _uncursor(after)
        start = next((i for i, item in enumerate(items) if key(item) > after_key), len(items))
    page = items[start : start + first]
    has_next = start + first < len(items)
    return {
        "nodes": page,
        "edges": [{"node": item, "cursor": _cursor(key(item))} for item in page],
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": start > 0,
            "startCursor": _cursor(key(page[0])) if page else None,
            "endCursor": _cursor(key(page[-1])) if page else None,
        },
    }


def _index_key(items: list[Any]) -> Callable[[Any], Any]:
    positions = {id(item): i for i, item in enumerate(items)}
    return lambda item: positions[id(item)]


# --- query cost (as Shopify documents its calculation, simplified) ---------------------------------


def _first_arg(field: FieldNode, variables: Mapping[str, Any]) -> int | None:
    for argument in field.arguments or ():
        if argument.name.value in ("first", "last"):
            value = argument.value
            if isinstance(value, VariableNode):
                raw = variables.get(value.name.value)
            else:
                raw = value_from_ast_untyped(value, dict(variables))
            return int(raw) if isinstance(raw, int) else None
    return None


def query_cost(document: DocumentNode, variables: Mapping[str, Any], operation_name: str | None = None) -> int:
    schema = admin_schema()
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}

    def selection_cost(selection_set: SelectionSetNode | None, parent: GraphQLNamedType) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value.startswith("__") or not isinstance(
                    parent, GraphQLObjectType | GraphQLInterfaceType
                ):
                    continue
                field_def = parent.fields.get(selection.name.value)
                if field_def is None:
                    continue
                named = get_named_type(field_def.type)
                if not isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
                    continue  # scalars and enums are free
                inner = selection_cost(selection.selection_set, named)
                first = _first_arg(selection, variables)
                if named.name.endswith("Connection"):
                    total += 2 + (first or 1) * max(inner - 1, 1) if inner else 2
                elif first is not None and isinstance(
                    field_def.type.of_type if isinstance(field_def.type, GraphQLNonNull) else field_def.type,
                    GraphQLList,
                ):
                    total += (first or 1) * (1 + inner)
                else:
                    total += 1 + inner
            elif isinstance(selection, InlineFragmentNode):
                target = schema.get_type(selection.type_condition.name.value) if selection.type_condition else parent
                total += selection_cost(selection.selection_set, target or parent)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is not None:
                    target = schema.get_type(fragment.type_condition.name.value) or parent
                    total += selection_cost(fragment.selection_set, target)
        return total

    cost = 0
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if operation_name and definition.name and definition.name.value != operation_name:
            continue
        if definition.operation == OperationType.MUTATION:
            root = schema.mutation_type
            assert root is not None
            cost += 10 * len(definition.selection_set.selections)
            cost += selection_cost(definition.selection_set, root) - len(definition.selection_set.selections)
        else:
            root = schema.query_type
            assert root is not None
            cost += selection_cost(definition.selection_set, root)
    return max(cost, 1)


def actual_cost(document: DocumentNode, data: Any, operation_name: str | None = None) -> int:
    """The cost of what was returned: connections count their returned nodes (not `first`), null
    objects nothing; Shopify refunds the difference to the bucket."""
    schema = admin_schema()

    def cost_of(selection_set: SelectionSetNode | None, parent: GraphQLNamedType, value: Any) -> int:
        if selection_set is None or not isinstance(value, Mapping):
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, InlineFragmentNode):
                target = schema.get_type(selection.type_condition.name.value) if selection.type_condition else parent
                total += cost_of(selection.selection_set, target or parent, value)
                continue
            if not isinstance(selection, FieldNode) or not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
                continue
            field_def = parent.fields.get(selection.name.value)
            if field_def is None:
                continue
            named = get_named_type(field_def.type)
            if not isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
                continue
            child = value.get(selection.alias.value if selection.alias else selection.name.value)
            if child is None:
                continue
            if named.name.endswith("Connection"):
                total += 2 + cost_of(selection.selection_set, named, child) - 1
            elif isinstance(child, list):
                total += sum(1 + cost_of(selection.selection_set, named, item) for item in child)
            else:
                total += 1 + cost_of(selection.selection_set, named, child)
        return total

    cost = 0
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if operation_name and definition.name and definition.name.value != operation_name:
            continue
        if definition.operation == OperationType.MUTATION:
            assert schema.mutation_type is not None
            cost += 10 * len(definition.selection_set.selections)
            cost += cost_of(definition.selection_set, schema.mutation_type, data) - len(
                definition.selection_set.selections
            )
        else:
            assert schema.query_type is not None
            cost += cost_of(definition.selection_set, schema.query_type, data)
    return max(cost, 1)


def _directives(document: DocumentNode) -> Iterable[tuple[FieldNode, DirectiveNode]]:
    def walk(selection_set: SelectionSetNode | None) -> Iterable[tuple[FieldNode, DirectiveNode]]:
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                for directive in selection.directives or ():
                    yield selection, directive
                yield from walk(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                yield from walk(selection.selection_set)

    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            yield from walk(definition.selection_set)


# --- search syntax ---------------------------------------------------------------------------------

_TERM = re.compile(r"(?P<neg>-)?(?P<key>[a-z_]+):(?P<op>>=|<=|>|<)?(?P<value>'[^']*'|\"[^\"]*\"|\S+)")
ORDER_RETURN_STATUSES = {
    "in_progress",
    "inspection_complete",
    "no_return",
    "returned",
    "return_failed",
    "return_requested",
}


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    "=": lambda a, b: a == b,
}


def _term_matches(order: dict, key: str, op: str, value: Any) -> bool:
    if key in ("updated_at", "created_at"):
        return _COMPARE[op](_parse_iso(order["updatedAt" if key == "updated_at" else "createdAt"]), value)
    if key == "return_status":
        return _order_return_status(order).lower() == value
    return str(order["legacyResourceId"]) == value  # id


def _order_filter(query: str | None) -> Callable[[dict], bool]:
    terms: list[tuple[str, str, Any, bool]] = []
    for part in re.split(r"\s+AND\s+", query.strip()) if query and query.strip() else []:
        match = _TERM.fullmatch(part.strip())
        if not match:
            raise _GraphQLError(f"the fake does not understand the search term {part!r}")
        key, op, value = match["key"], match["op"] or "=", match["value"].strip("'\"")
        parsed: Any = value
        if key in ("updated_at", "created_at"):
            try:
                parsed = _parse_iso(value)
            except ValueError:
                raise _GraphQLError(f"invalid date in search term {part!r}") from None
        elif key == "return_status":
            parsed = value.lower()
            if parsed not in ORDER_RETURN_STATUSES:
                raise _GraphQLError(f"unknown return_status {value!r}")
        elif key != "id":
            raise _GraphQLError(f"the fake does not support the search field {key!r}")
        terms.append((key, op, parsed, bool(match["neg"])))
    return lambda order: all(_term_matches(order, key, op, value) != negate for key, op, value, negate in terms)


def _order_return_status(order: dict) -> str:
    statuses = {r["status"] for r in order["returns"]}
    if "REQUESTED" in statuses:
        return "RETURN_REQUESTED"
    if "OPEN" in statuses:
        return "IN_PROGRESS"
    if "CLOSED" in statuses:
        return "RETURNED"
    return "NO_RETURN"


class ShopifyFake(FakePlatform):
    name = "shopify"

    def __init__(
        self,
        *,
        access_token: str = "shpat_fake_token",  # noqa: S107 (a fake's test token)
        shop: str = "aftersales-demo.myshopify.com",
        client_secret: str = "fake-client-secret",  # noqa: S107 (a fake's test secret)
        client_id: str = "fake-client-id",
        refresh_token: str = "shprt_fake_1",  # noqa: S107 (a fake's test token)
        bucket_size: float = 1000.0,
        restore_rate: float = 50.0,
        monotonic: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.access_token = access_token
        self.shop = shop
        self.client_secret = client_secret
        self.client_id = client_id
        self.refresh_token = refresh_token
        self.token_expires_in = 3600
        self.refresh_token_expires_in = 90 * 86400
        self._token_serial = 1
        self.bucket_size = bucket_size
        self.restore_rate = restore_rate
        self._monotonic = monotonic
        self._available = bucket_size
        self._bucket_at = monotonic()
        self._now = now or (lambda: datetime.now(UTC))
        self._last_stamp: datetime | None = None
        self._ids = itertools.count(1001)
        self.orders: dict[str, dict] = {}  # legacy id -> order (GraphQL shape, lists unpaginated)
        self.idempotency: dict[str, tuple[str, dict]] = {}  # key -> (input fingerprint, refund payload)
        self.notifications: list[dict] = []  # customer notifications the write-backs asked for
        self.refund_outcome = "SUCCESS"  # status of the REFUND transactions refundCreate makes
        self.graphql_calls: list[dict] = []  # {"version", "query", "variables", "cost", "throttled"}
        # what currentAppInstallation.accessScopes answers (the merchant's grant; tests narrow it)
        self.granted_scopes: list[str] = [*SCOPES, "write_fulfillments"]
        self._tamper: dict[str, dict[str, Any]] = {}
        # id -> {"id", "legacyResourceId", "topic", "format", "callbackUrl", "createdAt", "updatedAt"}
        self.webhook_subscriptions: dict[str, dict] = {}
        self.client_credentials_grants = 0
        self.label_files: dict[str, tuple[bytes, str]] = {}  # path -> (bytes, content type)
        super().__init__()

    # -- seeding -------------------------------------------------------------------------------------
    def next_id(self) -> str:
        return str(next(self._ids))

    def stamp(self) -> str:
        """A strictly increasing timestamp (updatedAt)."""
        at = self._now().replace(microsecond=0)
        if self._last_stamp is not None and at <= self._last_stamp:
            at = self._last_stamp + timedelta(seconds=1)
        self._last_stamp = at
        return _iso(at)

    def add_order(
        self,
        *,
        lines: list[tuple[str, int, str]] = (("SKU-1", 1, "19.90"),),  # type: ignore[assignment]
        currency: str = "EUR",
        email: str = "buyer@example.com",
        customer_name: str = "Ada Buyer",
        country: str = "DE",
        locale: str = "de",
        financial: str = "PAID",
        created_at: datetime | None = None,
        street: str | None = None,
        postal_code: str = "10115",
    ) -> dict:
        """An order with a customer, one line per (sku, quantity, unit price), a successful SALE
        transaction of its total and one open fulfillment order with every line. Shipped to
        `street` (default: a street of its own, "Teststraße <order id>")."""
        with self.lock:
            legacy = self.next_id()
            customer_id = self.next_id()
            line_items = []
            total = Decimal("0")
            for sku, quantity, price in lines:
                line_id = self.next_id()
                line_items.append(
                    {
                        "id": f"gid://shopify/LineItem/{line_id}",
                        "sku": sku,
                        "name": f"Product {sku}",
                        "title": f"Product {sku}",
                        "quantity": quantity,
                        "originalUnitPriceSet": _money(price, currency),
                    }
                )
                total += Decimal(price) * quantity
            stamp = self.stamp()
            order = {
                "id": f"gid://shopify/Order/{legacy}",
                "legacyResourceId": legacy,
                "name": f"#{legacy}",
                "createdAt": _iso(created_at) if created_at else stamp,
                "updatedAt": stamp,
                "cancelledAt": None,
                "closed": False,
                "displayFinancialStatus": financial,
                "displayFulfillmentStatus": "UNFULFILLED",
                "currencyCode": currency,
                "email": email,
                "customerLocale": locale,
                "totalPriceSet": _money(total, currency),
                "customer": {
                    "id": f"gid://shopify/Customer/{customer_id}",
                    "legacyResourceId": customer_id,
                    "displayName": customer_name,
                    "firstName": customer_name.split(" ")[0],
                    "lastName": customer_name.split(" ")[-1],
                    "locale": locale,
                },
                "shippingAddress": {
                    "countryCodeV2": country,
                    "address1": street if street is not None else f"Teststraße {legacy}",
                    "address2": None,
                    "zip": postal_code,
                    "city": "Berlin",
                },
                "lineItems": line_items,
                "fulfillments": [],
                "returns": [],
                "refunds": [],
                "transactions": [
                    {
                        "id": f"gid://shopify/OrderTransaction/{self.next_id()}",
                        "kind": "SALE",
                        "status": "SUCCESS",
                        "gateway": "shopify_payments",
                        "errorCode": None,
                        "parentTransaction": None,
                        "amountSet": _money(total, currency),
                    }
                ],
                "fulfillmentOrders": [
                    {
                        "id": f"gid://shopify/FulfillmentOrder/{self.next_id()}",
                        "status": "OPEN",
                        "lineItems": [
                            {
                                "id": f"gid://shopify/FulfillmentOrderLineItem/{self.next_id()}",
                                "remainingQuantity": item["quantity"],
                                "lineItem": item,
                            }
                            for item in line_items
                        ],
                    }
                ],
            }
            self.orders[legacy] = order
            return order

    def add_fulfillment(self, order_id: str, *, company: str = "DHL", number: str = "00340434161234567890") -> dict:
        """Fulfil the whole order (as the seller would in the Shopify admin)."""
        with self.lock:
            order = self.orders[order_id]
            fulfillment_order = order["fulfillmentOrders"][0]
            return self._fulfil(
                order,
                [(fulfillment_order, [(li, li["remainingQuantity"]) for li in fulfillment_order["lineItems"]])],
                {"company": company, "number": number},
            )

    def add_return(
        self,
        order_id: str,
        *,
        quantities: Mapping[str, int] | None = None,  # sku -> quantity; default: one of the first line
        reason: str = "DEFECTIVE",
        note: str = "It stopped working after two days",
        status: str = "REQUESTED",
    ) -> dict:
        with self.lock:
            order = self.orders[order_id]
            wanted = quantities or {order["lineItems"][0]["sku"]: 1}
            legacy = self.next_id()
            lines: list[dict[str, Any]] = []
            for item in order["lineItems"]:
                if item["sku"] in wanted:
                    lines.append(
                        {
                            "__typename": "ReturnLineItem",
                            "id": f"gid://shopify/ReturnLineItem/{self.next_id()}",
                            "quantity": wanted[item["sku"]],
                            "refundableQuantity": wanted[item["sku"]],
                            "refundedQuantity": 0,
                            "returnReason": reason,
                            "returnReasonNote": "",
                            "customerNote": note,
                            "fulfillmentLineItem": {
                                "id": f"gid://shopify/FulfillmentLineItem/{self.next_id()}",
                                "lineItem": item,
                                "quantity": wanted[item["sku"]],
                            },
                        }
                    )
            ret = {
                "id": f"gid://shopify/Return/{legacy}",
                "legacyResourceId": legacy,
                "name": f"{order['name']}-R{len(order['returns']) + 1}",
                "status": status,
                "totalQuantity": sum(line["quantity"] for line in lines),
                "decline": None,
                "returnLineItems": lines,
                "reverseFulfillmentOrders": [],
                "order": order,
            }
            if status == "OPEN":
                self._open_reverse_fulfillment(ret)
            order["returns"].append(ret)
            order["updatedAt"] = self.stamp()
            return ret

    def _open_reverse_fulfillment(self, ret: dict) -> dict:
        """The reverse fulfillment order Shopify opens when a return is approved (no delivery yet)."""
        if not ret["reverseFulfillmentOrders"]:
            ret["reverseFulfillmentOrders"].append(
                {"id": f"gid://shopify/ReverseFulfillmentOrder/{self.next_id()}", "status": "OPEN", "deliveries": []}
            )
        return ret["reverseFulfillmentOrders"][0]

    def issue_return_label(
        self,
        return_id: str,
        content: bytes,
        *,
        carrier: str = "DHL Express",
        tracking_number: str = "JJD0099887766",
        content_type: str = "application/pdf",
    ) -> str:
        """A reverse delivery with a shipping label on the return's reverse fulfillment order (what
        reverseDeliveryCreateWithShipping makes): ReverseDeliveryShippingDeliverable { label {
        publicFileUrl } tracking { number carrierName url } }. The file is served by the fake at the
        label's publicFileUrl (Shopify's CDN in production). The order's updatedAt moves (so the
        returns sync sees it: unverified for real Shopify, see docs/connectors/shopify.md).
        Returns the file's path on the fake."""
        with self.lock:
            order, ret = self.find_return(return_id)
            reverse_order = self._open_reverse_fulfillment(ret)
            token = uuid.uuid4().hex
            path = f"/cdn/reverse-delivery-labels/{token}.pdf"
            self.label_files[path] = (content, content_type)
            stamp = self.stamp()
            reverse_order["deliveries"].append(
                {
                    "id": f"gid://shopify/ReverseDelivery/{self.next_id()}",
                    "label_path": path,
                    "label_at": stamp,
                    "tracking": {
                        "number": tracking_number,
                        "carrierName": carrier,
                        "url": f"https://tracking.example/{tracking_number}",
                    },
                }
            )
            order["updatedAt"] = stamp
            return path

    def touch(self, order_id: str) -> None:
        with self.lock:
            self.orders[order_id]["updatedAt"] = self.stamp()

    def tamper(self, order_id: str, **fields: Any) -> None:
        """Rewrite fields of this order's node in every answer after execution (values the schema
        would not let through: an enum value of a newer API version, a malformed amount)."""
        with self.lock:
            self._tamper.setdefault(f"gid://shopify/Order/{order_id}", {}).update(fields)

    def find_return(self, return_id: str) -> tuple[dict, dict]:
        for order in self.orders.values():
            for ret in order["returns"]:
                if ret["legacyResourceId"] == return_id or ret["id"] == return_id:
                    return order, ret
        raise KeyError(return_id)

    # -- views for graphql-core (connection arguments resolved by callables) -------------------------
    def _order_view(self, order: dict) -> dict:
        view = {
            k: v
            for k, v in order.items()
            if k not in ("lineItems", "fulfillments", "returns", "refunds", "transactions", "fulfillmentOrders")
        }
        line_items = order["lineItems"]
        view["returnStatus"] = _order_return_status(order)
        view["lineItems"] = lambda _info, first=None, after=None, **_: _connection(
            line_items, first, after, _index_key(line_items)
        )
        view["fulfillments"] = lambda _info, first=None, **_: [
            self._fulfillment_view(f) for f in order["fulfillments"][: first or None]
        ]
        view["returns"] = lambda _info, first=None, after=None, **_: _connection(
            [self._return_view(r, order) for r in order["returns"]],
            first,
            after,
            lambda r: r["id"],
        )
        view["refunds"] = lambda _info, first=None, **_: [
            self._refund_view(r) for r in order["refunds"][: first or None]
        ]
        view["transactions"] = lambda _info, first=None, **_: order["transactions"][: first or None]
        view["fulfillmentOrders"] = lambda _info, first=None, after=None, **_: _connection(
            [self._fulfillment_order_view(fo) for fo in order["fulfillmentOrders"]],
            first,
            after,
            lambda fo: fo["id"],
        )
        return view

    @staticmethod
    def _fulfillment_view(fulfillment: dict) -> dict:
        view = dict(fulfillment)
        tracking = fulfillment["trackingInfo"]
        view["trackingInfo"] = lambda _info, first=None, **_: tracking[: first or None]
        return view

    def _return_view(self, ret: dict, order: dict) -> dict:
        view = {k: v for k, v in ret.items() if k not in ("order", "returnLineItems", "reverseFulfillmentOrders")}
        lines = ret["returnLineItems"]
        view["order"] = lambda _info, **_: self._order_view(order)
        view["returnLineItems"] = lambda _info, first=None, after=None, **_: _connection(
            lines, first, after, _index_key(lines)
        )
        reverse_orders = ret.get("reverseFulfillmentOrders", [])
        view["reverseFulfillmentOrders"] = lambda _info, first=None, after=None, **_: _connection(
            [self._reverse_fulfillment_order_view(r) for r in reverse_orders], first, after, lambda r: r["id"]
        )
        return view

    def _reverse_fulfillment_order_view(self, reverse_order: dict) -> dict:
        deliveries = [self._reverse_delivery_view(d) for d in reverse_order["deliveries"]]
        return {
            "id": reverse_order["id"],
            "status": reverse_order["status"],
            "reverseDeliveries": lambda _info, first=None, after=None, **_: _connection(
                deliveries, first, after, lambda d: d["id"]
            ),
        }

    def _reverse_delivery_view(self, delivery: dict) -> dict:
        return {
            "id": delivery["id"],
            "deliverable": {
                "__typename": "ReverseDeliveryShippingDeliverable",
                "label": {
                    "createdAt": delivery["label_at"],
                    "updatedAt": delivery["label_at"],
                    "publicFileUrl": f"{self.url}{delivery['label_path']}",
                },
                "tracking": delivery["tracking"],
            },
        }

    @staticmethod
    def _refund_view(refund: dict) -> dict:
        view = {k: v for k, v in refund.items() if k != "transactions"}
        transactions = refund["transactions"]
        view["transactions"] = lambda _info, first=None, after=None, **_: _connection(
            transactions, first, after, _index_key(transactions)
        )
        return view

    @staticmethod
    def _fulfillment_order_view(fulfillment_order: dict) -> dict:
        view = {k: v for k, v in fulfillment_order.items() if k != "lineItems"}
        lines = fulfillment_order["lineItems"]
        view["lineItems"] = lambda _info, first=None, after=None, **_: _connection(
            lines, first, after, _index_key(lines)
        )
        return view

    def _root(self, version: str, idempotency_key: str | None) -> dict[str, Any]:
        fake = self

        def orders(
            _info: Any,
            first: int | None = None,
            after: str | None = None,
            query: str | None = None,
            sortKey: str | None = None,
            reverse: bool = False,
            **_: Any,
        ) -> dict:
            matches = _order_filter(query)
            items = [o for o in fake.orders.values() if matches(o)]
            if sortKey in (None, "ID"):
                items.sort(key=lambda o: int(o["legacyResourceId"]))
                key: Callable[[Any], Any] = lambda o: int(o["legacyResourceId"])  # noqa: E731
            elif sortKey == "UPDATED_AT":
                items.sort(key=lambda o: (o["updatedAt"], int(o["legacyResourceId"])))
                key = lambda o: [o["updatedAt"], int(o["legacyResourceId"])]  # noqa: E731
            else:
                raise _GraphQLError(f"the fake does not sort by {sortKey}")
            if reverse:
                raise _GraphQLError("the fake does not reverse")
            connection = _connection(items, first, after, key)
            connection["nodes"] = [fake._order_view(o) for o in connection["nodes"]]
            for edge in connection["edges"]:
                edge["node"] = fake._order_view(edge["node"])
            return connection

        def webhook_subscriptions(
            _info: Any,
            first: int | None = None,
            after: str | None = None,
            callbackUrl: str | None = None,
            topics: list[str] | None = None,
            **_: Any,
        ) -> dict:
            items = [
                w
                for w in fake.webhook_subscriptions.values()
                if (callbackUrl is None or w["callbackUrl"] == callbackUrl) and (not topics or w["topic"] in topics)
            ]
            items.sort(key=lambda w: int(w["legacyResourceId"]))
            connection = _connection(items, first, after, lambda w: int(w["legacyResourceId"]))
            for key in ("nodes",):
                connection[key] = [fake._webhook_view(w) for w in connection[key]]
            for edge in connection["edges"]:
                edge["node"] = fake._webhook_view(edge["node"])
            return connection

        def order(_info: Any, id: str) -> dict | None:
            found = fake.orders.get(id.rsplit("/", 1)[-1])
            return fake._order_view(found) if found and found["id"] == id else None

        def return_(_info: Any, id: str) -> dict | None:
            try:
                parent, ret = fake.find_return(id)
            except KeyError:
                return None
            return fake._return_view(ret, parent)

        return {
            "shop": {
                "name": "Aftersales demo shop",
                "myshopifyDomain": fake.shop,
                "currencyCode": "EUR",
                "email": "owner@example.com",
                "contactEmail": "owner@example.com",
            },
            "currentAppInstallation": lambda _info: {
                "accessScopes": [{"handle": h, "description": ""} for h in fake.granted_scopes]
            },
            "orders": orders,
            "order": order,
            "return": return_,
            "returnApproveRequest": lambda _info, input: fake._return_decide(input, approve=True),
            "returnDeclineRequest": lambda _info, input: fake._return_decide(input, approve=False),
            "refundCreate": lambda _info, input: fake._refund_create(input, idempotency_key),
            "fulfillmentCreate": lambda _info, fulfillment, message=None: fake._fulfillment_create(fulfillment),
            "webhookSubscriptions": webhook_subscriptions,
            "webhookSubscriptionCreate": lambda _info, topic, webhookSubscription: fake._webhook_subscribe(
                topic, webhookSubscription
            ),
            "webhookSubscriptionDelete": lambda _info, id: fake._webhook_unsubscribe(id),
        }

    # -- webhook subscriptions -------------------------------------------------------------------------
    @staticmethod
    def _webhook_view(subscription: dict) -> dict:
        return {
            **subscription,
            "endpoint": {"__typename": "WebhookHttpEndpoint", "callbackUrl": subscription["callbackUrl"]},
        }

    def _webhook_subscribe(self, topic: str, data: Mapping[str, Any]) -> dict:
        url = str(data.get("callbackUrl") or "")
        parts = httpx.URL(url) if url else None
        loopback = parts is not None and parts.host in ("127.0.0.1", "localhost", "::1")
        if parts is None or not (parts.scheme == "https" or (parts.scheme == "http" and loopback)):
            # Shopify takes only HTTPS addresses; the fake also lets loopback HTTP through (tests, demo).
            return {
                "webhookSubscription": None,
                "userErrors": [{"field": ["webhookSubscription", "callbackUrl"], "message": "Address is invalid"}],
            }
        if any(w["topic"] == topic and w["callbackUrl"] == url for w in self.webhook_subscriptions.values()):
            return {
                "webhookSubscription": None,
                "userErrors": [
                    {
                        "field": ["webhookSubscription", "callbackUrl"],
                        "message": "Address for this topic has already been taken",
                    }
                ],
            }
        legacy = self.next_id()
        stamp = self.stamp()
        subscription_id = f"gid://shopify/WebhookSubscription/{legacy}"
        subscription: dict[str, Any] = {
            "id": subscription_id,
            "legacyResourceId": legacy,
            "topic": topic,
            "format": data.get("format") or "JSON",
            "callbackUrl": url,
            "apiVersion": {"handle": "2026-04", "displayName": "2026-04", "supported": True},
            "createdAt": stamp,
            "updatedAt": stamp,
        }
        self.webhook_subscriptions[subscription_id] = subscription
        return {"webhookSubscription": self._webhook_view(subscription), "userErrors": []}

    def _webhook_unsubscribe(self, subscription_id: str) -> dict:
        if self.webhook_subscriptions.pop(subscription_id, None) is None:
            return {
                "deletedWebhookSubscriptionId": None,
                "userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}],
            }
        return {"deletedWebhookSubscriptionId": subscription_id, "userErrors": []}

    def push(self, topic: str, payload: Mapping[str, Any], **kwargs: Any) -> list[httpx.Response]:
        """Deliver `payload` for the REST-style `topic` ("orders/updated") to every subscription of
        that topic, as Shopify does once a store has subscribed."""
        enum = topic.replace("/", "_").upper()
        return [
            self.send_webhook(w["callbackUrl"], topic, payload, **kwargs)
            for w in list(self.webhook_subscriptions.values())
            if w["topic"] == enum
        ]

    # -- mutations -----------------------------------------------------------------------------------
    def _return_decide(self, data: Mapping[str, Any], *, approve: bool) -> dict:
        try:
            order, ret = self.find_return(str(data["id"]))
        except KeyError:
            return {
                "return": None,
                "userErrors": [{"code": "NOT_FOUND", "field": ["id"], "message": "Return not found"}],
            }
        if ret["status"] != "REQUESTED":
            verb = "approved" if approve else "declined"
            return {
                "return": None,
                "userErrors": [
                    {
                        "code": "INVALID_STATE",
                        "field": ["id"],
                        "message": f"Return is not {verb}. Only returns with status REQUESTED can be {verb}.",
                    }
                ],
            }
        if approve:
            ret["status"] = "OPEN"
            self._open_reverse_fulfillment(ret)
        else:
            ret["status"] = "DECLINED"
            ret["decline"] = {"reason": data["declineReason"], "note": data.get("declineNote")}
        order["updatedAt"] = self.stamp()
        if data.get("notifyCustomer"):
            self.notifications.append({"to": order["email"], "return": ret["id"], "status": ret["status"]})
        return {"return": self._return_view(ret, order), "userErrors": []}

    def _refund_create(self, data: Mapping[str, Any], key: str | None) -> dict:
        fingerprint = json.dumps(data, sort_keys=True, default=str)
        if key is not None and key in self.idempotency:
            seen, payload = self.idempotency[key]
            if seen != fingerprint:
                raise _GraphQLError(
                    "The idempotency key was already used with different parameters",
                    extensions={"code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"},
                )
            return payload
        order = self.orders.get(str(data["orderId"]).rsplit("/", 1)[-1])
        if order is None or order["id"] != data["orderId"]:
            return {
                "refund": None,
                "order": None,
                "userErrors": [{"field": ["orderId"], "message": "Order does not exist"}],
            }
        errors = []
        amount = Decimal("0")
        for index, txn in enumerate(data.get("transactions") or []):
            parent = next((t for t in order["transactions"] if t["id"] == txn.get("parentId")), None)
            if parent is None or parent["kind"] not in ("SALE", "CAPTURE") or parent["status"] != "SUCCESS":
                errors.append(
                    {"field": ["transactions", str(index), "parentId"], "message": "Parent transaction not found"}
                )
                continue
            if txn.get("kind") != "REFUND":
                errors.append({"field": ["transactions", str(index), "kind"], "message": "Kind must be REFUND"})
            if txn.get("gateway") != parent["gateway"]:
                errors.append({"field": ["transactions", str(index), "gateway"], "message": "Gateway does not match"})
            amount += Decimal(str(txn["amount"]))
        refunded = sum(
            (
                Decimal(t["amountSet"]["shopMoney"]["amount"])
                for t in order["transactions"]
                if t["kind"] == "REFUND" and t["status"] in ("SUCCESS", "PENDING")
            ),
            Decimal("0"),
        )
        total = Decimal(order["totalPriceSet"]["shopMoney"]["amount"])
        if amount + refunded > total:
            errors.append(
                {"field": ["transactions"], "message": f"Refund amount exceeds refundable {total - refunded}"}
            )
        line_ids = {li["id"]: li for li in order["lineItems"]}
        refund_lines = []
        for index, line in enumerate(data.get("refundLineItems") or []):
            item = line_ids.get(line["lineItemId"])
            if item is None:
                errors.append(
                    {"field": ["refundLineItems", str(index), "lineItemId"], "message": "Line item not found"}
                )
            elif line["quantity"] > item["quantity"]:
                errors.append({"field": ["refundLineItems", str(index), "quantity"], "message": "Quantity too large"})
            else:
                refund_lines.append({"lineItem": item, "quantity": line["quantity"]})
        if errors:
            payload = {"refund": None, "order": None, "userErrors": errors}
        else:
            currency = order["currencyCode"]
            transactions = [
                {
                    "id": f"gid://shopify/OrderTransaction/{self.next_id()}",
                    "kind": "REFUND",
                    "status": self.refund_outcome,
                    "gateway": txn["gateway"],
                    "errorCode": "GENERIC_ERROR" if self.refund_outcome == "FAILURE" else None,
                    "parentTransaction": {"id": txn["parentId"]},
                    "amountSet": _money(txn["amount"], currency),
                }
                for txn in data.get("transactions") or []
            ]
            refund_id = self.next_id()
            refund = {
                "id": f"gid://shopify/Refund/{refund_id}",
                "legacyResourceId": refund_id,
                "createdAt": self.stamp(),
                "note": data.get("note"),
                "totalRefundedSet": _money(amount, currency),
                "transactions": transactions,
                "refundLineItems": refund_lines,
            }
            order["refunds"].append(refund)
            order["transactions"].extend(transactions)
            order["displayFinancialStatus"] = "REFUNDED" if amount + refunded >= total else "PARTIALLY_REFUNDED"
            order["updatedAt"] = refund["createdAt"]
            if data.get("notify"):
                self.notifications.append({"to": order["email"], "refund": refund["id"]})
            payload = {"refund": self._refund_view(refund), "order": self._order_view(order), "userErrors": []}
        if key is not None:
            self.idempotency[key] = (fingerprint, payload)
        return payload

    def _fulfillment_create(self, data: Mapping[str, Any]) -> dict:
        by_id = {fo["id"]: (order, fo) for order in self.orders.values() for fo in order["fulfillmentOrders"]}
        plan = []
        order = None
        errors = []
        for index, group in enumerate(data["lineItemsByFulfillmentOrder"]):
            found = by_id.get(group["fulfillmentOrderId"])
            field = ["fulfillment", "lineItemsByFulfillmentOrder", str(index)]
            if found is None:
                errors.append({"field": [*field, "fulfillmentOrderId"], "message": "Fulfillment order does not exist."})
                continue
            fo_order, fulfillment_order = found
            if order is not None and fo_order is not order:
                errors.append({"field": field, "message": "Fulfillment orders must belong to the same order."})
                continue
            order = fo_order
            if fulfillment_order["status"] not in ("OPEN", "IN_PROGRESS"):
                errors.append({"field": field, "message": "Fulfillment order is not in an open state."})
                continue
            lines_by_id = {li["id"]: li for li in fulfillment_order["lineItems"]}
            wanted = group.get("fulfillmentOrderLineItems")
            picks = []
            if wanted is None:
                picks = [
                    (li, li["remainingQuantity"]) for li in fulfillment_order["lineItems"] if li["remainingQuantity"]
                ]
            else:
                for line in wanted:
                    item = lines_by_id.get(line["id"])
                    if item is None or line["quantity"] > item["remainingQuantity"] or line["quantity"] < 1:
                        errors.append(
                            {"field": field, "message": "Invalid fulfillment order line item quantity requested."}
                        )
                    else:
                        picks.append((item, line["quantity"]))
            plan.append((fulfillment_order, picks))
        if errors or order is None:
            return {
                "fulfillment": None,
                "userErrors": errors or [{"field": ["fulfillment"], "message": "Nothing to fulfil"}],
            }
        tracking = data.get("trackingInfo") or {}
        fulfillment = self._fulfil(order, plan, {"company": tracking.get("company"), "number": tracking.get("number")})
        if data.get("notifyCustomer"):
            self.notifications.append({"to": order["email"], "fulfillment": fulfillment["id"]})
        return {"fulfillment": self._fulfillment_view(fulfillment), "userErrors": []}

    def _fulfil(self, order: dict, plan: list[tuple[dict, list[tuple[dict, int]]]], tracking: dict) -> dict:
        for fulfillment_order, picks in plan:
            for item, quantity in picks:
                item["remainingQuantity"] -= quantity
            if all(li["remainingQuantity"] == 0 for li in fulfillment_order["lineItems"]):
                fulfillment_order["status"] = "CLOSED"
        stamp = self.stamp()
        fulfillment = {
            "id": f"gid://shopify/Fulfillment/{self.next_id()}",
            "status": "SUCCESS",
            "displayStatus": "FULFILLED",
            "createdAt": stamp,
            "inTransitAt": None,
            "deliveredAt": None,
            "trackingInfo": [tracking] if tracking.get("number") else [],
        }
        order["fulfillments"].append(fulfillment)
        remaining = sum(li["remainingQuantity"] for fo in order["fulfillmentOrders"] for li in fo["lineItems"])
        order["displayFulfillmentStatus"] = "FULFILLED" if remaining == 0 else "PARTIALLY_FULFILLED"
        order["updatedAt"] = stamp
        return fulfillment

    # -- HTTP ----------------------------------------------------------------------------------------
    def setup_routes(self) -> None:
        self.route("POST", r"/admin/api/(?P<version>[0-9]{4}-[0-9]{2})/graphql\.json", self._graphql)
        self.route("POST", r"/admin/oauth/access_token", self._oauth_token)
        self.route("GET", r"/cdn/reverse-delivery-labels/[0-9a-f]{32}\.pdf", self._label_file)

    def _label_file(self, request: FakeRequest) -> FakeResponse:
        """A reverse delivery label's file at its publicFileUrl (no access token: a public URL)."""
        with self.lock:
            found = self.label_files.get(request.path)
        if found is None:
            return FakeResponse(status=404, body=b"Not Found")
        content, content_type = found
        return FakeResponse(body=content, headers={"Content-Type": content_type})

    def _oauth_token(self, request: FakeRequest) -> FakeResponse:
        """Refresh of an expiring offline token (grant_type=refresh_token): a new access token and
        a new refresh token; the old ones stop working. Client credentials (grant_type=
        client_credentials, an app of the store's own organization from the Dev Dashboard): a new
        access token expiring after `token_expires_in` seconds, no refresh token; the old one stops
        working."""
        try:
            body = request.json()
        except (ValueError, UnicodeDecodeError):
            return json_response({"error": "invalid_request"}, 400)
        grant = body.get("grant_type") if isinstance(body, dict) else None
        if grant not in ("refresh_token", "client_credentials"):
            return json_response({"error": "unsupported_grant_type"}, 400)
        if body.get("client_id") != self.client_id or body.get("client_secret") != self.client_secret:
            return json_response({"error": "invalid_client", "error_description": "Client authentication failed"}, 401)
        if grant == "client_credentials":
            with self.lock:
                self._token_serial += 1
                self.access_token = f"shpat_fake_cc_{self._token_serial}"
                self.client_credentials_grants += 1
                return json_response(
                    {
                        "access_token": self.access_token,
                        "scope": ",".join(SCOPES),
                        "expires_in": self.token_expires_in,
                    }
                )
        with self.lock:
            if body.get("refresh_token") != self.refresh_token:
                return json_response({"error": "invalid_grant"}, 400)
            self._token_serial += 1
            self.access_token = f"shpat_fake_token_{self._token_serial}"
            self.refresh_token = f"shprt_fake_{self._token_serial}"
            return json_response(
                {
                    "access_token": self.access_token,
                    "expires_in": self.token_expires_in,
                    "refresh_token": self.refresh_token,
                    "refresh_token_expires_in": self.refresh_token_expires_in,
                    "scope": ",".join(SCOPES),
                }
            )

    def _refill(self) -> float:
        now = self._monotonic()
        self._available = min(self.bucket_size, self._available + (now - self._bucket_at) * self.restore_rate)
        self._bucket_at = now
        return self._available

    def _cost_extension(self, requested: int, actual: int | None) -> dict:
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": {
                    "maximumAvailable": self.bucket_size,
                    "currentlyAvailable": round(self._available, 3),
                    "restoreRate": self.restore_rate,
                },
            }
        }

    def _graphql(self, request: FakeRequest) -> FakeResponse:
        version = request.params["version"]
        if request.headers.get("x-shopify-access-token") != self.access_token:
            return json_response(
                {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}, 401
            )
        if version not in SUPPORTED_VERSIONS:
            return json_response({"errors": "Not Found"}, 404)
        try:
            body = request.json()
        except (ValueError, UnicodeDecodeError):
            return json_response({"errors": {"query": "Required parameter missing or invalid"}}, 400)
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return json_response({"errors": {"query": "Required parameter missing or invalid"}}, 400)
        query, variables = body["query"], body.get("variables") or {}
        operation_name = body.get("operationName")
        try:
            document = parse(query)
        except _GraphQLError as exc:
            return json_response({"errors": [exc.formatted]})
        errors = validate(admin_schema(), document)
        idempotency_key: str | None = None
        refund_fields = 0
        for _field, directive in _directives(document):
            if directive.name.value == "idempotent":
                if version < IDEMPOTENT_FROM:
                    errors.append(_GraphQLError(f"Unknown directive '@idempotent' in API version {version}."))
                    continue
                argument = next((a for a in directive.arguments or () if a.name.value == "key"), None)
                if argument is not None:
                    raw = value_from_ast_untyped(argument.value, variables)
                    idempotency_key = str(raw) if raw is not None else None
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                refund_fields += sum(
                    1
                    for s in definition.selection_set.selections
                    if isinstance(s, FieldNode) and s.name.value == "refundCreate"
                )
        if refund_fields and idempotency_key is None and version >= IDEMPOTENT_REQUIRED_FROM:
            errors.append(
                _GraphQLError(
                    "The @idempotent directive is required for this mutation.",
                    extensions={"code": "BAD_REQUEST"},
                )
            )
        if errors:
            return json_response({"errors": [e.formatted for e in errors]})
        with self.lock:
            requested = query_cost(document, variables, operation_name)
            self._refill()
            record = {"version": version, "query": query, "variables": variables, "cost": requested, "throttled": False}
            self.graphql_calls.append(record)
            if requested > self.bucket_size:
                return json_response(
                    {
                        "errors": [
                            {
                                "message": f"Query cost is {requested}, which exceeds the single query max cost limit "
                                f"({int(self.bucket_size)}).",
                                "extensions": {
                                    "code": "MAX_COST_EXCEEDED",
                                    "cost": requested,
                                    "maxCost": int(self.bucket_size),
                                },
                            }
                        ],
                        "extensions": self._cost_extension(requested, None),
                    }
                )
            if requested > self._available:
                record["throttled"] = True
                return json_response(
                    {
                        "errors": [
                            {
                                "message": "Throttled",
                                "extensions": {
                                    "code": "THROTTLED",
                                    "documentation": "https://shopify.dev/api/usage/rate-limits",
                                },
                            }
                        ],
                        "extensions": self._cost_extension(requested, None),
                    }
                )
            self._available -= requested
            result = graphql_sync(
                admin_schema(),
                query,
                root_value=self._root(version, idempotency_key),
                variable_values=variables,
                operation_name=operation_name,
            )
            payload: dict[str, Any] = {}
            if result.errors:
                payload["errors"] = [e.formatted for e in result.errors]
            payload["data"] = self._apply_tamper(result.data) if result.data is not None else None
            actual = min(requested, actual_cost(document, result.data, operation_name))
            self._available = min(self.bucket_size, self._available + requested - actual)
            record["actual"] = actual
            payload["extensions"] = self._cost_extension(requested, actual)
            return json_response(payload)

    def _apply_tamper(self, data: Any) -> Any:
        if not self._tamper:
            return data
        if isinstance(data, dict):
            out = {k: self._apply_tamper(v) for k, v in data.items()}
            node_id = out.get("id")
            fields = self._tamper.get(node_id) if isinstance(node_id, str) else None
            if fields:
                out.update({k: v for k, v in fields.items() if k in out})
            return out
        if isinstance(data, list):
            return [self._apply_tamper(v) for v in data]
        return data

    # -- webhooks ------------------------------------------------------------------------------------
    def sign(self, body: bytes, secret: str | None = None) -> str:
        digest = hmac.new((secret or self.client_secret).encode(), body, hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    def send_webhook(
        self,
        url: str,
        topic: str,
        payload: Mapping[str, Any],
        *,
        event_id: str | None = None,
        valid: bool = True,
        secret: str | None = None,
        api_version: str = "2026-04",
        triggered_at: datetime | None = None,
        timeout: float = 60.0,
    ) -> httpx.Response:
        """POST a webhook to `url` as Shopify delivers it (valid=False: a wrong HMAC)."""
        body = json.dumps(payload).encode()
        signature = self.sign(body, secret) if valid else self.sign(body, "not-the-secret")
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": signature,
            "X-Shopify-Shop-Domain": self.shop,
            "X-Shopify-API-Version": api_version,
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
            "X-Shopify-Triggered-At": _iso(triggered_at or self._now()),
        }
        with httpx.Client(timeout=timeout) as http:  # a first ticket may load language models
            return http.post(url, content=body, headers=headers)

    def order_webhook_body(self, order_id: str) -> dict:
        """The REST order resource (orders/* webhook body) of a fake order."""
        order = self.orders[order_id]
        customer = order["customer"]
        fulfilment_status = {"UNFULFILLED": None, "FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial"}
        return {
            "id": int(order["legacyResourceId"]),
            "admin_graphql_api_id": order["id"],
            "name": order["name"],
            "email": order["email"],
            "created_at": order["createdAt"],
            "updated_at": order["updatedAt"],
            "cancelled_at": order["cancelledAt"],
            "currency": order["currencyCode"],
            "total_price": order["totalPriceSet"]["shopMoney"]["amount"],
            "financial_status": (order["displayFinancialStatus"] or "").lower() or None,
            "fulfillment_status": fulfilment_status.get(order["displayFulfillmentStatus"]),
            "customer_locale": order["customerLocale"],
            "customer": {
                "id": int(customer["legacyResourceId"]),
                "email": order["email"],
                "first_name": customer["firstName"],
                "last_name": customer["lastName"],
            },
            "shipping_address": {
                "country_code": order["shippingAddress"]["countryCodeV2"],
                "address1": order["shippingAddress"]["address1"],
                "address2": order["shippingAddress"]["address2"],
                "zip": order["shippingAddress"]["zip"],
                "city": order["shippingAddress"]["city"],
            },
            "line_items": [
                {
                    "id": int(li["id"].rsplit("/", 1)[-1]),
                    "admin_graphql_api_id": li["id"],
                    "sku": li["sku"],
                    "name": li["name"],
                    "title": li["title"],
                    "quantity": li["quantity"],
                    "price": li["originalUnitPriceSet"]["shopMoney"]["amount"],
                }
                for li in order["lineItems"]
            ],
            "fulfillments": [
                {
                    "id": int(f["id"].rsplit("/", 1)[-1]),
                    "status": f["status"].lower(),
                    "created_at": f["createdAt"],
                    "shipment_status": None,
                    "tracking_company": f["trackingInfo"][0]["company"] if f["trackingInfo"] else None,
                    "tracking_number": f["trackingInfo"][0]["number"] if f["trackingInfo"] else None,
                    "tracking_numbers": [t["number"] for t in f["trackingInfo"]],
                }
                for f in order["fulfillments"]
            ],
        }

    def return_webhook_body(self, return_id: str) -> dict:
        """A returns/* webhook body of a fake return."""
        order, ret = self.find_return(return_id)
        return {
            "id": int(ret["legacyResourceId"]),
            "admin_graphql_api_id": ret["id"],
            "name": ret["name"],
            "status": ret["status"].lower(),
            "order": {"id": int(order["legacyResourceId"]), "admin_graphql_api_id": order["id"]},
            "total_return_line_items": len(ret["returnLineItems"]),
            "return_line_items": [
                {
                    "id": int(line["id"].rsplit("/", 1)[-1]),
                    "admin_graphql_api_id": line["id"],
                    "quantity": line["quantity"],
                    "return_reason": line["returnReason"].lower(),
                    "return_reason_note": line["returnReasonNote"],
                    "customer_note": line["customerNote"],
                    "fulfillment_line_item": {
                        "id": int(line["fulfillmentLineItem"]["id"].rsplit("/", 1)[-1]),
                        "line_item": {
                            "id": int(line["fulfillmentLineItem"]["lineItem"]["id"].rsplit("/", 1)[-1]),
                            "sku": line["fulfillmentLineItem"]["lineItem"]["sku"],
                        },
                    },
                }
                for line in ret["returnLineItems"]
            ],
            "decline": (
                {"reason": ret["decline"]["reason"].lower(), "note": ret["decline"]["note"]} if ret["decline"] else None
            ),
        }
