"""The inbox: filtered, sorted, cursor-paginated ticket list; saved views; bulk actions.

Filters arrive as a plain GET query string (the page works without JavaScript); htmx asks for the
list fragment only and the server tells it the clean URL to push. Every value is validated by
inbox.selectors.parse_ticket_filters, the same validator as the API's."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_htmx.http import push_url

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import has_perm
from aftersales.accounts.selectors import teams_of_organization, users_of_organization
from aftersales.catalog.models import CustomerTier, Platform
from aftersales.catalog.selectors import stores_of_organization
from aftersales.core.errors import DomainError, PermissionDenied, ValidationFailed
from aftersales.inbox.models import SavedView, StatusCategory, TicketCategory, TicketStatus, Urgency
from aftersales.inbox.selectors import (
    DEFAULT_PAGE_SIZE,
    TicketFilters,
    TicketPage,
    parse_page_params,
    parse_ticket_filters,
    saved_views,
    ticket_page,
    tickets_visible,
)
from aftersales.inbox.services import BulkResult, saved_view_create, saved_view_delete, tickets_bulk_apply

from ..access import AgentRequest, web_view
from ..forms import SavedViewForm, first_error

DATE_FILTERS = ("created_after", "created_before", "updated_after", "updated_before")
TEXT_FILTERS = ("q", "sku", "tag")
SELECT_FILTERS = ("assignee", "team", "unreplied", "high_priority", "customer")
MULTI_FILTERS = ("platform", "store", "status", "status_category", "urgency", "category", "customer_tier", "language")
FORM_FIELDS = (*TEXT_FILTERS, *MULTI_FILTERS, *SELECT_FILTERS, *DATE_FILTERS, "sort")
DEFAULT_SORT = "-updated_at"
SORT_LABELS = {
    "-updated_at": gettext_lazy("Recently updated"),
    "updated_at": gettext_lazy("Least recently updated"),
    "-created_at": gettext_lazy("Newest first"),
    "created_at": gettext_lazy("Oldest first"),
    "-last_customer_message_at": gettext_lazy("Latest customer message"),
}
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    selected: bool


@dataclass(frozen=True)
class MultiFilter:
    name: str
    label: str
    options: tuple[Option, ...]

    @property
    def summary(self) -> str:
        return ", ".join(o.label for o in self.options if o.selected)


@dataclass
class InboxState:
    raw: dict[str, str]
    filters: TicketFilters = field(default_factory=TicketFilters)
    sort: str = DEFAULT_SORT
    limit: int = DEFAULT_PAGE_SIZE
    page: TicketPage | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def canonical(self) -> dict[str, str]:
        params = self.filters.as_query()
        if self.sort != DEFAULT_SORT:
            params["sort"] = self.sort
        if self.limit != DEFAULT_PAGE_SIZE:
            params["limit"] = str(self.limit)
        return params

    @property
    def query_string(self) -> str:
        return urlencode(self.canonical)


def _raw_params(data: Mapping[str, Any]) -> dict[str, str]:
    """Repeated parameters (platform=amazon&platform=ebay, as a form sends them) and comma lists
    (platform=amazon,ebay, as links and the API use) both become one comma list; blanks are dropped."""
    out: dict[str, str] = {}
    getlist = getattr(data, "getlist", None)
    for key in data:
        values = getlist(key) if getlist else [data[key]]
        joined = ",".join(str(v).strip() for v in values if str(v).strip())
        if joined:
            out[key] = joined
    return out


def _normalise_dates(raw: dict[str, str]) -> dict[str, str]:
    """A bare date from a date input means midnight in the organization's time zone, not in UTC."""
    out = dict(raw)
    for name in DATE_FILTERS:
        value = out.get(name)
        if not value:
            continue
        try:
            if _DATE_ONLY.fullmatch(value):
                local = datetime.combine(date.fromisoformat(value), time.min, tzinfo=timezone.get_current_timezone())
                out[name] = local.isoformat()
            else:
                parse_datetime(value)
        except ValueError:
            raise ValidationFailed(f"{name} is not a valid date", field=name) from None
    return out


def _date_input_value(value: str) -> str:
    """What a date input shows for a filter value (an ISO date-time becomes the local date)."""
    if not value or _DATE_ONLY.fullmatch(value):
        return value
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return ""
    if parsed is None or parsed.tzinfo is None:
        return ""
    return timezone.localtime(parsed).date().isoformat()


def inbox_state(request: AgentRequest, data: Mapping[str, Any]) -> InboxState:
    user = request.user
    raw = _raw_params(data)
    view_id = raw.get("view", "")
    if view_id and set(raw) <= {"view", "limit"}:
        chosen = saved_views(user).filter(pk=int(view_id)).first() if view_id.isdigit() else None
        if chosen is not None:
            raw = {**chosen.filters, "sort": chosen.sort, **raw}
    state = InboxState(raw=raw)
    try:
        filters = parse_ticket_filters(_normalise_dates(raw))
        state.limit, state.sort = parse_page_params(raw.get("limit"), raw.get("sort"))
        state.page = ticket_page(user, filters, limit=state.limit, sort=state.sort, cursor=raw.get("cursor") or None)
        state.filters = filters
    except ValidationFailed as exc:
        name = exc.field if exc.field in FORM_FIELDS else "general"
        state.errors[name] = _("Invalid filter: %(detail)s") % {"detail": exc.message}
    return state


