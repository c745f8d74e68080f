"""Warranty pages: look a unit up by serial number or IMEI (term, days left, claims) and open a
claim; a claim's page with its timeline and actions (review, approve / reject, resolve by repair or
replacement, move the repair order); the warranty terms and reminders in the settings (admins).

Views parse the form, call one service or selector (the same as the API's), and render; a refusal
re-renders the page with the message next to the field and the service's status code."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from aftersales.catalog.models import CustomerTier, ProductCategory
from aftersales.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from aftersales.core.validation import parse_id
from aftersales.warranty.eligibility import COUNTRY_GROUPS
from aftersales.warranty.selectors import (
    TimelineEntry,
    claim_actions,
    claim_get,
    claims_list,
    order_units,
    unit_lookup,
    warranty_settings_page,
)
from aftersales.warranty.services import (
    claim_change_status,
    claim_open,
    claim_resolve,
    order_units_register,
    repair_advance,
    replacement_retry,
    replacement_ship,
    settings_save,
    term_delete,
    term_save,
)
from aftersales.warranty.units_import import COLUMNS as UNIT_COLUMNS
from aftersales.warranty.units_import import MAX_BYTES as UNITS_MAX_BYTES
from aftersales.warranty.units_import import example_csv, units_import
from aftersales.warranty.workflow import ClaimStatus, RepairStatus

from ..access import AgentRequest, web_view

RECENT_CLAIMS = 20


def _reraise_refusals(exc: DomainError) -> None:
    """Permission and sight refusals become the 403 / 404 pages; the rest is shown on the form."""
    if isinstance(exc, PermissionDenied | NotFound) and exc.field not in {"q", "ticket_id"}:
        raise exc


def _lookup_page(
    request: AgentRequest,
    *,
    query: str = "",
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> HttpResponse:
    errors = dict(errors or {})
    found = None
    if query:
        try:
            found = unit_lookup(request.user, query)
        except DomainError as exc:
            _reraise_refusals(exc)
            errors.setdefault("q", exc.message)
            status = exc.status_code if status == 200 else status
    context = {
        "query": query,
        "found": found,
        "errors": errors,
        "values": values or {},
        "recent_claims": claims_list(request.user, limit=RECENT_CLAIMS),
        "claim_statuses": ClaimStatus,
    }
    return render(request, "warranty/lookup.html", context, status=status)


@web_view()
def warranty_lookup(request: AgentRequest) -> HttpResponse:
    """Search a unit by serial number or IMEI; recent claims below."""
    return _lookup_page(request, query=request.GET.get("q", "").strip()[:100])


def _instant(raw: str, *, field: str) -> datetime | None:
    text = raw.strip()
    if not text:
        return None
    value = parse_datetime(text)
    if value is None:
        raise ValidationFailed(_("%(field)s: not a date and time") % {"field": field}, field=field)
    return value


@web_view(methods=("POST",))
def warranty_claim_create(request: AgentRequest) -> HttpResponse:
    """Open a claim on the unit found by the lookup."""
    post = request.POST
    query = post.get("q", "").strip()[:100]
    values = {k: post.get(k, "") for k in ("problem", "ticket_id", "override_reason")}
    try:
        ticket_raw = post.get("ticket_id", "").strip()
        claim = claim_open(
            user=request.user,
            unit_id=parse_id(post.get("unit_id", ""), field="unit_id"),
            problem=post.get("problem", ""),
            ticket_id=parse_id(ticket_raw, field="ticket_id") if ticket_raw else None,
            override_reason=post.get("override_reason", ""),
        )
    except DomainError as exc:
        _reraise_refusals(exc)
        field = exc.field if exc.field in {"problem", "ticket_id", "override_reason"} else "claim"
        return _lookup_page(request, query=query, status=exc.status_code, errors={field: exc.message}, values=values)
    messages.success(request, _("Warranty claim #%(id)s opened.") % {"id": claim.pk})
    return redirect("web:warranty_claim", claim_id=claim.pk)


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _timeline_text(entry: TimelineEntry) -> str:
    """One line of the claim's timeline in the reader's language."""
    p = entry.payload
    if entry.source == "repair":
        if entry.type == "created":
            return _("Repair order #%(id)s created") % {"id": entry.repair_order_id}
        text = _("Repair order #%(id)s: %(old)s → %(new)s") % {
            "id": entry.repair_order_id,
            "old": _label(RepairStatus, p.get("old", "")),
            "new": _label(RepairStatus, p.get("new", "")),
        }
        if p.get("tracking_number"):
            text += " · " + _("return parcel %(carrier)s %(number)s") % {
                "carrier": p.get("carrier", ""),
                "number": p["tracking_number"],
            }
        if p.get("diagnosis"):
            text += " · " + _("diagnosis: %(text)s") % {"text": p["diagnosis"]}
    elif entry.type == "created":
        text = _("Claim opened (in warranty until %(day)s)") % {"day": p.get("warranty_ends_on", "")}
        if not p.get("in_warranty", True):
            text = _("Claim opened out of warranty (ended %(day)s), accepted: %(reason)s") % {
                "day": p.get("warranty_ends_on", ""),
                "reason": p.get("override_reason", ""),
            }
    elif entry.type == "status_changed":
        text = _("Status: %(old)s → %(new)s") % {
            "old": _label(ClaimStatus, p.get("old", "")),
            "new": _label(ClaimStatus, p.get("new", "")),
        }
    elif entry.type == "repair_order_created":
        return _("Resolved by a repair")
    elif entry.type == "replacement_requested":
        return _("Replacement requested (%(sku)s): waiting for stock to be reserved") % {"sku": p.get("sku", "")}
    elif entry.type == "replacement_reserved":
        return _("Replacement unit reserved (%(sku)s × %(quantity)s)") % {
            "sku": p.get("sku", ""),
            "quantity": p.get("quantity", 1),
        }
    elif entry.type == "replacement_out_of_stock":
        return str(p.get("message") or _("Replacement out of stock: offer the customer a refund instead."))
    elif entry.type == "replacement_shipped":
        text = _("Replacement shipped (%(sku)s × %(quantity)s)") % {
            "sku": p.get("sku", ""),
            "quantity": p.get("quantity", 1),
        }
        if p.get("tracking_number"):
            text += " · " + _("parcel %(carrier)s %(number)s") % {
                "carrier": p.get("carrier", ""),
                "number": p["tracking_number"],
            }
        return text
    else:
        text = entry.type
    reason = p.get("reason") or p.get("note")
    if reason and not str(reason).startswith("repair_"):
        text += " · " + str(reason)
    return text


def _claim_page(request: AgentRequest, claim_id: int, *, status: int = 200, error: str = "") -> HttpResponse:
    view = claim_get(request.user, claim_id)
    context = {
        "view": view,
        "claim": view.claim,
        "unit": view.claim.unit,
        "timeline": [(entry, _timeline_text(entry)) for entry in view.timeline],
        "actions": claim_actions(request.user, view),
        "repair": view.open_repair,
        "claim_statuses": ClaimStatus,
        "repair_statuses": RepairStatus,
        "error": error,
    }
    return render(request, "warranty/claim.html", context, status=status)


@web_view()
def warranty_claim(request: AgentRequest, claim_id: int) -> HttpResponse:
    """A claim: the unit, the judgement at opening, the timeline, the next actions."""
    return _claim_page(request, claim_id)


def _act(request: AgentRequest, claim_id: int, action: Any) -> HttpResponse:
    try:
        action()
    except DomainError as exc:
        _reraise_refusals(exc)
        return _claim_page(request, claim_id, status=exc.status_code, error=exc.message)
    return redirect("web:warranty_claim", claim_id=claim_id)


def _act_posted(request: AgentRequest, claim_id: int, service: Any, *fields: str) -> HttpResponse:
    """A claim action whose service takes the user, the claim and these posted text fields."""
    return _act(
        request,
        claim_id,
        lambda: service(user=request.user, claim_id=claim_id, **{f: request.POST.get(f, "") for f in fields}),
    )


@web_view(methods=("POST",))
def warranty_claim_status(request: AgentRequest, claim_id: int) -> HttpResponse:
    return _act_posted(request, claim_id, claim_change_status, "status", "reason")


@web_view(methods=("POST",))
def warranty_claim_resolve(request: AgentRequest, claim_id: int) -> HttpResponse:
    return _act_posted(request, claim_id, claim_resolve, "resolution", "note")


@web_view(methods=("POST",))
def warranty_repair_status(request: AgentRequest, claim_id: int, repair_id: int) -> HttpResponse:
    diagnosis = request.POST.get("diagnosis")
    view = claim_get(request.user, claim_id)  # the repair order must be this claim's
    if not any(r.repair.pk == repair_id for r in view.repairs):
        raise NotFound(_("repair order not found"), field="repair_order_id")
    return _act(
        request,
        claim_id,
        lambda: repair_advance(
            user=request.user,
            repair_id=repair_id,
            status=request.POST.get("status", ""),
            reason=request.POST.get("reason", ""),
            diagnosis=diagnosis if diagnosis and diagnosis.strip() else None,
            carrier=request.POST.get("carrier", ""),
            tracking_number=request.POST.get("tracking_number", ""),
        ),
    )


@web_view(methods=("POST",))
def warranty_replacement_reserve(request: AgentRequest, claim_id: int) -> HttpResponse:
    """Try again to reserve an out-of-stock replacement."""
    return _act(request, claim_id, lambda: replacement_retry(user=request.user, claim_id=claim_id))


@web_view(methods=("POST",))
def warranty_replacement_ship(request: AgentRequest, claim_id: int) -> HttpResponse:
    """The reserved replacement shipped (carrier and tracking number optional)."""
    return _act_posted(request, claim_id, replacement_ship, "carrier", "tracking_number")


def _order_units_page(
    request: AgentRequest, number: str, *, status: int = 200, error: DomainError | None = None, posted: Any = None
) -> HttpResponse:
    context: dict[str, Any] = {"number": number, "errors": {}, "posted": posted or {}}
    if number:
        try:
            context["found"] = order_units(request.user, number)
        except NotFound as exc:
            context["errors"] = {"order": exc.message}
            status = max(status, 404) if status == 200 else status
    if error is not None:
        context["error"], context["error_field"] = error.message, error.field or ""
    return render(request, "warranty/order_units.html", context, status=status)


@web_view(methods=("GET", "POST"))
def warranty_order_units(request: AgentRequest) -> HttpResponse:
    """Type in the shipped units (IMEI / serial number) of an order whose platform does not report
    them: one service for the page and the API (warranty.services.order_units_register)."""
    number = request.GET.get("order", "").strip()[:120]
    if request.method != "POST":
        return _order_units_page(request, number)
    identifiers: dict[int, str] = {}
    for key in request.POST:
        value = request.POST.get(key, "")
        if key.startswith("line_") and key[5:].isdigit() and value.strip():
            identifiers[int(key[5:])] = value
    try:
        units = order_units_register(
            user=request.user,
            order_id=parse_id(request.POST.get("order_id", ""), field="order_id"),
            identifiers=identifiers,
        )
    except DomainError as exc:
        _reraise_refusals(exc)
        return _order_units_page(request, number, status=exc.status_code, error=exc, posted=identifiers)
    messages.success(
        request,
        ngettext("%(count)s unit registered.", "%(count)s units registered.", len(units)) % {"count": len(units)},
    )
    return redirect(f"{reverse('web:warranty_order_units')}?{urlencode({'order': number})}")


# --- settings ------------------------------------------------------------------------------------


def _settings_page(
    request: AgentRequest,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> HttpResponse:
    page = warranty_settings_page(request.user)
    context = {
        "settings_section": "warranty",
        "page": page,
        "categories": ProductCategory.choices,
        "tiers": CustomerTier.choices,
        "groups": sorted(COUNTRY_GROUPS),
        "errors": errors or {},
        "values": values or {},
    }
    return render(request, "warranty/settings.html", context, status=status)


@web_view(methods=("GET", "POST"))
def settings_warranty(request: AgentRequest) -> HttpResponse:
    """The warranty terms; POST adds one."""
    if request.method == "GET":
        return _settings_page(request)
    post = request.POST
    values = {k: post.get(k, "") for k in ("category", "region", "customer_tier", "months", "note")}
    months_raw = values["months"].strip()
    try:
        term_save(
            user=request.user,
            category=values["category"],
            region=values["region"],
            customer_tier=values["customer_tier"],
            months=int(months_raw) if months_raw.isdigit() and len(months_raw) < 5 else -1,
            note=values["note"],
        )
    except DomainError as exc:
        if isinstance(exc, PermissionDenied):
            raise
        return _settings_page(
            request, status=exc.status_code, errors={exc.field or "months": exc.message}, values=values
        )
    messages.success(request, _("Warranty term saved."))
    return redirect("web:settings_warranty")


@web_view(methods=("POST",))
def settings_warranty_term_delete(request: AgentRequest, term_id: int) -> HttpResponse:
    term_delete(user=request.user, term_id=term_id)
    messages.success(request, _("Warranty term deleted."))
    return redirect("web:settings_warranty")


@web_view(methods=("POST",))
def settings_warranty_reminders(request: AgentRequest) -> HttpResponse:
    post = request.POST
    days_raw = post.get("reminder_days_before", "").strip()
    template_raw = post.get("reminder_template_id", "").strip()
    try:
        settings_save(
            user=request.user,
            reminders_enabled=post.get("reminders_enabled") == "on",
            reminder_days_before=int(days_raw) if days_raw.isdigit() and len(days_raw) < 5 else -1,
            reminder_template_id=parse_id(template_raw, field="reminder_template_id") if template_raw else None,
        )
    except DomainError as exc:
        if isinstance(exc, PermissionDenied):
            raise
        return _settings_page(
            request, status=exc.status_code, errors={exc.field or "reminder_days_before": exc.message}
        )
    messages.success(request, _("Warranty reminders saved."))
    return redirect("web:settings_warranty")


# --- shipped units from a CSV file ----------------------------------------------------------------

MAX_PREVIEW_ROWS_SHOWN = 200


def _units_import_page(
    request: AgentRequest, *, status: int = 200, error: DomainError | None = None, preview: Any = None, kept: str = ""
) -> HttpResponse:
    context = {
        "error": error.message if error is not None else "",
        "preview": preview,
        "preview_rows": preview.rows[:MAX_PREVIEW_ROWS_SHOWN] if preview is not None else (),
        "kept": kept,
        "columns": UNIT_COLUMNS,
    }
    return render(request, "warranty/units_import.html", context, status=status)


def _posted_csv(request: AgentRequest) -> tuple[bytes, str]:
    """The uploaded file, or the previewed one sent back (base64) with "Register"."""
    upload = request.FILES.get("file")
    if upload is not None:
        content = upload.read(UNITS_MAX_BYTES + 1)
        return content, base64.b64encode(content).decode() if len(content) <= UNITS_MAX_BYTES else ""
    kept = request.POST.get("kept", "")
    try:
        return base64.b64decode(kept, validate=True), kept
    except ValueError:
        raise ValidationFailed(_("file: upload a CSV file"), field="file") from None


@web_view(methods=("GET", "POST"))
def warranty_units_import(request: AgentRequest) -> HttpResponse:
    """Upload a CSV of shipped units: "Preview" checks every row and shows what would be registered
    (nothing written), "Register" writes them, all or nothing (warranty.units_import, the service of
    POST /api/v1/warranty/units/import-csv)."""
    if request.method != "POST":
        return _units_import_page(request)
    commit = request.POST.get("action") == "register"
    kept = ""
    try:
        content, kept = _posted_csv(request)
        result = units_import(user=request.user, content=content, commit=commit)
    except DomainError as exc:
        _reraise_refusals(exc)
        return _units_import_page(request, status=exc.status_code, error=exc)
    if not commit:
        return _units_import_page(request, preview=result, kept=kept)
    messages.success(
        request,
        ngettext(
            "%(count)s unit registered (%(skipped)s already registered).",
            "%(count)s units registered (%(skipped)s already registered).",
            result.registered,
        )
        % {"count": result.registered, "skipped": result.skipped},
    )
    return redirect("web:warranty_units_import")


@web_view()
def warranty_units_import_example(request: AgentRequest) -> HttpResponse:
    response = HttpResponse(example_csv(user=request.user), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="shipped-units-example.csv"'
    return response
