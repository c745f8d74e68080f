"""The inspection checklist of a returned unit, per product category (issue 10, section 3). Pure,
except `shipped_identifiers` (reads the warranty registry of sold units).

Phones: the IMEI read from the unit must match the unit shipped (warranty's SoldUnit registry for
the order line; else the IMEI the buyer gave), the activation lock must be off, the screen intact.
Computers (laptops, tablets): the serial matches and a hardware check (powers on, keyboard, screen,
battery, ports). Accessories and everything else: a quick check (complete and undamaged).
A line passes when every item passes. Its disposition follows: a passed unit is restocked (or sent to
refurbishment if the inspector says so), a failed one is refurbished or written off, never restocked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.core.errors import ValidationFailed


@dataclass(frozen=True)
class QcItem:
    code: str
    label: Any  # lazy text
    automatic: bool = False  # decided by comparing identifiers, not by the inspector


IMEI_MATCHES = QcItem("imei_matches", gettext_lazy("IMEI matches the unit shipped"), automatic=True)
SERIAL_MATCHES = QcItem("serial_matches", gettext_lazy("Serial number matches the unit shipped"), automatic=True)
PHONE = (
    IMEI_MATCHES,
    QcItem("activation_lock_off", gettext_lazy("Activation lock (Find My / FRP) is off")),
    QcItem("screen_ok", gettext_lazy("Screen intact, no dead pixels")),
    QcItem("body_ok", gettext_lazy("Body without damage beyond the buyer's description")),
)
COMPUTER = (
    SERIAL_MATCHES,
    QcItem("powers_on", gettext_lazy("Powers on and boots")),
    QcItem("hardware_ok", gettext_lazy("Hardware check: keyboard, screen, battery, ports")),
    QcItem("accounts_removed", gettext_lazy("Buyer's accounts and locks removed")),
)
ELECTRONICS = (
    QcItem("powers_on", gettext_lazy("Powers on and works")),
    QcItem("complete", gettext_lazy("Complete with accessories and packaging")),
)
QUICK = (QcItem("complete_undamaged", gettext_lazy("Complete and undamaged")),)

CHECKLISTS: dict[str, tuple[QcItem, ...]] = {
    "phones": PHONE,
    "computers": COMPUTER,
    "consumer_electronics": ELECTRONICS,
}

DISPOSITIONS = ("restock", "refurbish", "write_off")
PASSED_DISPOSITIONS = ("restock", "refurbish")
FAILED_DISPOSITIONS = ("refurbish", "write_off")


def checklist_for(category: str) -> tuple[QcItem, ...]:
    return CHECKLISTS.get(category, QUICK)


@dataclass(frozen=True)
class QcLineResult:
    passed: bool
    items: list[dict[str, Any]]
    disposition: str
    imei: str
    serial_number: str


def _normalise_id(value: str) -> str:
    return "".join(ch for ch in value.upper() if ch.isalnum())


def judge_line(
    *,
    category: str,
    answers: Any,
    field: str,
    imei: str = "",
    serial_number: str = "",
    shipped_imeis: frozenset[str] = frozenset(),
    shipped_serials: frozenset[str] = frozenset(),
    disposition: str | None = None,
) -> QcLineResult:
    """One line's checklist judged. `answers` maps each non-automatic item's code to true/false; the
    automatic items compare the identifier read at inspection with the ones shipped (no record
    shipped: the inspector answers it too). Raises ValidationFailed naming `field`.<code>."""
    if not isinstance(answers, dict):
        raise ValidationFailed(
            _("%(f)s.checklist: must be an object of item: true/false") % {"f": field}, field=f"{field}.checklist"
        )
    items = checklist_for(category)
    known = {item.code for item in items}
    for code in answers:
        if code not in known:
            raise ValidationFailed(
                _("%(f)s.checklist.%(code)s: not an item of this checklist (%(known)s)")
                % {"f": field, "code": code, "known": ", ".join(sorted(known))},
                field=f"{field}.checklist.{code}",
            )
    out: list[dict[str, Any]] = []
    for item in items:
        note = ""
        if item is IMEI_MATCHES and shipped_imeis:
            if not imei:
                raise ValidationFailed(_("%(f)s.imei: read the unit's IMEI") % {"f": field}, field=f"{field}.imei")
            passed = _normalise_id(imei) in {_normalise_id(x) for x in shipped_imeis}
            note = _("shipped: %(ids)s") % {"ids": ", ".join(sorted(shipped_imeis))}
        elif item is SERIAL_MATCHES and shipped_serials:
            if not serial_number:
                raise ValidationFailed(
                    _("%(f)s.serial_number: read the unit's serial number") % {"f": field},
                    field=f"{field}.serial_number",
                )
            passed = _normalise_id(serial_number) in {_normalise_id(x) for x in shipped_serials}
            note = _("shipped: %(ids)s") % {"ids": ", ".join(sorted(shipped_serials))}
        else:
            value = answers.get(item.code)
            if not isinstance(value, bool):
                raise ValidationFailed(
                    _("%(f)s.checklist.%(code)s: answer true or false") % {"f": field, "code": item.code},
                    field=f"{field}.checklist.{item.code}",
                )
            passed = value
            if item.automatic:
                note = _("no shipped identifier on record: the inspector's answer")
        out.append({"code": item.code, "label": str(item.label), "passed": passed, "note": note})
    line_passed = all(x["passed"] for x in out)
    allowed = PASSED_DISPOSITIONS if line_passed else FAILED_DISPOSITIONS
    chosen = disposition or allowed[0]
    if chosen not in allowed:
        raise ValidationFailed(
            _("%(f)s.disposition: one of %(allowed)s for a unit that %(result)s")
            % {"f": field, "allowed": ", ".join(allowed), "result": _("passed") if line_passed else _("failed")},
            field=f"{field}.disposition",
        )
    return QcLineResult(line_passed, out, chosen, imei, serial_number)


def shipped_identifiers(organization_id: int, order_line_id: int) -> tuple[frozenset[str], frozenset[str]]:
    """The IMEIs and serial numbers of the units sold on an order line (warranty's registry)."""
    from aftersales.warranty.models import SoldUnit

    rows = SoldUnit.objects.filter(organization_id=organization_id, order_line_id=order_line_id).values_list(
        "imei", "serial_number"
    )
    imeis = frozenset(i for i, _s in rows if i)
    serials = frozenset(s for _i, s in rows if s)
    return imeis, serials
