"""Returns: the RMA list (filters declared once in returns/filters.py, status tabs, bulk decisions
with a progress bar), the RMA page and its actions, the refund review queue, the exceptions list,
and the "Create return" / "Refund" forms opened from a ticket's order panel.

Every view parses its input, calls one service or selector, renders. A DomainError from a service is
shown next to its field with the service's 4xx status; "not found" and "forbidden" become the 404/403
pages (web.access). Forms work without JavaScript; htmx swaps the list and polls a bulk job."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_htmx.http import push_url

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm, has_perm
from aftersales.accounts.selectors import users_of_organization
from aftersales.catalog.selectors import stores_of_organization
from aftersales.core.downloads import stored_file_response
from aftersales.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from aftersales.inbox.filters import MAX_YEAR, MIN_YEAR, flatten_params
from aftersales.inbox.selectors import ticket_detail
from aftersales.returns.bulk import rma_bulk_start
from aftersales.returns.filters import RMA_FILTERS, RmaFilters
from aftersales.returns.models import EvidenceKind, RefundKind, RmaBulkAction, RmaOutcome, RmaResolution
from aftersales.returns.refunds import refund_approve, refund_reject, refund_request
from aftersales.returns.rma import (
    rma_approve,
    rma_create,
    rma_open_for_return_request,
    rma_reject,
    rma_request_evidence,
)
from aftersales.returns.rma_actions import (
    Upload,
    rma_accept_partial,
    rma_add_evidence,
    rma_cancel,
    rma_decline_partial,
    rma_inspect,
    rma_issue_label,
    rma_offer_partial,
    rma_receive,
    rma_resolve,
)
from aftersales.returns.rma_labels import rma_label_fetch
from aftersales.returns.rma_selectors import rma_actions_for, rma_evidence_file, rma_qc_form
from aftersales.returns.selectors import (
    RMA_DEFAULT_PAGE_SIZE,
    RMA_DEFAULT_SORT,
    RmaPage,
    StatusTab,
    refund_review_queue,
    rma_bulk_job_progress,
    rma_detail,
    rma_exceptions,
    rma_get,
    rma_list_query,
    rma_page,
    rma_status_counts,
)
from aftersales.returns.slip import rma_slip_pdf

from ..access import AgentRequest, web_view
from .filter_form import DateRange, FormFilter, form_filters

SORT_LABELS = {"-created_at": gettext_lazy("Newest first"), "created_at": gettext_lazy("Oldest first")}
FORM_FIELDS = (*(spec.name for spec in RMA_FILTERS), "sort")  # limit, cursor: shown as "general"
REASON_SUGGESTIONS = (
    "defective",
    "damaged_in_transit",
    "not_as_described",
    "wrong_item",
    "wrong_size",
    "stopped_working",
    "changed_mind",
)


# --- the list --------------------------------------------------------------------------------------


@dataclass
class ListState:
    raw: dict[str, str]
    filters: RmaFilters = field(default_factory=RmaFilters)
    sort: str = RMA_DEFAULT_SORT
    limit: int = RMA_DEFAULT_PAGE_SIZE
    page: RmaPage | None = None
    tabs: list[StatusTab] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    http_status: int = 200

    @property
    def canonical(self) -> dict[str, str]:
        params = self.filters.as_query()
        if self.sort != RMA_DEFAULT_SORT:
            params["sort"] = self.sort
        if self.limit != RMA_DEFAULT_PAGE_SIZE:
            params["limit"] = str(self.limit)
        return params

    @property
    def query_string(self) -> str:
        return urlencode(self.canonical)


def list_state(request: AgentRequest, data: Mapping[str, Any]) -> ListState:
    """Read the list's query string through the API's selector (returns.selectors.rma_list_query);
    a refused value is shown next to its filter."""
    user = request.user
    state = ListState(raw=flatten_params(data))
    try:
        query = rma_list_query(user, data, date_timezone=timezone.get_current_timezone())
        state.page = rma_page(user, query.filters, limit=query.limit, sort=query.sort, cursor=query.cursor)
        state.filters, state.sort, state.limit = query.filters, query.sort, query.limit
        state.tabs = rma_status_counts(user, query.filters)
    except (ValidationFailed, NotFound) as exc:
        name = exc.field if exc.field in FORM_FIELDS else "general"
        state.errors[name] = _("Invalid filter: %(detail)s") % {"detail": exc.message}
        state.http_status = 404 if isinstance(exc, NotFound) else 400
    return state


def _form_filters(request: AgentRequest, raw: Mapping[str, str]) -> list[FormFilter | DateRange]:
    """The RMA list's filter form (web.views.filter_form): the organization's stores and colleagues."""
    user = request.user
    dynamic = {"users": [(u.pk, str(u)) for u in users_of_organization(user, can_process=True)]}
    stores = stores_of_organization(user).defer("credentials")
    return form_filters(RMA_FILTERS, raw, stores=stores, dynamic=dynamic)


def _tab_links(state: ListState) -> list[dict[str, Any]]:
    base = {k: v for k, v in state.canonical.items() if k != "status"}
    current = ",".join(state.filters.status)
    return [
        {
            "label": tab.label,
            "count": tab.count,
            "query": urlencode({**base, "status": tab.status} if tab.status else base),
            "active": tab.status == current,
        }
        for tab in state.tabs
        if tab.count or tab.status == "" or tab.status == current
    ]


def _list_context(request: AgentRequest, state: ListState, **extra: Any) -> dict[str, Any]:
    user = request.user
    next_query = (
        {**state.canonical, "cursor": state.page.next_cursor} if state.page and state.page.next_cursor else None
    )
    return {
        "state": state,
        "errors": state.errors,
        "error_fields": (*FORM_FIELDS, "general"),
        "page": state.page,
        "tabs": _tab_links(state),
        "canonical": state.canonical,
        "next_query": next_query,
        "is_first_page": not state.raw.get("cursor"),
        "form_filters": _form_filters(request, state.raw),
        "sorts": list(SORT_LABELS.items()),
        "date_min": f"{MIN_YEAR}-01-01",
        "date_max": f"{MAX_YEAR}-12-31",
        "can_approve": has_perm(user, Permission.APPROVE),
        "can_process": has_perm(user, Permission.PROCESS),
        "resolutions": RmaResolution.choices,
        "evidence_kinds": [(k, label) for k, label in EvidenceKind.choices if k != EvidenceKind.QC_PHOTO],
        **extra,
    }


def _render_list(request: AgentRequest, state: ListState, *, status: int | None = None, **extra: Any) -> HttpResponse:
    context = _list_context(request, state, **extra)
    status = status or state.http_status
    if request.htmx and request.htmx.target == "rma-list":
        response = render(request, "web/rmas/_results.html", context, status=status)
        if request.method == "GET" and not state.errors:
            pushed = {**state.canonical, **({"cursor": state.raw["cursor"]} if state.raw.get("cursor") else {})}
            push_url(response, reverse("web:rmas") + ("?" + urlencode(pushed) if pushed else ""))
    else:
        response = render(request, "web/rmas/list.html", context, status=status)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


@web_view()
def rma_list(request: AgentRequest) -> HttpResponse:
    """The RMA list, newest first: the filter form, status tabs, keyset pages."""
    return _render_list(request, list_state(request, request.GET))


# --- bulk --------------------------------------------------------------------------------------------


def _parse_ids(values: list[str]) -> list[int]:
    ids = []
    for value in values:
        if not value.isdigit() or not 0 < int(value) <= 2**62:
            raise ValidationFailed(_("invalid RMA id %(value)r") % {"value": value[:20]}, field="rma_ids")
        ids.append(int(value))
    return ids


def _bulk_params(post: QueryDict, action: str) -> dict[str, Any]:
    if action == RmaBulkAction.APPROVE:
        return {"resolution": post.get("resolution", "")}
    if action == RmaBulkAction.REJECT:
        return {"reason": post.get("reason", "")}
    return {"kinds": post.getlist("kinds"), "message": post.get("message", "")}


def _job_context(request: AgentRequest, job_id: int) -> dict[str, Any]:
    progress = rma_bulk_job_progress(request.user, job_id)
    return {
        "job": progress,
        "running": progress.status != "done",
        "action_label": RmaBulkAction(progress.action).label,
        "failures": [i for i in progress.items if i.status == "error"],
    }


@web_view(methods=("POST",))
def rma_bulk(request: AgentRequest) -> HttpResponse:
    """Queue a bulk approve / reject / request evidence over the selected RMAs; the answer is the job's
    progress bar (htmx polls it) or, without JavaScript, the job's page."""
    action = request.POST.get("action", "")
    try:
        job = rma_bulk_start(
            user=request.user,
            action=action,
            rma_ids=_parse_ids(request.POST.getlist("rma_ids")),
            params=_bulk_params(request.POST, action) if action in RmaBulkAction.values else {},
        )
    except PermissionDenied:
        raise
    except DomainError as exc:
        return render(request, "web/rmas/_job.html", {"error": exc.message}, status=exc.status_code)
    if not request.htmx:
        return redirect("web:rma_bulk_job", job_id=job.pk)
    return render(request, "web/rmas/_job.html", _job_context(request, job.pk))


