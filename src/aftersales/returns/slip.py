"""The printable RMA slip (issue 10, section 3): a one-page PDF the buyer puts in the parcel and the
warehouse scans. It carries the RMA number (also as a Code 128 barcode), the store and order, the
return address (the RMA's return warehouse), the lines, and the instructions in the buyer's language
(gettext under translation.override: en, zh-Hans, de, es, fr; returns/locale holds de, es and fr).
Chinese text is set in reportlab's built-in CID font STSong-Light (no font file needed); the rest in
Helvetica. Served only to who may see the RMA (returns.access)."""

from __future__ import annotations

import io
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from aftersales.language.languages import normalise

from .models import Rma
from .notify import return_address
from .rma_selectors import rma_get

CJK_FONT = "STSong-Light"
LATIN_FONT = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"
SLIP_LANGUAGES = {"en": "en", "zh": "zh-hans", "de": "de", "es": "es", "fr": "fr"}
_registered = False


def _fonts() -> None:
    # reportlab (and Pillow under it) load only when a slip is printed: a web process starts
    # without them (language/tests/test_web_memory.py, issue 13's memory budget).
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
        _registered = True


def _needs_cjk(text: str) -> bool:
    return any(ord(ch) > 0x2E7F for ch in text)


def _font_for(text: str, *, bold: bool = False) -> str:
    if _needs_cjk(text):
        return CJK_FONT
    return LATIN_BOLD if bold else LATIN_FONT


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines of `text` no wider than `width` (by words, or by characters for CJK)."""
    from reportlab.pdfbase import pdfmetrics

    out: list[str] = []
    for paragraph in text.split("\n"):
        units = list(paragraph) if font == CJK_FONT else paragraph.split(" ")
        joiner = "" if font == CJK_FONT else " "
        line = ""
        for unit in units:
            candidate = f"{line}{joiner}{unit}" if line else unit
            if pdfmetrics.stringWidth(candidate, font, size) <= width:
                line = candidate
            else:
                if line:
                    out.append(line)
                line = unit
        out.append(line)
    return out


def slip_language(rma: Rma) -> str:
    code = normalise(rma.buyer_language or (rma.ticket.language if rma.ticket_id and rma.ticket else ""))
    return SLIP_LANGUAGES.get(code, "en")


def instructions(rma: Rma, language: str) -> list[str]:
    """The buyer's instructions, in `language` (a Django language code)."""
    with translation.override(language):
        steps = [
            _("Put this slip in the parcel with the item and all its accessories."),
            _("Write the RMA number %(number)s on the outside of the parcel.") % {"number": rma.number},
        ]
        if rma.label_source:
            steps.append(_("Stick the return label on the parcel and hand it to the carrier."))
        else:
            steps.append(_("Send the parcel to the return address below with a tracked service."))
        if rma.return_shipping_paid_by == "buyer":
            steps.append(_("Return shipping is paid by you."))
        elif rma.return_shipping_paid_by == "seller":
            steps.append(_("Return shipping is paid by us."))
        steps.append(_("Keep the tracking number until your return is complete."))
        return [
            _("Return instructions"),
            *[f"{i}. {step}" for i, step in enumerate(steps, start=1)],
        ]


def render_slip(rma: Rma) -> bytes:
    """The slip of `rma` as PDF bytes."""
    from reportlab.graphics.barcode import code128
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    _fonts()
    language = slip_language(rma)
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=0)
    pdf.setTitle(f"{rma.number}")
    pdf.setAuthor(rma.store.name)
    width, height = A4
    left = 18 * mm
    usable = width - 2 * left
    y = height - 20 * mm

    def text(value: str, size: float = 10, *, bold: bool = False, gap: float = 1.35) -> None:
        nonlocal y
        font = _font_for(value, bold=bold)
        for line in _wrap(value, font, size, usable):
            pdf.setFont(font, size)
            pdf.drawString(left, y, line)
            y -= size * gap

    with translation.override(language):
        title = _("Return slip")
        order_label = _("Order %(number)s") % {"number": rma.order.external_id}
        address_title = _("Return address")
        no_address = _("The return address will be sent to you by message.")
        lines_title = _("Items")
        qty_label = _("Qty")
    text(f"{title} · {rma.store.name}", 14, bold=True)
    y -= 2 * mm
    text(rma.number, 22, bold=True)
    barcode = code128.Code128(rma.number, barHeight=16 * mm, barWidth=0.45 * mm, humanReadable=False)
    barcode.drawOn(pdf, left - 6 * mm, y - 16 * mm)
    y -= 22 * mm
    text(f"{order_label}    {rma.requested_at:%Y-%m-%d}", 10)
    y -= 3 * mm
    text(address_title, 12, bold=True)
    address = return_address(rma)
    for line in address.splitlines() if address else [no_address]:
        text(line, 11)
    y -= 3 * mm
    text(lines_title, 12, bold=True)
    for rma_line in rma.lines.select_related("order_line"):
        title_text = rma_line.order_line.title or ""
        text(f"{rma_line.sku}  {title_text}  ·  {qty_label} {rma_line.quantity}", 10)
    y -= 3 * mm
    for i, instruction in enumerate(instructions(rma, language)):
        text(instruction, 12 if i == 0 else 10, bold=i == 0)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def rma_slip_pdf(*, user: Any, rma_id: Any) -> tuple[str, bytes]:
    """(RMA number, the slip's PDF) for whoever may see the RMA (NotFound otherwise)."""
    rma = rma_get(user, rma_id)
    rma = Rma.objects.select_related("store", "order", "return_warehouse", "ticket").get(pk=rma.pk)
    return rma.number, render_slip(rma)
