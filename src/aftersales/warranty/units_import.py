"""Shipped units from a CSV file (issue 10 §6): the seller's warehouse export of which IMEI / serial
number left in which order, for platforms that report none (eBay, Shopify; Amazon only for FBA).

One row per unit, a header naming the columns (case and spaces ignored, aliases accepted, also the
Chinese names 订单号 / 行号 / 序列号 / 串号):

    order       the order number on the platform (Order.external_id)         required
    sku         the SKU of the order's line                                  sku or line_id
    line_id     our order line id (when the order has two lines with one SKU)
    identifier  the IMEI or serial number: 14-16 digits (separators allowed)  required
                is an IMEI and must pass its Luhn check (python-stdnum), anything
                else a serial number (the same rule as the one-order form)
    store       the store of the order: its id or its name as Settings > Stores  optional
                shows it (case ignored), one of the organization's stores; needed
                when orders of two stores have the same number (店铺 in Chinese)

`EXAMPLE_CSV` is the downloadable example. Limits: MAX_BYTES, MAX_ROWS data rows. Encoding sniffed:
UTF-8 with or without a BOM, else GB18030 (Excel's "CSV" on a Chinese Windows); comma, semicolon or
tab separated (the header decides). All or nothing per file: every row is resolved and checked, then
the units are written by the one writer of sold units (services.units_register: the same checks as
the API's and the order form's), in one transaction; any problem names `row N, column X` (N counts
the header as row 1, like a spreadsheet) and nothing is written. Idempotent: a row whose unit is
already registered on the same order line is skipped, so the same file twice registers once. With
`commit=False` (the preview) nothing is written and the result says what would be."""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from aftersales.accounts.models import Permission, User
from aftersales.accounts.permissions import check_perm, organization_of
from aftersales.catalog.models import Order, OrderLine, Store
from aftersales.core.errors import Conflict, DomainError, ValidationFailed

from .models import SoldUnit
from .serials import looks_like_imei, normalise_imei, normalise_serial
from .services import MAX_IMPORT, UnitInput, check_units, units_register

MAX_BYTES = 1024 * 1024
MAX_ROWS = MAX_IMPORT
COLUMNS = ("order", "sku", "line_id", "identifier", "store")
ALIASES = {
    "order": "order",
    "order number": "order",
    "order no": "order",
    "order_number": "order",
    "platform order id": "order",
    "order id": "order",
    "sku": "sku",
    "line": "line_id",
    "line id": "line_id",
    "line_id": "line_id",
    "order line": "line_id",
    "identifier": "identifier",
    "imei": "identifier",
    "serial": "identifier",
    "serial number": "identifier",
    "serial_number": "identifier",
    "imei/serial": "identifier",
    "serial/imei": "identifier",
    "imei or serial": "identifier",
    "store": "store",
    "store id": "store",
    "store_id": "store",
    "store name": "store",
    "shop": "store",
    # the same columns as a seller in China names them
    "订单号": "order",
    "订单编号": "order",
    "行号": "line_id",
    "序列号": "identifier",
    "串号": "identifier",
    "imei/序列号": "identifier",
    "店铺": "store",
    "店铺名称": "store",
}
EXAMPLE_CSV = (
    "order,sku,line_id,identifier,store\n"
    "1001-2026,PHONE-X12,,490154203237518,\n"
    "1001-2026,LAPTOP-A3,,SN-5CD1234XYZ,\n"
    "1002-2026,,48213,353918050052937,Gadgets DE\n"
)


@dataclass(frozen=True)
class ImportRow:
    row: int  # the spreadsheet row (the header is row 1)
    order_number: str
    order_id: int
    store_id: int
    store_name: str
    line_id: int
    sku: str
    kind: str  # imei | serial_number
    value: str  # normalised
    already_registered: bool


@dataclass(frozen=True)
class UnitsImport:
    rows: tuple[ImportRow, ...]
    registered: int  # written now (0 in a preview)
    skipped: int  # already registered on the same line (the file was imported before)
    committed: bool

    @property
    def to_register(self) -> int:
        return sum(1 for r in self.rows if not r.already_registered)


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed(message, field="file")