def _choice_options(choices: Any, selected: set[str]) -> tuple[Option, ...]:
    return tuple(Option(str(value), str(label), str(value) in selected) for value, label in choices)


def _multi_filters(request: AgentRequest, raw: Mapping[str, str]) -> list[MultiFilter]:
    from ..templatetags.web_ui import language_name

    user = request.user

    def picked(name: str) -> set[str]:
        return {v for v in raw.get(name, "").split(",") if v}

    stores = list(stores_of_organization(user))
    platforms = {s.platform for s in stores} | picked("platform")
    languages = set(
        tickets_visible(user).exclude(language="").order_by().values_list("language", flat=True).distinct()[:60]
    )
    languages |= picked("language")
    return [
        MultiFilter(
            "platform",
            _("Platform"),
            _choice_options([c for c in Platform.choices if c[0] in platforms], picked("platform")),
        ),
        MultiFilter(
            "store",
            _("Store"),
            _choice_options([(s.pk, s.name) for s in stores], picked("store")),
        ),
        MultiFilter("status", _("Status"), _choice_options(TicketStatus.choices, picked("status"))),
        MultiFilter(
            "status_category", _("Status group"), _choice_options(StatusCategory.choices, picked("status_category"))
        ),
        MultiFilter("urgency", _("Urgency"), _choice_options(Urgency.choices, picked("urgency"))),
        MultiFilter("category", _("Category"), _choice_options(TicketCategory.choices, picked("category"))),
        MultiFilter(
            "customer_tier", _("Customer tier"), _choice_options(CustomerTier.choices, picked("customer_tier"))
        ),
        MultiFilter(
            "language",
            _("Language"),
            _choice_options([(c, language_name(c)) for c in sorted(languages)], picked("language")),
        ),
    ]


@dataclass(frozen=True)
class BulkSummary:
    succeeded: int
    failures: tuple[tuple[int, str], ...]

    @classmethod
    def of(cls, result: BulkResult) -> BulkSummary:
        return cls(succeeded=len(result.succeeded), failures=tuple(sorted(result.failed.items())))

    @property
    def headline(self) -> str:
        text = ngettext("%(count)d updated", "%(count)d updated", self.succeeded) % {"count": self.succeeded}
        if self.failures:
            failed = ngettext("%(count)d failed", "%(count)d failed", len(self.failures)) % {
                "count": len(self.failures)
            }
            text = _("%(updated)s, %(failed)s") % {"updated": text, "failed": failed}
        return text

    @property
    def text(self) -> str:
        """'12 updated, 2 failed: #5 a ticket cannot go from closed to solved; #9 ticket not found'"""
        if not self.failures:
            return self.headline
        details = "; ".join(f"#{pk} {reason}" for pk, reason in self.failures)
        return f"{self.headline}: {details}"


QUICK_VIEWS: tuple[tuple[Any, dict[str, str]], ...] = (
    (gettext_lazy("Open"), {"status_category": "open"}),
    (gettext_lazy("Mine"), {"assignee": "me", "status_category": "open"}),
    (gettext_lazy("Unassigned"), {"assignee": "none", "status_category": "open"}),
    (gettext_lazy("Unreplied"), {"status_category": "open", "unreplied": "true"}),
    (gettext_lazy("High priority"), {"high_priority": "true", "status_category": "open"}),
    (gettext_lazy("Waiting"), {"status_category": "waiting"}),
    (gettext_lazy("Resolved"), {"status_category": "resolved"}),
    (gettext_lazy("All tickets"), {}),
)


@dataclass(frozen=True)
class QuickView:
    label: str
    query: str
    active: bool


def _quick_views(state: InboxState) -> list[QuickView]:
    current = None if state.errors else state.filters.as_query()
    return [QuickView(str(label), urlencode(params), params == current) for label, params in QUICK_VIEWS]


def _next_query(state: InboxState) -> dict[str, str] | None:
    if state.page is None or not state.page.next_cursor:
        return None
    return {**state.canonical, "cursor": state.page.next_cursor}


