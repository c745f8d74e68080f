"""Warehouses (Settings → Warehouses, admins) and the Stock page (SKU search → on hand, reserved and
available per warehouse, the latest movements; goods received and count adjustments for people with
the process permission). Views parse the form and call one service or selector (inventory.*)."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm, has_perm, organization_of
from aftersales.core.errors import DomainError, PermissionDenied, ValidationFailed
from aftersales.inventory.selectors import (
    movements_view,
    skus_matching,
    stock_view,
    warehouses_view,
)
from aftersales.inventory.services import (
    MANUAL_KINDS,
    WAREHOUSE_TEXT_FIELDS,
    stock_record,
    warehouse_create,
    warehouse_update,
)

from ..access import AgentRequest, web_view

NEW_WAREHOUSE: dict[str, Any] = {
    **dict.fromkeys(WAREHOUSE_TEXT_FIELDS, ""),
    "country": "",
    "serves_countries": "",
    "is_return_hub": False,
    "is_active": True,
}


def _refusal(exc: DomainError) -> None:
    """Refusals that are not about a field of the form become the 403/404 page."""
    if isinstance(exc, PermissionDenied) or exc.status_code == 404:
        raise exc


def _warehouse_values(post: QueryDict) -> dict[str, Any]:
    values: dict[str, Any] = {name: post.get(name, "") for name in WAREHOUSE_TEXT_FIELDS}
    values["country"] = post.get("country", "")
    values["serves_countries"] = post.get("serves_countries", "")
    values["is_return_hub"] = post.get("is_return_hub") == "on"
    values["is_active"] = post.get("is_active") == "on"
    return values


def _form_values(warehouse: Any) -> dict[str, Any]:
    values = {name: getattr(warehouse, name) for name in WAREHOUSE_TEXT_FIELDS}
    values.update(
        country=warehouse.country,
        serves_countries=" ".join(warehouse.serves_countries),
        is_return_hub=warehouse.is_return_hub,
        is_active=warehouse.is_active,
    )
    return values


def _warehouses_page(
    request: AgentRequest,
    *,
    status: int = 200,
    form_for: int | str | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> HttpResponse:
    rows = [
        {
            "warehouse": w,
            "open": form_for == w.pk,
            "values": values if form_for == w.pk else _form_values(w),
            "errors": errors if form_for == w.pk else {},
        }
        for w in warehouses_view(request.user)
    ]
    context = {
        "settings_section": "warehouses",
        "rows": rows,
        "new_form": {
            "warehouse": None,
            "values": values if form_for == "new" else NEW_WAREHOUSE,
            "errors": errors if form_for == "new" else {},
        },
    }
    return render(request, "inventory/warehouses.html", context, status=status)


@web_view(methods=("GET", "POST"))
def settings_warehouses(request: AgentRequest) -> HttpResponse:
    """The organization's warehouses and return hubs, and (POST) adding one. Admins only."""
    check_perm(request.user, Permission.ADMINISTER)
    if request.method == "GET":
        return _warehouses_page(request)
    values = _warehouse_values(request.POST)
    try:
        warehouse = warehouse_create(user=request.user, values=values)
    except DomainError as exc:
        _refusal(exc)
        return _warehouses_page(
            request, status=exc.status_code, form_for="new", values=values, errors={exc.field or "code": exc.message}
        )
    messages.success(request, _("Warehouse “%(name)s” added.") % {"name": warehouse.name})
    return redirect(reverse("web:settings_warehouses") + f"#warehouse-{warehouse.pk}")


@web_view(methods=("POST",))
def settings_warehouse(request: AgentRequest, warehouse_id: int) -> HttpResponse:
    """Change a warehouse (admins)."""
    values = _warehouse_values(request.POST)
    try:
        warehouse = warehouse_update(user=request.user, warehouse_id=warehouse_id, changes=values)
    except DomainError as exc:
        _refusal(exc)
        return _warehouses_page(
            request,
            status=exc.status_code,
            form_for=warehouse_id,
            values=values,
            errors={exc.field or "code": exc.message},
        )
    messages.success(request, _("Warehouse “%(name)s” saved.") % {"name": warehouse.name})
    return redirect(reverse("web:settings_warehouses") + f"#warehouse-{warehouse.pk}")


# --- stock ---------------------------------------------------------------------------------------

MOVEMENTS_SHOWN = 25


def _stock_page(
    request: AgentRequest,
    sku: str,
    *,
    query: str = "",
    status: int = 200,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> HttpResponse:
    user = request.user
    organization_id = organization_of(user)
    rows = stock_view(user, sku) if sku else []
    context = {
        "query": query,
        "sku": sku,
        "matches": skus_matching(organization_id, query) if query and not sku else [],
        "rows": rows,
        "totals": {
            "on_hand": sum(r.on_hand for r in rows),
            "reserved": sum(r.reserved for r in rows),
            "available": sum(r.available for r in rows),
        },
        "movements": movements_view(user, sku, limit=MOVEMENTS_SHOWN).items if sku else [],
        "warehouses": warehouses_view(user),
        "can_record": has_perm(user, Permission.PROCESS),
        "kinds": MANUAL_KINDS,
        "values": values or {"kind": "receive", "quantity": "", "note": "", "warehouse_id": ""},
        "errors": errors or {},
        "record_key": uuid.uuid4().hex,
    }
    return render(request, "inventory/stock.html", context, status=status)


@web_view()
def stock_page(request: AgentRequest) -> HttpResponse:
    """Search a SKU (or a product title); one SKU shows its stock per warehouse and its latest
    movements."""
    sku = request.GET.get("sku", "").strip()[:80]
    query = request.GET.get("q", "").strip()[:80]
    if not sku and query:
        matches = skus_matching(organization_of(request.user), query)
        if len(matches) == 1:
            return redirect(reverse("web:stock") + "?" + urlencode({"sku": matches[0][0]}))
    return _stock_page(request, sku, query=query)


@web_view(methods=("POST",))
def stock_record_view(request: AgentRequest) -> HttpResponse:
    """Goods received or a count adjustment (process permission)."""
    post = request.POST
    sku = post.get("sku", "").strip()[:80]
    values = {
        "warehouse_id": post.get("warehouse_id", ""),
        "kind": post.get("kind", ""),
        "quantity": post.get("quantity", "").strip(),
        "note": post.get("note", ""),
    }
    try:
        quantity_text = values["quantity"]
        digits = quantity_text.lstrip("-")
        if not digits.isdigit() or len(digits) > 7:
            raise ValidationFailed(_("the quantity must be a whole number"), field="quantity")
        warehouse_text = values["warehouse_id"]
        if not warehouse_text.isdigit() or len(warehouse_text) > 18:
            raise ValidationFailed(_("choose a warehouse"), field="warehouse_id")
        stock_record(
            user=request.user,
            warehouse_id=int(warehouse_text),
            sku=sku,
            kind=values["kind"],
            quantity=int(quantity_text),
            idempotency_key=post.get("key", "")[:120] or uuid.uuid4().hex,
            note=values["note"],
        )
    except DomainError as exc:
        _refusal(exc)
        return _stock_page(
            request, sku, status=exc.status_code, values=values, errors={exc.field or "quantity": exc.message}
        )
    messages.success(request, _("Stock movement recorded."))
    return redirect(reverse("web:stock") + "?" + urlencode({"sku": sku}))
