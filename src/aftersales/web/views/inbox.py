"""The inbox: filtered, sorted, cursor-paginated ticket list; saved views; bulk actions.

Filters arrive as a plain GET query string (the page works without JavaScript); htmx asks for the
list fragment only and the server tells it the clean URL to push. Every value is validated by
inbox.selectors.parse_ticket_filters, the same validator as the API's."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.cache import cache
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_htmx.http import push_url

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import has_perm
from aftersales.accounts.selectors import teams_of_organization, users_of_organization
from aftersales.catalog.selectors import stores_of_organization
from aftersales.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from aftersales.inbox.filters import MAX_YEAR, MIN_YEAR
from aftersales.inbox.models import SavedView, TicketStatus
from aftersales.inbox.selectors import (
    DEFAULT_PAGE_SIZE,
    FILTERS,
    VIEW_COUNT_CAP,
    TicketFilters,
    TicketPage,
    default_view,
    flatten_params,
    inbox_query,
    saved_view_expand,
    saved_views,
    ticket_page,
    tickets_visible,
    view_counts,
)
from aftersales.inbox.services import BulkResult, saved_view_create, saved_view_delete, tickets_bulk_apply
from aftersales.sla.selectors import RowClocks, inbox_row_clocks

from ..access import AgentRequest, web_view
from ..forms import SavedViewForm, first_error
from .filter_form import DateRange, FormFilter, form_filters, picked

DEFAULT_SORT = "-updated_at"
SORT_LABELS = {
    "-updated_at": gettext_lazy("Recently updated"),
    "updated_at": gettext_lazy("Least recently updated"),
    "-created_at": gettext_lazy("Newest first"),
    "created_at": gettext_lazy("Oldest first"),
    "-last_customer_message_at": gettext_lazy("Latest customer message"),
}
FORM_FIELDS = (*(spec.name for spec in FILTERS), "sort", "view")


@dataclass
class InboxState:
    raw: dict[str, str]
    filters: TicketFilters = field(default_factory=TicketFilters)
    sort: str = DEFAULT_SORT
    limit: int = DEFAULT_PAGE_SIZE
    page: TicketPage | None = None
    errors: dict[str, str] = field(default_factory=dict)
    status: int = 200
    clocks: dict[int, RowClocks] = field(default_factory=dict)  # SLA clocks of the page's rows

    @property
    def canonical(self) -> dict[str, str]:
        """The list's query string (links, pushed URLs). Without filters it keeps the sort: an empty
        query string means the default view."""
        params = self.filters.as_query()
        if self.sort != DEFAULT_SORT or not params:
            params["sort"] = self.sort
        if self.limit != DEFAULT_PAGE_SIZE:
            params["limit"] = str(self.limit)
        return params

    @property
    def query_string(self) -> str:
        return urlencode(self.canonical)


def inbox_state(request: AgentRequest, data: Mapping[str, Any]) -> InboxState:
    """Read the inbox's query string through the same selector as the API's ticket list
    (inbox.selectors.inbox_query); a refused value is shown next to its filter. A saved view whose
    filters no longer validate shows the error too (and can be deleted), never a 500."""
    user = request.user
    state = InboxState(raw=flatten_params(data))
    try:
        state.raw = saved_view_expand(user, data)
        query = inbox_query(user, data, date_timezone=timezone.get_current_timezone())
        state.page = ticket_page(user, query.filters, limit=query.limit, sort=query.sort, cursor=query.cursor)
        state.clocks = inbox_row_clocks([t.pk for t in state.page.tickets])
        state.filters, state.sort, state.limit = query.filters, query.sort, query.limit
    except (ValidationFailed, NotFound) as exc:
        name = exc.field if exc.field in FORM_FIELDS else "general"
        state.errors[name] = _("Invalid filter: %(detail)s") % {"detail": exc.message}
        state.status = 404 if isinstance(exc, NotFound) else 400  # the API: 404 and 422
    return state


def _form_filters(request: AgentRequest, raw: Mapping[str, str]) -> list[FormFilter | DateRange]:
    """The inbox's filter form (web.views.filter_form): the organization's stores, teams, colleagues
    and the languages of its tickets."""
    from ..templatetags.web_ui import language_name

    user = request.user
    languages = set(
        tickets_visible(user).exclude(language="").order_by().values_list("language", flat=True).distinct()[:60]
    )
    dynamic: dict[str, list[tuple[Any, str]]] = {
        "teams": [(t.pk, t.name) for t in teams_of_organization(user)],
        "users": [(u.pk, str(u)) for u in users_of_organization(user, can_process=True)],
        "languages": [(c, language_name(c)) for c in sorted(languages | picked(raw).get("language", set()))],
    }
    stores = stores_of_organization(user).defer("credentials")  # not decrypted for a filter's names
    return form_filters(FILTERS, raw, stores=stores, dynamic=dynamic)


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
    (gettext_lazy("Mine and unassigned"), {"assignee": "me,none", "status_category": "open"}),
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


COUNTS_CACHE_SECONDS = 30


def _count_label(count: int | None) -> str:
    if count is None:
        return "!"
    return f"{VIEW_COUNT_CAP - 1}+" if count >= VIEW_COUNT_CAP else str(count)


def _quick_view_params(request: AgentRequest) -> list[tuple[Any, dict[str, str]]]:
    """The built-in views (a viewer, who takes no tickets, has no "mine" views)."""
    can_take = has_perm(request.user, Permission.PROCESS)
    return [(label, params) for label, params in QUICK_VIEWS if can_take or "me" not in params.get("assignee", "")]


def _quick_views(request: AgentRequest, state: InboxState) -> list[QuickView]:
    current = None if state.errors else state.filters.as_query()
    return [
        QuickView(str(label), urlencode(params or {"sort": DEFAULT_SORT}), params == current)
        for label, params in _quick_view_params(request)
    ]


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
        "errors": state.errors,
        "error_fields": (*FORM_FIELDS, "general"),
        "page": state.page,
        "clocks": state.clocks,
        "canonical": canonical,
        "next_query": _next_query(state),
        "is_first_page": not raw.get("cursor"),
        "form_filters": _form_filters(request, raw),
        "sorts": list(SORT_LABELS.items()),
        "date_min": f"{MIN_YEAR}-01-01",
        "date_max": f"{MAX_YEAR}-12-31",
        "assignees": users_of_organization(user, can_process=True),
        "statuses": TicketStatus.choices,
        "saved_views": views,
        "quick_views": _quick_views(request, state),
        "active_view": active_view,
        "can_process": has_perm(user, Permission.PROCESS),
        **extra,
    }


def _render(request: AgentRequest, state: InboxState, *, status: int | None = None, **extra: Any) -> HttpResponse:
    status = status or state.status
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
    """The inbox; opened without a query string, the user's default view (inbox.selectors.default_view:
    an agent's open tickets plus the unassigned ones of their teams). Every other list, "All
    tickets" included, has a query string."""
    return _render(request, inbox_state(request, request.GET or default_view(request.user)))