@web_view()
def rma_bulk_job(request: AgentRequest, job_id: int) -> HttpResponse:
    """A bulk job's progress and each RMA's result (polled every second while it runs)."""
    template = "web/rmas/_job.html" if request.htmx else "web/rmas/job.html"
    return render(request, template, _job_context(request, job_id))


# --- the RMA page and its actions ------------------------------------------------------------------


def _rma_context(request: AgentRequest, rma_id: int, **extra: Any) -> dict[str, Any]:
    detail = rma_detail(request.user, rma_id)
    actions = {*rma_actions_for(request.user, detail.rma), *(["refund"] if detail.can_refund else [])}
    return {
        "detail": detail,
        "rma": detail.rma,
        "actions": actions,
        "qc_lines": rma_qc_form(request.user, rma_id) if "inspect" in actions else [],
        "resolutions": [c for c in RmaResolution.choices if c[0] != RmaResolution.PARTIAL_REFUND],
        "evidence_kinds": [(k, label) for k, label in EvidenceKind.choices if k != EvidenceKind.QC_PHOTO],
        "refund_kinds": RefundKind.choices,
        "outcomes": [c for c in RmaOutcome.choices if c[0] != RmaOutcome.KEPT_PARTIAL_REFUND],
        "idempotency_key": f"web:{uuid.uuid4().hex}",
        "errors": {},
        "values": {},
        **extra,
    }


