"""The printable RMA slip (issue 10, section 3): a one-page PDF the buyer puts in the parcel and the
warehouse scans. It carries the RMA number (also as a Code 128 barcode), the store and order, the
return address (the RMA's return warehouse), the lines, and the instructions in the buyer's language
(gettext under translation.override: en, zh-Hans, de, es, fr, pt, it, ja, ar; returns/locale holds all
but zh-Hans, which is the agent UI's catalogue).

Fonts: Chinese is set in reportlab's built-in CID font STSong-Light and Japanese in HeiseiKakuGo-W5 (no
font file needed); Latin text in Helvetica. Arabic needs a TrueType font with Arabic glyphs (ARABIC_FONTS:
DejaVu Sans from Debian's fonts-dejavu-core, else Noto Naskh Arabic), its letters joined
(arabic-reshaper) and laid out right to left (python-bidi, base direction RTL), every line right-aligned
and the barcode on the right. RMA numbers, order numbers and dates are isolated (U+2066 ... U+2069) before
the layout so they stay left to right. Without an Arabic font the slip prints in English and says so in
the log (`slip_font_missing`); it never fails for a font. Served only to who may see the RMA
(returns.access)."""

from __future__ import annotations

import io
import logging
from functools import cache
from pathlib import Path
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from aftersales.language.languages import normalise

from .models import Rma
from .notify import return_address
from .rma_selectors import rma_get

logger = logging.getLogger(__name__)

CJK_FONT = "STSong-Light"
JA_FONT = "HeiseiKakuGo-W5"
ARABIC_FONT = "SlipArabic"
ARABIC_BOLD = "SlipArabic-Bold"
LATIN_FONT = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"
CID_FONTS = frozenset({CJK_FONT, JA_FONT})
# (regular, bold) TrueType files with Arabic glyphs, the first present is used
ARABIC_FONTS: tuple[tuple[str, str], ...] = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    (
        "/usr/share/fonts/truetype/noto/NotoNaskhArabic-Regular.ttf",
        "/usr/share/fonts/truetype/noto/NotoNaskhArabic-Bold.ttf",
    ),
)
SLIP_LANGUAGES = {
    "en": "en",
    "zh": "zh-hans",
    "de": "de",
    "es": "es",
    "fr": "fr",
    "pt": "pt",
    "it": "it",
    "ja": "ja",
    "ar": "ar",
}
RTL = frozenset({"ar"})
LRI, PDI = "\u2066", "\u2069"
_ISOLATES = str.maketrans("", "", "\u2066\u2067\u2068\u2069")
_registered = False


def _fonts() -> None:
    # reportlab (and Pillow under it) load only when a slip is printed: a web process starts
    # without them (language/tests/test_web_memory.py, issue 13's memory budget).
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
        pdfmetrics.registerFont(UnicodeCIDFont(JA_FONT))
        _registered = True


@cache
def _arabic_font() -> bool:
    """Register the Arabic TrueType font (regular and bold) once; False when none is installed."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for regular, bold in ARABIC_FONTS:
        if Path(regular).is_file():
            pdfmetrics.registerFont(TTFont(ARABIC_FONT, regular))
            pdfmetrics.registerFont(TTFont(ARABIC_BOLD, bold if Path(bold).is_file() else regular))
            return True
    return False


def _needs_cjk(text: str) -> bool:
    return any(ord(ch) > 0x2E7F for ch in text)


def _font_for(text: str, language: str, *, bold: bool = False) -> str:
    if language in RTL:
        return ARABIC_BOLD if bold else ARABIC_FONT
    if _needs_cjk(text):
        return JA_FONT if language == "ja" else CJK_FONT
    return LATIN_BOLD if bold else LATIN_FONT


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines of `text` no wider than `width` (by words, or by characters for CJK)."""
    from reportlab.pdfbase import pdfmetrics

    out: list[str] = []
    for paragraph in text.split("\n"):
        units = list(paragraph) if font in CID_FONTS else paragraph.split(" ")
        joiner = "" if font in CID_FONTS else " "
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


def has_rtl(text: str) -> bool:
    """Whether `text` has Hebrew or Arabic letters (a line without them is drawn as it is written)."""
    return any("\u0590" <= ch <= "\u08ff" or "\ufb1d" <= ch <= "\ufeff" for ch in text)


def visual_rtl(line: str) -> str:
    """A logical right-to-left line as drawn: Arabic letters in their joined forms, the runs in visual
    order (paragraph direction RTL), the isolate marks removed once they have done their work."""
    import arabic_reshaper
    from bidi import get_display

    return str(get_display(arabic_reshaper.reshape(line), base_dir="R")).translate(_ISOLATES)


def ltr(value: str, language: str) -> str:
    """`value` (an RMA or order number, a date) kept left to right inside right-to-left text."""
    return f"{LRI}{value}{PDI}" if language in RTL else value


def slip_language(rma: Rma) -> str:
    """The slip's language: the buyer's, if the slip is written in it and (Arabic) its font is
    installed; else English."""
    code = normalise(rma.buyer_language or (rma.ticket.language if rma.ticket_id and rma.ticket else ""))
    language = SLIP_LANGUAGES.get(code, "en")
    if language in RTL and not _arabic_font():
        logger.warning(
            "RMA slip %s printed in English: no font with Arabic glyphs is installed (%s)",
            rma.number,
            ", ".join(regular for regular, _bold in ARABIC_FONTS),
            extra={"event": "slip_font_missing", "rma_id": rma.pk, "language": language},
        )
        return "en"
    return language


def instructions(rma: Rma, language: str) -> list[str]:
    """The buyer's instructions, in `language` (a Django language code)."""
    with translation.override(language):
        steps = [
            _("Put this slip in the parcel with the item and all its accessories."),
            _("Write the RMA number %(number)s on the outside of the parcel.") % {"number": ltr(rma.number, language)},
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
    rtl = language in RTL
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
        font = _font_for(value, language, bold=bold)
        for line in _wrap(value, font, size, usable):
            pdf.setFont(font, size)
            if rtl:  # right-aligned; a line of Arabic laid out right to left, an address line as written
                pdf.drawRightString(left + usable, y, visual_rtl(line) if has_rtl(line) else line.translate(_ISOLATES))
            else:
                pdf.drawString(left, y, line)
            y -= size * gap

    with translation.override(language):
        title = _("Return slip")
        order_label = _("Order %(number)s") % {"number": ltr(rma.order.external_id, language)}
        address_title = _("Return address")
        no_address = _("The return address will be sent to you by message.")
        lines_title = _("Items")
        qty_label = _("Qty")
    text(f"{title} · {rma.store.name}", 14, bold=True)
    y -= 2 * mm
    text(rma.number, 22, bold=True)
    barcode = code128.Code128(rma.number, barHeight=16 * mm, barWidth=0.45 * mm, humanReadable=False)
    barcode.drawOn(pdf, left + usable - barcode.width + 6 * mm if rtl else left - 6 * mm, y - 16 * mm)
    y -= 22 * mm
    text(f"{order_label}    {ltr(f'{rma.requested_at:%Y-%m-%d}', language)}", 10)
    y -= 3 * mm
    text(address_title, 12, bold=True)
    address = return_address(rma)
    for line in address.splitlines() if address else [no_address]:
        text(line, 11)
    y -= 3 * mm
    text(lines_title, 12, bold=True)
    for rma_line in rma.lines.select_related("order_line"):
        title_text = rma_line.order_line.title or ""
        text(f"{ltr(rma_line.sku, language)}  {title_text}  ·  {qty_label} {rma_line.quantity}", 10)
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
