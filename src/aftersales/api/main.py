"""The REST API: django-ninja, mounted at /api/v1, OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs.

Authentication: the browser session (with CSRF for unsafe methods) or `Authorization: Bearer <token>`.
Errors: always `{"error": {"code", "message", "field"}}` (see errors.py)."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern
from ninja import NinjaAPI
from ninja.parser import Parser

from .auth import SessionAuth, TokenAuth, TokenThrottled, token_throttled_response
from .docs import OfflineSwagger
from .errors import MalformedBody, install_error_handlers, json_errors_view
from .querycheck import reject_unknown_query
from .rendering import IsoJSONRenderer
from .routers import (
    accounts,
    attachments,
    customers,
    exchanges,
    followups,
    inbound,
    inventory,
    language,
    language_config,
    marketplace_apps,
    messages,
    notification_steps,
    notifications,
    people,
    platform_tickets,
    refunds,
    returns,
    rma_lists,
    rmas,
    rules,
    rules_tools,
    security,
    settings_history,
    shipments,
    sla,
    stores,
    sync,
    ticket_actions,
    tickets,
    tracking,
    triage,
    views,
    warranty,
)


class JsonObjectParser(Parser):
    """Bodies are JSON objects; anything else is a 400 naming the body."""

    def parse_body(self, request: Any) -> dict[str, Any]:
        data = super().parse_body(request)
        if not isinstance(data, dict):
            raise MalformedBody("the request body must be a JSON object")
        return data


class AftersalesAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Any) -> str:
        # Short, stable ids (list_tickets, add_note) for generated clients; the tests keep them unique.
        return str(operation.view_func.__name__)

    def _get_urls(self) -> list[Any]:
        # Unknown paths and wrong methods answer in the API's error shape too.
        return [
            URLPattern(p.pattern, json_errors_view(p.callback), p.default_args, p.name)
            if isinstance(p, URLPattern)
            else p
            for p in super()._get_urls()
        ]


DESCRIPTION = """
The after-sales hub's REST API: tickets, replies, notes, assignments, saved views, notifications,
and the language engine (message translations, translated reply drafts, templates, glossary).

**Authentication**: your browser session (unsafe methods need the `X-CSRFToken` header), or a personal
API token (`POST /me/tokens`, from a signed-in session) sent as `Authorization: Bearer <token>`. A token
has scopes (`read` for GET, `write` for changes, `admin` for organization settings) and expires (90 days
by default, at most a year); it never exceeds its user's role. Too many wrong tokens from one address
answer 429 with `Retry-After`.

**Errors**: every 4xx has the body `{"error": {"code": "...", "message": "...", "field": "..." | null}}`.
Unknown query parameters and body fields are refused (422) rather than ignored.

**Languages**: a translation call answers 422 `unsupported_language_pair` (listing the supported
pairs) or 503 `translation_unavailable` when every provider of the pair is down (retry later).

**Money** is a decimal string with a currency, never a float. **Datetimes** are ISO 8601 with an offset.
"""

api = AftersalesAPI(
    title="aftersales API",
    version="1.0.0",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=[TokenAuth(), SessionAuth()],
    docs=OfflineSwagger(),
    parser=JsonObjectParser(),
    renderer=IsoJSONRenderer(),
)
install_error_handlers(api)
api.add_exception_handler(TokenThrottled, token_throttled_response)
api.add_decorator(reject_unknown_query, mode="operation")

for module in (
    tickets,
    ticket_actions,
    messages,
    attachments,
    language,
    views,
    notifications,
    customers,
    accounts,
    people,
    inbound,
    language_config,
    security,
    stores,
    tracking,
    triage,
    sync,
    returns,
    refunds,
    rma_lists,
    rmas,
    inventory,
    exchanges,
    warranty,
    sla,
    followups,
    rules_tools,
    rules,
    shipments,
    platform_tickets,
    notification_steps,
    marketplace_apps,
    settings_history,
):
    api.add_router("", module.router)