@web_view()
def rma_page_view(request: AgentRequest, rma_id: int) -> HttpResponse:
    return render(request, "web/rmas/page.html", _rma_context(request, rma_id))


def _action_done(request: AgentRequest, rma_id: int, notice: str) -> HttpResponse:
    messages.success(request, notice)
    return redirect("web:rma", rma_id=rma_id)


def _action_failed(request: AgentRequest, rma_id: int, form: str, exc: DomainError) -> HttpResponse:
    if isinstance(exc, PermissionDenied) or (isinstance(exc, NotFound) and exc.field in (None, "rma_id")):
        raise exc
    errors = {form: exc.message}
    context = _rma_context(request, rma_id, errors=errors, values=request.POST.dict())
    return render(request, "web/rmas/page.html", context, status=exc.status_code)


def _upload(request: AgentRequest) -> Upload | None:
    file = request.FILES.get("file")
    return Upload(filename=file.name or "file", content=file.read()) if file else None


def _amount(text: str) -> Any:
    """The typed amount as a Decimal when it reads as one (the service validates it), else as typed."""
    text = text.strip()
    try:
        return Decimal(text) if text else None
    except ArithmeticError:
        return text


def _inspection_lines(post: QueryDict) -> list[dict[str, Any]]:
    """The QC form's fields as the inspection service's lines: per line `line-<id>-items` (the
    checklist codes shown), a ticked `line-<id>-check-<code>` is true and an unticked one false, plus
    the IMEI, serial number, disposition and note typed."""
    lines = []
    for raw_id in post.getlist("line_ids"):
        prefix = f"line-{raw_id}"
        lines.append(
            {
                "line_id": int(raw_id) if raw_id.isdigit() else raw_id,
                "checklist": {code: f"{prefix}-check-{code}" in post for code in post.getlist(f"{prefix}-items")},
                "imei": post.get(f"{prefix}-imei", "").strip(),
                "serial_number": post.get(f"{prefix}-serial_number", "").strip(),
                "disposition": post.get(f"{prefix}-disposition") or None,
                "note": post.get(f"{prefix}-note", ""),
            }
        )
    return lines