@web_view()
def inbox_counts(request: AgentRequest) -> HttpResponse:
    """The number of tickets in each built-in and saved view, loaded by htmx after the page so
    that counting never delays the list (counted up to 99, "99+" above: inbox.selectors.view_counts;
    kept 30 seconds per user). Each count is swapped into its view's link out of band."""
    user = request.user
    quick = [params for _label, params in _quick_view_params(request)]
    views = list(saved_views(user).values_list("pk", "filters"))
    digest = hashlib.sha256(json.dumps([quick, views], sort_keys=True).encode()).hexdigest()[:16]
    key = f"inbox-counts:{user.pk}:{digest}"
    counts = cache.get(key)
    if counts is None:
        counts = view_counts(user, [*quick, *(filters for _pk, filters in views)])
        cache.set(key, counts, COUNTS_CACHE_SECONDS)
    labels = [_count_label(c) for c in counts]
    context = {
        "quick_counts": [(f"vc-quick-{i}", label) for i, label in enumerate(labels[: len(quick)])],
        "view_counts": [(f"vc-view-{pk}", label) for (pk, _f), label in zip(views, labels[len(quick) :], strict=True)],
    }
    return render(request, "web/inbox/_counts.html", context)


def parse_ticket_ids(values: list[str]) -> list[int]:
    ids = []
    for value in values:
        if not value.isdigit() or not 0 < int(value) <= 2**62:
            raise ValidationFailed(_("invalid ticket id %(value)r") % {"value": value}, field="ticket_ids")
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
            raise ValidationFailed(_("choose a colleague to assign to"), field="value")
        return int(raw)
    if action == "tag":
        return request.POST.get("tag", "")
    return request.POST.get("status", "")


@web_view(methods=("POST",))
def inbox_bulk(request: AgentRequest) -> HttpResponse:
    """Apply one action to the selected tickets; each ticket succeeds or fails on its own."""
    if not has_perm(request.user, Permission.PROCESS):
        raise PermissionDenied(_("your role cannot change tickets"))
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
    data = flatten_params(QueryDict(form.cleaned_data["query"]))
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
