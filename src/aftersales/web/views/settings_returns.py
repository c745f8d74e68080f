"""Settings for organization admins: the return policy (issue 10 §1-2).

The page shows the active version and the saved ones, takes a pasted / edited document (JSON or
YAML; errors shown with the offending path) and has a try-it form that runs the same eligibility
function as `POST /api/v1/returns/eligibility`. The view parses the forms and calls the services."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm
from aftersales.catalog.models import CustomerTier, ProductCategory
from aftersales.catalog.selectors import store_list
from aftersales.core.errors import DomainError, PermissionDenied, ValidationFailed
from aftersales.returns.eligibility import EligibilityResult, check_eligibility
from aftersales.returns.policy_store import policy_active, policy_export_text, policy_save, policy_versions
from aftersales.returns.rates import rate_list, rate_set

from ..access import AgentRequest, web_view

EVIDENCE_CHOICES = (
    ("photos", gettext_lazy("Photos")),
    ("video", gettext_lazy("Video")),
    ("imei", "IMEI"),
    ("serial_number", gettext_lazy("Serial number")),
)
CHECK_FIELDS = (
    "store_id",
    "site",
    "delivery_country",
    "delivered_at",
    "requested_at",
    "sku",
    "category",
    "unit_price",
    "currency",
    "reason",
    "customer_tier",
    "quantity_purchased",
    "quantity_already_returned",
    "quantity_requested",
)


def _page(
    request: AgentRequest,
    *,
    status: int = 200,
    document_text: str | None = None,
    comment: str = "",
    errors: dict[str, str] | None = None,
    check: dict[str, Any] | None = None,
    result: EligibilityResult | None = None,
    rate_values: dict[str, str] | None = None,
) -> HttpResponse:
    active = policy_active(request.user)
    context = {
        "settings_section": "returns",
        "active": active,
        "versions": policy_versions(request.user),
        "rates": rate_list(request.user),
        "rate_values": rate_values or {},
        "document_text": document_text if document_text is not None else policy_export_text(active.document),
        "comment": comment,
        "errors": errors or {},
        "check": check or {"quantity_purchased": "1", "quantity_requested": "1", "quantity_already_returned": "0"},
        "result": result.decision if result else None,
        "result_version": result.policy_version if result else None,
        "stores": store_list(request.user),
        "categories": ProductCategory.choices,
        "tiers": CustomerTier.choices,
        "evidence_choices": EVIDENCE_CHOICES,
        "reasons": [r["code"] for r in active.document.get("reasons", [])],
    }
    return render(request, "web/settings/returns/page.html", context, status=status)


def _refusal(exc: DomainError) -> None:
    if isinstance(exc, PermissionDenied) or exc.status_code == 404:
        raise exc


@web_view(methods=("GET", "POST"))
def settings_returns(request: AgentRequest) -> HttpResponse:
    """The return policy; POST saves the pasted document as a new active version."""
    check_perm(request.user, Permission.ADMINISTER)
    if request.method == "GET":
        return _page(request)
    text = request.POST.get("document", "")
    comment = request.POST.get("comment", "")
    try:
        version = policy_save(user=request.user, document=text, comment=comment)
    except DomainError as exc:
        _refusal(exc)
        return _page(
            request,
            status=exc.status_code,
            document_text=text,
            comment=comment,
            errors={"document" if (exc.field or "").startswith("document") else (exc.field or "document"): exc.message},
        )
    messages.success(request, _("Return policy saved as version %(number)d.") % {"number": version.number})
    return redirect("web:settings_returns")


def _instant(value: str, field: str) -> datetime:
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed(
            _("%(field)s: must be a date-time with an offset, e.g. 2026-11-11T08:00:00+08:00") % {"field": field},
            field=field,
        ) from None


def _whole(value: str, field: str) -> int:
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 6:
        raise ValidationFailed(_("%(field)s: must be a whole number") % {"field": field}, field=field)
    return int(text)


@web_view(methods=("POST",))
def settings_returns_check(request: AgentRequest) -> HttpResponse:
    """Try the active policy on some facts (the same function as the API; writes nothing)."""
    check_perm(request.user, Permission.ADMINISTER)
    post = request.POST
    values: dict[str, Any] = {name: post.get(name, "") for name in CHECK_FIELDS}
    values["evidence"] = post.getlist("evidence")
    try:
        try:
            price = Decimal(values["unit_price"].strip())
        except InvalidOperation:
            raise ValidationFailed(_("unit_price: must be a decimal number"), field="unit_price") from None
        store = values["store_id"].strip()
        result = check_eligibility(
            user=request.user,
            store_id=_whole(store, "store_id") if store else None,
            platform=None,
            site=values["site"].strip() or None,
            delivery_country=values["delivery_country"].strip().upper() or None,
            delivered_at=_instant(values["delivered_at"], "delivered_at"),
            requested_at=_instant(values["requested_at"], "requested_at"),
            sku=values["sku"].strip() or None,
            category=values["category"] or None,
            unit_price=price,
            currency=values["currency"].strip().upper(),
            reason=values["reason"],
            customer_tier=values["customer_tier"] or None,
            evidence=tuple(values["evidence"]),
            quantity_purchased=_whole(values["quantity_purchased"], "quantity_purchased"),
            quantity_already_returned=_whole(values["quantity_already_returned"] or "0", "quantity_already_returned"),
            quantity_requested=_whole(values["quantity_requested"], "quantity_requested"),
        )
    except DomainError as exc:
        _refusal(exc)
        return _page(request, status=exc.status_code, check=values, errors={"check": exc.message})
    return _page(request, check=values, result=result)


@web_view(methods=("POST",))
def settings_returns_rate(request: AgentRequest) -> HttpResponse:
    """Create or replace one currency's rate in the organization's rate table."""
    check_perm(request.user, Permission.ADMINISTER)
    values = {
        "currency": request.POST.get("currency", "").strip().upper(),
        "rate": request.POST.get("rate", "").strip(),
    }
    try:
        rate_set(user=request.user, currency=values["currency"], rate=values["rate"])
    except DomainError as exc:
        _refusal(exc)
        return _page(request, status=exc.status_code, rate_values=values, errors={"rate": exc.message})
    messages.success(request, _("Exchange rate saved."))
    return redirect("web:settings_returns")