def _refund(request: AgentRequest, rma_id: int) -> Any:
    """Request a refund for the RMA (full, partial, shipping); it lands approved, pending approval or
    in review (returns.refunds.refund_request decides)."""
    rma = rma_get(request.user, rma_id)
    return refund_request(
        user=request.user,
        order_id=rma.order_id,
        rma_id=rma.pk,
        ticket_id=rma.ticket_id,
        kind=request.POST.get("kind", ""),
        amount=_amount(request.POST.get("amount", "")),
        currency=request.POST.get("currency", "") or rma.order.currency,
        reason=request.POST.get("reason", ""),
        idempotency_key=request.POST.get("idempotency_key") or None,
    )


@dataclass(frozen=True)
class RmaAction:
    """One button of the RMA page (its form, where its error shows, is named by its key): what it
    calls (one service, with the fields the view parsed) and the notice after it."""

    call: Callable[[AgentRequest, int], Any]
    notice: Any  # lazy text


def _post(request: AgentRequest, name: str) -> str:
    return request.POST.get(name, "")


RMA_ACTIONS: dict[str, RmaAction] = {
    "approve": RmaAction(
        lambda r, i: rma_approve(user=r.user, rma_id=i, resolution=_post(r, "resolution") or None),
        gettext_lazy("Return approved."),
    ),
    "reject": RmaAction(
        lambda r, i: rma_reject(user=r.user, rma_id=i, reason=_post(r, "reason")),
        gettext_lazy("Return rejected."),
    ),
    "request_evidence": RmaAction(
        lambda r, i: rma_request_evidence(
            user=r.user, rma_id=i, kinds=r.POST.getlist("kinds"), message=_post(r, "message")
        ),
        gettext_lazy("Evidence requested from the buyer."),
    ),
    "evidence": RmaAction(  # an IMEI or serial number (value), or a photo / video (file)
        lambda r, i: rma_add_evidence(
            user=r.user, rma_id=i, kind=_post(r, "kind"), value=_post(r, "value"), upload=_upload(r)
        ),
        gettext_lazy("Evidence added."),
    ),
    "offer_partial": RmaAction(
        lambda r, i: rma_offer_partial(
            user=r.user,
            rma_id=i,
            amount=_amount(_post(r, "amount")),
            percent=_amount(_post(r, "percent")),
            message=_post(r, "message"),
        ),
        gettext_lazy("Partial refund offered to the buyer."),
    ),
    "accept_partial": RmaAction(
        lambda r, i: rma_accept_partial(user=r.user, rma_id=i),
        gettext_lazy("The buyer keeps the item: partial refund requested."),
    ),
    "decline_partial": RmaAction(
        lambda r, i: rma_decline_partial(user=r.user, rma_id=i, note=_post(r, "note")),
        gettext_lazy("Offer declined: the return is back in review."),
    ),
    "label": RmaAction(  # a carrier and tracking number, or an uploaded label file
        lambda r, i: rma_issue_label(
            user=r.user,
            rma_id=i,
            source="uploaded" if r.FILES.get("file") else "carrier",
            carrier=_post(r, "carrier"),
            tracking_number=_post(r, "tracking_number"),
            upload=_upload(r),
        ),
        gettext_lazy("Return label issued."),
    ),
    "label_fetch": RmaAction(  # the marketplace's own label (returns.rma_labels)
        lambda r, i: rma_label_fetch(user=r.user, rma_id=i),
        gettext_lazy("The marketplace's label is stored on the RMA."),
    ),
    "receive": RmaAction(
        lambda r, i: rma_receive(user=r.user, rma_id=i, note=_post(r, "note")),
        gettext_lazy("Parcel received."),
    ),
    "inspect": RmaAction(
        lambda r, i: rma_inspect(
            user=r.user,
            rma_id=i,
            lines=_inspection_lines(r.POST),
            photos=[Upload(filename=f.name or "photo", content=f.read()) for f in r.FILES.getlist("photos")],
        ),
        gettext_lazy("Inspection recorded."),
    ),
    "resolve": RmaAction(
        lambda r, i: rma_resolve(user=r.user, rma_id=i, outcome=_post(r, "outcome"), note=_post(r, "note")),
        gettext_lazy("Return resolved."),
    ),
    "cancel": RmaAction(
        lambda r, i: rma_cancel(user=r.user, rma_id=i, reason=_post(r, "reason")),
        gettext_lazy("Return cancelled."),
    ),
    "refund": RmaAction(_refund, gettext_lazy("Refund requested.")),
}


