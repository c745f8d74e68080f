"""Warranty and repair: register sold units and look them up by serial number / IMEI, warranty
terms and reminder settings (admins), claims and repair orders. The same services and selectors as
the agent UI's warranty pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router
from ninja.responses import Status

from aftersales.warranty.selectors import (
    claim_get,
    claims_list,
    repair_get,
    repairs_list,
    term_get,
    terms_list,
    unit_get,
    unit_lookup,
    warranty_settings,
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
    units_register,
)
from aftersales.warranty.units_import import example_csv, units_import

from ..auth import current_user
from ..schemas.common import ErrorOut, Id, with_errors
from ..schemas.warranty import (
    ClaimIn,
    ClaimOut,
    ClaimStatusIn,
    ClaimStatusName,
    ClaimSummaryOut,
    OrderUnitsIn,
    RepairOut,
    RepairStatusIn,
    ReplacementShipIn,
    ResolveIn,
    SettingsIn,
    SettingsOut,
    TermIn,
    TermOut,
    UnitIn,
    UnitOut,
    UnitsCsvImportOut,
    UnitsImportIn,
    UnitWarrantyOut,
    claim_out,
    claim_summary,
    repair_out,
    unit_out,
    unit_warranty_out,
    units_csv_out,
)
from .language_config import CSV_REQUEST, _uploaded_csv

router = Router(tags=["warranty"])


@router.post("/warranty/units", response=with_errors({201: UnitOut}))
def register_unit(request: HttpRequest, payload: UnitIn) -> Status[Any]:
    """Register one sold unit. 422 names the field (an IMEI failing its Luhn check, an unknown SKU,
    dates out of range); 409 when the serial number or IMEI is already registered."""
    units = units_register(user=current_user(request), rows=[payload.to_input()])
    return Status(201, unit_out(units[0]))


@router.post("/warranty/units/import", response=with_errors({201: list[UnitOut]}))
def import_units(request: HttpRequest, payload: UnitsImportIn) -> Status[Any]:
    """Register up to 1000 units at once, all or nothing: an error names `units[i].field`."""
    units = units_register(user=current_user(request), rows=[u.to_input() for u in payload.units])
    return Status(201, [unit_out(u) for u in units])


@router.post(
    "/warranty/units/import-csv",
    response={**with_errors({200: UnitsCsvImportOut, 201: UnitsCsvImportOut}), 415: ErrorOut},
    openapi_extra={"requestBody": CSV_REQUEST},
)
def import_units_csv(request: HttpRequest, commit: bool = True) -> Status[Any]:
    """Shipped units from a CSV file (text/csv, or the multipart field 'file'; columns order, sku or
    line_id, identifier, and optionally store: the store's id or name, for order numbers two stores
    share; UTF-8 with or without BOM or GB18030; at most 1 MB and 1000 rows; the example:
    GET /warranty/units/import-csv/example). All or nothing: an error names `row N, column X` (422;
    409 when a unit is registered on another line). A unit already registered on the same line is
    skipped (the same file twice registers once). `commit=false`: a preview, 200, nothing written."""
    result = units_import(user=current_user(request), content=_uploaded_csv(request), commit=commit)
    return Status(201 if commit else 200, units_csv_out(result))


@router.get("/warranty/units/import-csv/example")
def units_csv_example(request: HttpRequest) -> HttpResponse:
    """The example CSV of shipped units (UTF-8 with a BOM)."""
    response = HttpResponse(example_csv(user=current_user(request)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="shipped-units-example.csv"'
    return response


@router.post("/warranty/orders/{order_id}/units", response=with_errors({201: list[UnitOut]}))
def register_order_units(request: HttpRequest, order_id: Id, payload: OrderUnitsIn) -> Status[Any]:
    """The shipped units of an order whose platform reports no IMEI / serial number: per order line,
    its units' identifiers (an IMEI when 14-16 digits, Luhn-checked; else a serial number). All or
    nothing; errors name `line_<order_line_id>` (422 bad IMEI or too many units, 409 known unit)."""
    identifiers: dict[int, str] = {}
    for line in payload.lines:
        identifiers[line.order_line_id] = "\n".join([identifiers.get(line.order_line_id, ""), *line.identifiers])
    units = order_units_register(user=current_user(request), order_id=order_id, identifiers=identifiers)
    return Status(201, [unit_out(u) for u in units])


@router.get("/warranty/units/lookup", response=with_errors({200: UnitWarrantyOut}))
def lookup_unit(request: HttpRequest, q: str = Query(..., min_length=1, max_length=100)) -> Any:
    """A unit by IMEI or serial number: the term that applies, in / out of warranty with days
    left (today, in the store's time zone) and its claims. An IMEI failing its check is a 422."""
    return unit_warranty_out(unit_lookup(current_user(request), q))


@router.get("/warranty/units/{unit_id}", response=with_errors({200: UnitWarrantyOut}))
def get_unit(request: HttpRequest, unit_id: Id) -> Any:
    return unit_warranty_out(unit_get(current_user(request), unit_id))


@router.get("/warranty/terms", response=with_errors({200: list[TermOut]}))
def list_warranty_terms(request: HttpRequest) -> Any:
    """The organization's warranty terms. Admins only."""
    return terms_list(current_user(request))


def _term_values(payload: TermIn) -> dict[str, Any]:
    return {
        "category": payload.category.value if payload.category else "",
        "region": payload.region,
        "customer_tier": payload.customer_tier.value if payload.customer_tier else "",
        "months": payload.months,
        "note": payload.note,
    }


@router.post("/warranty/terms", response=with_errors({201: TermOut}))
def create_warranty_term(request: HttpRequest, payload: TermIn) -> Status[Any]:
    """Add a term (category, region, customer tier, months); units are re-dated. Admins only."""
    return Status(201, term_save(user=current_user(request), **_term_values(payload)))


@router.get("/warranty/terms/{term_id}", response=with_errors({200: TermOut}))
def get_warranty_term(request: HttpRequest, term_id: Id) -> Any:
    return term_get(current_user(request), term_id)


@router.put("/warranty/terms/{term_id}", response=with_errors({200: TermOut}))
def update_warranty_term(request: HttpRequest, term_id: Id, payload: TermIn) -> Any:
    return term_save(user=current_user(request), term_id=term_id, **_term_values(payload))


@router.delete("/warranty/terms/{term_id}", response=with_errors({204: None}))
def delete_warranty_term(request: HttpRequest, term_id: Id) -> Status[None]:
    term_delete(user=current_user(request), term_id=term_id)
    return Status(204, None)


@router.get("/warranty/settings", response=with_errors({200: SettingsOut}))
def get_warranty_settings(request: HttpRequest) -> Any:
    """Expiry reminders: on or off, how many days before, the reply template. Admins only."""
    return warranty_settings(current_user(request))


@router.put("/warranty/settings", response=with_errors({200: SettingsOut}))
def save_warranty_settings(request: HttpRequest, payload: SettingsIn) -> Any:
    return settings_save(
        user=current_user(request),
        reminders_enabled=payload.reminders_enabled,
        reminder_days_before=payload.reminder_days_before,
        reminder_template_id=payload.reminder_template_id,
    )


@router.get("/warranty/claims", response=with_errors({200: list[ClaimSummaryOut]}))
def list_warranty_claims(request: HttpRequest, status: ClaimStatusName | None = None) -> Any:
    """The latest 200 claims, newest first, optionally of one status."""
    claims = claims_list(current_user(request), status=status.value if status else None)
    return [claim_summary(c) for c in claims]


@router.post("/warranty/claims", response=with_errors({201: ClaimOut}))
def open_warranty_claim(request: HttpRequest, payload: ClaimIn) -> Status[Any]:
    """Open a claim on a unit. Out of warranty: 409 `out_of_warranty` unless an approver gives
    `override_reason`. One open claim per unit."""
    user = current_user(request)
    claim = claim_open(
        user=user,
        unit_id=payload.unit_id,
        problem=payload.problem,
        ticket_id=payload.ticket_id,
        claimed_at=payload.claimed_at,
        override_reason=payload.override_reason,
    )
    return Status(201, claim_out(claim_get(user, claim.pk)))


@router.get("/warranty/claims/{claim_id}", response=with_errors({200: ClaimOut}))
def get_warranty_claim(request: HttpRequest, claim_id: Id) -> Any:
    """A claim with its timeline (who did what and when) and its repair orders."""
    return claim_out(claim_get(current_user(request), claim_id))


@router.post("/warranty/claims/{claim_id}/status", response=with_errors({200: ClaimOut}))
def change_warranty_claim_status(request: HttpRequest, claim_id: Id, payload: ClaimStatusIn) -> Any:
    """under_review, approved / rejected (approvers; a rejection needs a reason), cancelled (with a
    reason), closed (after a replacement). 409 for a move the workflow does not allow."""
    user = current_user(request)
    claim_change_status(user=user, claim_id=claim_id, status=payload.status.value, reason=payload.reason)
    return claim_out(claim_get(user, claim_id))


@router.post("/warranty/claims/{claim_id}/resolve", response=with_errors({200: ClaimOut}))
def resolve_warranty_claim(request: HttpRequest, claim_id: Id, payload: ResolveIn) -> Any:
    """An approved claim: a repair order, or a pending replacement request."""
    user = current_user(request)
    claim_resolve(user=user, claim_id=claim_id, resolution=payload.resolution.value, note=payload.note)
    return claim_out(claim_get(user, claim_id))


@router.post("/warranty/claims/{claim_id}/replacement/reserve", response=with_errors({200: ClaimOut}))
def reserve_warranty_replacement(request: HttpRequest, claim_id: Id) -> Any:
    """Try again to reserve an out-of-stock replacement unit (the claim's `replacement` says whether
    it is reserved or still out of stock). 404 when the claim has no replacement, 409 once shipped."""
    user = current_user(request)
    replacement_retry(user=user, claim_id=claim_id)
    return claim_out(claim_get(user, claim_id))


@router.post("/warranty/claims/{claim_id}/replacement/ship", response=with_errors({200: ClaimOut}))
def ship_warranty_replacement(request: HttpRequest, claim_id: Id, payload: ReplacementShipIn) -> Any:
    """The reserved replacement shipped: stock leaves the ledger once, `replacement.fulfilled_at` is
    set (asked again: answered as it is). 409 when no stock is reserved."""
    user = current_user(request)
    replacement_ship(user=user, claim_id=claim_id, carrier=payload.carrier, tracking_number=payload.tracking_number)
    return claim_out(claim_get(user, claim_id))


@router.get("/warranty/repairs", response=with_errors({200: list[RepairOut]}))
def list_repair_orders(request: HttpRequest, open_only: bool = False) -> Any:
    """The latest 200 repair orders, newest first (`open_only`: not closed or cancelled)."""
    return [repair_out(r) for r in repairs_list(current_user(request), open_only=open_only)]


@router.get("/warranty/repairs/{repair_id}", response=with_errors({200: RepairOut}))
def get_repair_order(request: HttpRequest, repair_id: Id) -> Any:
    return repair_out(repair_get(current_user(request), repair_id))


@router.post("/warranty/repairs/{repair_id}/status", response=with_errors({200: RepairOut}))
def change_repair_order_status(request: HttpRequest, repair_id: Id, payload: RepairStatusIn) -> Any:
    """received, diagnosing, repairing, shipped_back (with the return tracking number), closed
    (closes the claim), cancelled (with a reason; the claim goes back to approved)."""
    user = current_user(request)
    repair_advance(
        user=user,
        repair_id=repair_id,
        status=payload.status.value,
        reason=payload.reason,
        diagnosis=payload.diagnosis,
        carrier=payload.carrier,
        tracking_number=payload.tracking_number,
    )
    return repair_out(repair_get(user, repair_id))