def decode_csv(content: bytes) -> str:
    """The file's text: UTF-8 (a BOM is dropped), else GB18030; anything else refused."""
    if content.startswith(codecs.BOM_UTF8):
        content = content[len(codecs.BOM_UTF8) :]
    for encoding in ("utf-8", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _refuse(_("file: not UTF-8 or GB18030 text; save it as CSV UTF-8"))


def _header(cells: list[str]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, cell in enumerate(cells):
        name = ALIASES.get(re.sub(r"\s+", " ", cell.strip().lower()))
        if name is not None and name not in positions:
            positions[name] = index
    if "order" not in positions or "identifier" not in positions or not ({"sku", "line_id"} & set(positions)):
        raise _refuse(_("file: the first row must name the columns order, identifier and sku or line_id"))
    return positions


def _where(row: int, column: str) -> str:
    return _("row %(row)d, column %(column)s") % {"row": row, "column": column}


def _parse(content: bytes) -> list[tuple[int, dict[str, str]]]:
    if not isinstance(content, bytes) or not content.strip():
        raise _refuse(_("file: upload a CSV file"))
    if len(content) > MAX_BYTES:
        raise _refuse(_("file: larger than %(kb)d KB") % {"kb": MAX_BYTES // 1024})
    text = decode_csv(content)
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        cells = next(reader, None)
        if cells is None:
            raise _refuse(_("file: upload a CSV file"))
        positions = _header(cells)
        rows: list[tuple[int, dict[str, str]]] = []
        for record in reader:
            if not any(c.strip() for c in record):
                continue
            if len(rows) == MAX_ROWS:
                raise _refuse(_("file: at most %(count)d rows of units") % {"count": MAX_ROWS})
            rows.append(
                (
                    reader.line_num,
                    {k: (record[i].strip() if i < len(record) else "") for k, i in positions.items()},
                )
            )
    except csv.Error as exc:
        raise _refuse(_("file: not a readable CSV file (%(error)s)") % {"error": exc}) from exc
    if not rows:
        raise _refuse(_("file: no rows of units under the header"))
    return rows


class _Stores:
    """The organization's stores (read once per file), found by id or by name as the UI shows it."""

    def __init__(self, organization_id: int) -> None:
        self.by_id: dict[int, int] = {}
        self.by_name: dict[str, list[int]] = {}
        for pk, name in Store.objects.filter(organization_id=organization_id).values_list("pk", "name"):
            self.by_id[pk] = pk
            self.by_name.setdefault(name.strip().casefold(), []).append(pk)

    def find(self, row: int, value: str) -> int:
        matches = self.by_name.get(value.strip().casefold(), [])
        if len(matches) > 1:
            raise _refuse(
                _("%(where)s: several stores have this name; give the store id") % {"where": _where(row, "store")}
            )
        if matches:
            return matches[0]
        if value.isascii() and value.isdigit() and int(value) in self.by_id:
            return int(value)
        raise _refuse(_("%(where)s: no store with this id or name") % {"where": _where(row, "store")})


def _resolve(organization_id: int, parsed: list[tuple[int, dict[str, str]]]) -> list[ImportRow]:
    orders: dict[tuple[str, int | None], list[Order]] = {}
    lines: dict[int, list[OrderLine]] = {}
    stores: _Stores | None = None
    out: list[ImportRow] = []
    for row, cells in parsed:
        number = cells["order"]
        if not number:
            raise _refuse(_("%(where)s: required") % {"where": _where(row, "order")})
        store_id: int | None = None
        if cells.get("store"):
            stores = stores or _Stores(organization_id)
            store_id = stores.find(row, cells["store"])
        if (number, store_id) not in orders:
            found_orders = Order.objects.filter(
                organization_id=organization_id, external_id=number[:120]
            ).select_related("store")
            if store_id is not None:
                found_orders = found_orders.filter(store_id=store_id)
            orders[number, store_id] = list(found_orders[:2])
        found = orders[number, store_id]
        if not found:
            if store_id is not None:
                raise _refuse(_("%(where)s: the store has no order with this number") % {"where": _where(row, "order")})
            raise _refuse(_("%(where)s: no order with this number") % {"where": _where(row, "order")})
        if len(found) > 1:
            raise _refuse(
                _("%(where)s: orders of several stores have this number; add the store column")
                % {"where": _where(row, "order")}
            )
        order = found[0]
        if order.pk not in lines:
            lines[order.pk] = list(OrderLine.objects.filter(order=order).order_by("pk"))
        line = _line(row, cells, lines[order.pk])
        value = cells["identifier"]
        if not value:
            raise _refuse(_("%(where)s: required") % {"where": _where(row, "identifier")})
        where = _where(row, "identifier")
        kind = "imei" if looks_like_imei(value) else "serial_number"
        try:  # the registry's own checks (python-stdnum's Luhn for an IMEI)
            value = normalise_imei(value, field=where) if kind == "imei" else normalise_serial(value, field=where)
        except ValidationFailed as exc:
            raise _refuse(exc.message) from exc
        already = SoldUnit.objects.filter(organization_id=organization_id, order_line=line, **{kind: value}).exists()
        out.append(
            ImportRow(row, number, order.pk, order.store_id, order.store.name, line.pk, line.sku, kind, value, already)
        )
    return out


def _line(row: int, cells: dict[str, str], order_lines: list[OrderLine]) -> OrderLine:
    line_id = cells.get("line_id", "")
    if line_id:
        if not (line_id.isascii() and line_id.isdigit()):
            raise _refuse(_("%(where)s: must be a whole number") % {"where": _where(row, "line_id")})
        match = [x for x in order_lines if x.pk == int(line_id)]
        if not match:
            raise _refuse(_("%(where)s: not a line of this order") % {"where": _where(row, "line_id")})
        if cells.get("sku") and match[0].sku != cells["sku"]:
            raise _refuse(
                _("%(where)s: the line's SKU is %(sku)s") % {"where": _where(row, "sku"), "sku": match[0].sku}
            )
        return match[0]
    sku = cells.get("sku", "")
    if not sku:
        raise _refuse(_("%(where)s: give the SKU or the line_id") % {"where": _where(row, "sku")})
    match = [x for x in order_lines if x.sku == sku]
    if not match:
        raise _refuse(_("%(where)s: the order has no line with this SKU") % {"where": _where(row, "sku")})
    if len(match) > 1:
        raise _refuse(
            _("%(where)s: the order has several lines with this SKU; give the line_id") % {"where": _where(row, "sku")}
        )
    return match[0]


_UNIT_FIELD = re.compile(r"^units\[(\d+)\]\.(\w+)")
_COLUMN_OF = {"imei": "identifier", "serial_number": "identifier", "order_line_id": "line_id"}


def _named_by_row(exc: DomainError, pending: list[ImportRow]) -> DomainError:
    """A refusal of units_register / check_units (`units[i].imei: ...`, or `imei: ...` for one unit)
    said in the file's terms (`row N, column identifier: ...`)."""
    field = exc.field or ""
    match = _UNIT_FIELD.match(field)
    index, name = (int(match.group(1)), match.group(2)) if match else (0, field)
    if not match and len(pending) != 1:
        return _refuse(f"file: {exc.message}")
    where = _where(pending[index].row, _COLUMN_OF.get(name, name))
    message = exc.message
    for prefix in (field, name):
        if prefix and message.startswith(prefix):
            message = message[len(prefix) :].lstrip(": ")
            break
    text = f"{where}: {message}"
    return Conflict(text, field="file") if isinstance(exc, Conflict) else _refuse(text)


def units_import(*, user: User, content: bytes, commit: bool) -> UnitsImport:
    """Read, resolve and check a CSV file of shipped units; with `commit`, register the new ones
    (all or nothing, units_register's one transaction). Needs PROCESS. See the module docstring."""
    check_perm(user, Permission.PROCESS)
    organization_id = organization_of(user)
    rows = _resolve(organization_id, _parse(content))
    seen: dict[tuple[str, str], int] = {}
    for r in rows:
        if (r.kind, r.value) in seen:
            raise _refuse(
                _("%(where)s: also on row %(other)d")
                % {"where": _where(r.row, "identifier"), "other": seen[r.kind, r.value]}
            )
        seen[r.kind, r.value] = r.row
    pending = [r for r in rows if not r.already_registered]
    inputs = [
        UnitInput(
            order_line_id=r.line_id,
            imei=r.value if r.kind == "imei" else "",
            serial_number=r.value if r.kind == "serial_number" else "",
        )
        for r in pending
    ]
    registered = 0
    if inputs:
        try:
            if commit:
                registered = len(units_register(user=user, rows=inputs))
            else:
                check_units(organization_id, inputs)
        except (ValidationFailed, Conflict) as exc:
            raise _named_by_row(exc, pending) from exc
    return UnitsImport(rows=tuple(rows), registered=registered, skipped=len(rows) - len(pending), committed=commit)


def example_csv(*, user: User) -> bytes:
    """The downloadable example (UTF-8 with a BOM, so Excel opens it as UTF-8). Needs VIEW."""
    check_perm(user, Permission.VIEW)
    return codecs.BOM_UTF8 + EXAMPLE_CSV.encode()


__all__ = ["COLUMNS", "EXAMPLE_CSV", "ImportRow", "UnitsImport", "example_csv", "units_import"]