@web_view(methods=("POST",))
def rma_action_view(request: AgentRequest, rma_id: int, action: str) -> HttpResponse:
    """Every action of the RMA page (RMA_ACTIONS, named by the URL): parse, call its service, then
    back to the page with a notice, or the page again with the error next to the action's form."""
    spec = RMA_ACTIONS[action]
    try:
        spec.call(request, rma_id)
    except DomainError as exc:
        return _action_failed(request, rma_id, action, exc)
    return _action_done(request, rma_id, str(spec.notice))


@web_view()  # type: ignore[arg-type]  # web_view passes any response through, a streamed file too
def rma_evidence_file_view(request: AgentRequest, rma_id: int, evidence_id: int) -> StreamingHttpResponse:
    """An uploaded evidence file (a buyer's photo or video, a QC photo), for whoever sees the RMA."""
    file, name, content_type, inline = rma_evidence_file(request.user, rma_id, evidence_id)
    return stored_file_response(file, filename=name, content_type=content_type, inline=inline)


@web_view()
def rma_slip_view(request: AgentRequest, rma_id: int) -> HttpResponse:
    """The printable RMA slip (PDF: number, barcode, return address, lines, instructions)."""
    number, pdf = rma_slip_pdf(user=request.user, rma_id=rma_id)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{number}.pdf"'
    return response


# --- refunds: approve / reject, the review queue -----------------------------------------------------


