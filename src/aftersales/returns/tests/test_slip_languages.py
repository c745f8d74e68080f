"""The RMA slip in Japanese (built-in CID font), Portuguese, Italian and Arabic (a TrueType font with
Arabic glyphs, joined letters, right-to-left lines, RMA and order numbers left to right); without an
Arabic font the slip prints in English and logs why. The lines, the barcode and the address stay."""

from __future__ import annotations

import itertools
import logging
import os

import pypdfium2
import pytest

from aftersales.api.tests.helpers import ApiClient
from aftersales.returns import slip
from aftersales.returns.rma import rma_approve, rma_create

from .rma_fixtures import delivered_order, first_line, return_hub, ticket_for

pytestmark = pytest.mark.django_db


def _slip(world, language: str) -> tuple[object, object, bytes]:  # type: ignore[no-untyped-def]
    return_hub(world)
    order = delivered_order(world)
    ticket_for(world, order, language=language)
    lines = [{"order_line_id": first_line(order).pk, "quantity": 1}]
    rma = rma_create(user=world.agent, order_id=order.pk, lines=lines, reason="changed_mind")
    rma_approve(user=world.approver, rma_id=rma.pk)
    response = ApiClient(user=world.viewer).get(f"/rmas/{rma.pk}/slip.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    if os.environ.get("SLIP_PNG_DIR"):  # to look at: SLIP_PNG_DIR=/tmp/slips pytest this file
        page = pypdfium2.PdfDocument(response.content)[0]
        page.render(scale=1.5).to_pil().save(os.path.join(os.environ["SLIP_PNG_DIR"], f"slip-{language}.png"))
    return rma, order, response.content


def _text(content: bytes) -> str:
    document = pypdfium2.PdfDocument(content)
    return "".join(page.get_textpage().get_text_range() for page in document)


def _barcode_transitions(content: bytes) -> int:
    bitmap = pypdfium2.PdfDocument(content)[0].render(scale=2).to_pil().convert("L")
    width, height = bitmap.size
    best = 0
    for y in range(0, height // 3):
        row = [bitmap.getpixel((x, y)) < 128 for x in range(width)]
        best = max(best, sum(1 for a, b in itertools.pairwise(row) if a != b))
    return best


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ja", ["返品伝票", "返品の手順", "この伝票を商品およびすべての付属品と一緒に箱に入れてください。"]),
        ("pt", ["Guia de devolução", "Instruções de devolução", "Endereço de devolução"]),
        ("it", ["Modulo di reso", "Istruzioni per il reso", "Indirizzo di reso"]),
    ],
)
def test_the_slip_in_japanese_portuguese_and_italian(world, language, expected) -> None:
    rma, order, content = _slip(world, language)
    text = _text(content)
    for phrase in expected:
        assert phrase in text.replace("\r\n", "").replace("\n", ""), (phrase, text)
    assert rma.number in text and first_line(order).sku in text and "1 Return Way" in text
    assert "Return instructions" not in text
    assert _barcode_transitions(content) > 40


def test_the_arabic_slip_is_shaped_right_to_left_with_numbers_left_to_right(world, monkeypatch) -> None:
    from reportlab.pdfgen.canvas import Canvas

    drawn: list[str] = []
    real = Canvas.drawRightString

    def spy(self, x, y, text, *args, **kwargs):  # type: ignore[no-untyped-def]
        drawn.append(text)
        return real(self, x, y, text, *args, **kwargs)

    monkeypatch.setattr(Canvas, "drawRightString", spy)
    rma, order, content = _slip(world, "ar")
    # every line is right-aligned; the Arabic ones in joined (presentation) forms, laid out right to left
    arabic = [line for line in drawn if slip.has_rtl(line)]
    assert len(arabic) >= 8 and all(any("\ufe70" <= ch <= "\ufefc" for ch in line) for line in arabic)
    title = next(line for line in drawn if rma.store.name in line and slip.has_rtl(line))
    assert title.startswith(rma.store.name)  # "<title> · <store>" read from the right: the store is on the left
    # the order number, the date, the RMA number inside the instructions and the SKU stay whole, left to right
    assert any(order.external_id in line and slip.has_rtl(line) for line in drawn)
    assert any(rma.number in line and slip.has_rtl(line) for line in drawn)
    assert rma.number in drawn and "1 Return Way" in drawn  # a line without Arabic is drawn as written
    assert not any(ch in line for line in drawn for ch in "\u2066\u2067\u2068\u2069")
    # the text a reader extracts is the Arabic written (pdfium puts an Arabic line back in logical order)
    text = _text(content)
    for phrase in ("عنوان الإرجاع", "تعليمات الإرجاع", "ضع هذه القسيمة في الطرد", "تكاليف شحن الإرجاع"):
        assert phrase in text, phrase
    assert rma.number in text and first_line(order).sku in text and "1 Return Way" in text
    assert "Return instructions" not in text
    assert _barcode_transitions(content) > 40


def test_visual_order_keeps_isolated_numbers_whole() -> None:
    line = "الطلب " + slip.ltr("113-4567890-1234567", "ar") + "    " + slip.ltr("2026-12-01", "ar")
    visual = slip.visual_rtl(line)
    assert "113-4567890-1234567" in visual and "2026-12-01" in visual
    assert visual.endswith("\ufe90\ufee0\ufec4\ufedf\ufe8d")  # الطلب joined, drawn rightmost
    assert slip.ltr("RMA-1", "de") == "RMA-1"


def test_without_an_arabic_font_the_slip_is_english_and_says_why(world, monkeypatch, caplog) -> None:
    monkeypatch.setattr(slip, "ARABIC_FONTS", (("/nonexistent/arabic.ttf", "/nonexistent/arabic-bold.ttf"),))
    slip._arabic_font.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="aftersales.returns.slip"):
            rma, _order, content = _slip(world, "ar")
    finally:
        slip._arabic_font.cache_clear()
    text = _text(content)
    assert "Put this slip in the parcel" in text and rma.number in text
    assert [r.event for r in caplog.records if hasattr(r, "event")] == ["slip_font_missing"]