def _context(request: AgentRequest, state: InboxState, **extra: Any) -> dict[str, Any]:
    user = request.user
    views = list(saved_views(user))
    canonical = state.canonical
    active_view = next(
        (v.pk for v in views if not state.errors and v.filters == state.filters.as_query() and v.sort == state.sort),
        None,
    )
    raw = state.raw
    return {
        "state": state,
        "raw": raw,
        "dates": {name: _date_input_value(raw.get(name, "")) for name in DATE_FILTERS},
        "errors": state.errors,
        "error_fields": (*FORM_FIELDS, "general"),
        "page": state.page,
        "canonical": canonical,
        "next_query": _next_query(state),
        "is_first_page": not raw.get("cursor"),
        "multi_filters": _multi_filters(request, raw),
        "sorts": list(SORT_LABELS.items()),
        "teams": list(teams_of_organization(user)),
        "assignees": users_of_organization(user, can_process=True),
        "statuses": TicketStatus.choices,
        "saved_views": views,
        "quick_views": _quick_views(state),
        "active_view": active_view,
        "can_process": has_perm(user, Permission.PROCESS),
        **extra,
    }


def _render(request: AgentRequest, state: InboxState, *, status: int | None = None, **extra: Any) -> HttpResponse:
    status = status or (400 if state.errors else 200)
    context = _context(request, state, **extra)
    if request.htmx and request.htmx.target == "inbox-list":
        response = render(request, "web/inbox/_results.html", context, status=status)
        patch_vary_headers(response, ("HX-Request", "HX-Target"))
        if request.method == "GET" and not state.errors:
            pushed = {**state.canonical, **({"cursor": state.raw["cursor"]} if state.raw.get("cursor") else {})}
            push_url(response, reverse("web:inbox") + ("?" + urlencode(pushed) if pushed else ""))
        return response
    response = render(request, "web/inbox/page.html", context, status=status)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


@web_view()
def inbox(request: AgentRequest) -> HttpResponse:
    return _render(request, inbox_state(request, request.GET))


def parse_ticket_ids(values: list[str]) -> list[int]:
    ids = []
    for value in values:
        if not value.isdigit() or not 0 < int(value) <= 2**62:
            raise ValidationFailed(f"invalid ticket id {value!r}", field="ticket_ids")
        ids.append(int(value))
    return ids


def _bulk_value(request: AgentRequest, action: str) -> Any:
    if action == "assign":
        raw = request.POST.get("assignee", "").strip()
        if raw in ("", "none"):
            return None
        if raw == "me":
            return request.user.pk
        if not raw.isdigit():
            raise ValidationFailed("choose a colleague to assign to", field="value")
        return int(raw)
    if action == "tag":
        return request.POST.get("tag", "")
    return request.POST.get("status", "")


@web_view(methods=("POST",))
def inbox_bulk(request: AgentRequest) -> HttpResponse:
    """Apply one action to the selected tickets; each ticket succeeds or fails on its own."""
    if not has_perm(request.user, Permission.PROCESS):
        raise PermissionDenied("your role cannot change tickets")
    return_query = request.POST.get("return_query", "")[:4000]
    action = request.POST.get("action", "")
    try:
        result = tickets_bulk_apply(
            actor=request.user,
            ticket_ids=parse_ticket_ids(request.POST.getlist("ticket_ids")),
            action=action,
            value=_bulk_value(request, action),
        )
    except PermissionDenied:
        raise
    except DomainError as exc:
        state = inbox_state(request, QueryDict(return_query))
        return _render(request, state, status=exc.status_code, bulk_error=exc.message)
    summary = BulkSummary.of(result)
    if request.htmx:
        state = inbox_state(request, QueryDict(return_query))
        return _render(request, state, bulk_summary=summary)
    level = messages.WARNING if summary.failures else messages.SUCCESS
    messages.add_message(request, level, summary.text)
    return redirect(reverse("web:inbox") + ("?" + return_query if return_query else ""))


@web_view(methods=("POST",))
def saved_view_create_view(request: AgentRequest) -> HttpResponse:
    form = SavedViewForm(request.POST)
    query = request.POST.get("query", "")
    if not form.is_valid():
        name, message = first_error(form)
        state = inbox_state(request, QueryDict(query[:4000]))
        return _render(request, state, status=422, view_error=message)
    data = _raw_params(QueryDict(form.cleaned_data["query"]))
    sort = data.pop("sort", DEFAULT_SORT)
    for name in ("cursor", "limit", "view"):
        data.pop(name, None)
    try:
        view = saved_view_create(user=request.user, name=form.cleaned_data["name"], filters=data, sort=sort)
    except DomainError as exc:
        state = inbox_state(request, QueryDict(form.cleaned_data["query"]))
        return _render(request, state, status=exc.status_code, view_error=exc.message)
    messages.success(request, _("Saved view “%(name)s”.") % {"name": view.name})
    return redirect(reverse("web:inbox") + f"?view={view.pk}")


@web_view(methods=("POST",))
def saved_view_delete_view(request: AgentRequest, view_id: int) -> HttpResponse:
    view: SavedView | None = saved_views(request.user).filter(pk=view_id).first()
    saved_view_delete(user=request.user, view_id=view_id)  # NotFound (-> 404) if not the user's
    if view is not None:
        messages.success(request, _("Deleted view “%(name)s”.") % {"name": view.name})
    return redirect("web:inbox")