def _back(request: AgentRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else fallback


@web_view(methods=("POST",))
def refund_approve_view(request: AgentRequest, refund_id: int) -> HttpResponse:
    try:
        refund_approve(user=request.user, refund_id=refund_id, note=request.POST.get("note", ""))
    except (PermissionDenied, NotFound):
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Refund approved."))
    return redirect(_back(request, reverse("web:refund_review")))


@web_view(methods=("POST",))
def refund_reject_view(request: AgentRequest, refund_id: int) -> HttpResponse:
    try:
        refund_reject(user=request.user, refund_id=refund_id, reason=request.POST.get("reason", ""))
    except (PermissionDenied, NotFound):
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Refund rejected."))
    return redirect(_back(request, reverse("web:refund_review")))


@web_view()
def refund_review(request: AgentRequest) -> HttpResponse:
    """Refunds waiting for a human: in manual review (with the reasons) or above the requester's
    approval limit."""
    return render(
        request,
        "web/rmas/review.html",
        {"refunds": refund_review_queue(request.user), "can_approve": has_perm(request.user, Permission.APPROVE)},
    )


@web_view()
def rma_exceptions_view(request: AgentRequest) -> HttpResponse:
    raw = request.GET.get("stale_days", "")
    days = int(raw) if raw.isdigit() and 1 <= int(raw) <= 365 else 7
    return render(request, "web/rmas/exceptions.html", {"exceptions": rma_exceptions(request.user, stale_days=days)})


# --- from the ticket: create a return, refund ----------------------------------------------------------


def _ticket_form_context(request: AgentRequest, ticket_id: int, **extra: Any) -> dict[str, Any]:
    """The ticket with its order (NotFound outside the user's sight); the forms are for roles that
    may process (the services check again)."""
    detail = ticket_detail(request.user, ticket_id)
    check_perm(request.user, Permission.PROCESS)
    return {
        "ticket": detail.ticket,
        "order": detail.order,
        "reasons": REASON_SUGGESTIONS,
        "refund_kinds": RefundKind.choices,
        "idempotency_key": f"web:{uuid.uuid4().hex}",
        "errors": {},
        "values": {},
        **extra,
    }


def _lines_from_post(post: QueryDict) -> list[dict[str, Any]]:
    """Order lines with a quantity above zero: [{order_line_id, quantity, reason?}]."""
    lines = []
    for key in post:
        match = re.fullmatch(r"qty-(\d{1,18})", key)
        raw = post.get(key, "").strip()
        if not match or raw in ("", "0"):
            continue
        if not raw.isdigit():
            raise ValidationFailed(_("quantities are whole numbers"), field="lines")
        line: dict[str, Any] = {"order_line_id": int(match.group(1)), "quantity": int(raw)}
        reason = post.get(f"reason-{match.group(1)}", "").strip()
        if reason:
            line["reason"] = reason
        lines.append(line)
    return lines


@web_view(methods=("GET", "POST"))
def ticket_return_create(request: AgentRequest, ticket_id: int) -> HttpResponse:
    """Open an RMA for the ticket's order: the lines and quantities to return, the reason."""
    if request.method == "GET":
        return render(request, "web/rmas/ticket_return.html", _ticket_form_context(request, ticket_id))
    context = _ticket_form_context(request, ticket_id)
    order = context["order"]
    try:
        if order is None:
            raise ValidationFailed(_("this ticket has no order to return"), field="order_id")
        rma = rma_create(
            user=request.user,
            order_id=order.pk,
            lines=_lines_from_post(request.POST),
            reason=request.POST.get("reason", ""),
            comment=request.POST.get("comment", ""),
            ticket_id=ticket_id,
        )
    except (PermissionDenied, NotFound):
        raise
    except DomainError as exc:
        posted_qty = {int(key[4:]): request.POST[key] for key in request.POST if re.fullmatch(r"qty-\d{1,18}", key)}
        context.update(
            errors={exc.field or "general": exc.message, "any": exc.message}, values=request.POST, posted_qty=posted_qty
        )
        return render(request, "web/rmas/ticket_return.html", context, status=exc.status_code)
    messages.success(request, _("Return %(number)s created.") % {"number": rma.number})
    return redirect("web:rma", rma_id=rma.pk)


@web_view(methods=("GET", "POST"))
def ticket_refund_create(request: AgentRequest, ticket_id: int) -> HttpResponse:
    """Refund (part of) the ticket's order without a return: kind, amount, reason."""
    if request.method == "GET":
        return render(request, "web/rmas/ticket_refund.html", _ticket_form_context(request, ticket_id))
    context = _ticket_form_context(request, ticket_id)
    order = context["order"]
    try:
        if order is None:
            raise ValidationFailed(_("this ticket has no order to refund"), field="order_id")
        refund_request(
            user=request.user,
            order_id=order.pk,
            ticket_id=ticket_id,
            kind=request.POST.get("kind", ""),
            amount=_amount(request.POST.get("amount", "")),
            currency=request.POST.get("currency", "") or order.currency,
            reason=request.POST.get("reason", ""),
            idempotency_key=request.POST.get("idempotency_key") or None,
        )
    except (PermissionDenied, NotFound):
        raise
    except DomainError as exc:
        context.update(errors={exc.field or "general": exc.message, "any": exc.message}, values=request.POST)
        return render(request, "web/rmas/ticket_refund.html", context, status=exc.status_code)
    messages.success(request, _("Refund requested."))
    return redirect("web:ticket", ticket_id=ticket_id)


@web_view(methods=("POST",))
def return_request_rma_create(request: AgentRequest, return_request_id: int) -> HttpResponse:
    """The "Open RMA" button of a marketplace return request on the ticket page: the same service and
    permission as POST /api/v1/return-requests/{id}/rma. A refusal (already open, ended on the
    marketplace) is the service's 422 page naming return_request_id; success opens the RMA's page."""
    rma = rma_open_for_return_request(user=request.user, return_request_id=return_request_id)
    messages.success(request, _("Return %(number)s created.") % {"number": rma.number})
    return redirect("web:rma", rma_id=rma.pk)
