"""The real RapidOCR and Tesseract on screenshots rendered here with Noto CJK fonts."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from aftersales.core.errors import ValidationFailed
from aftersales.language import ocr

from .rendering import pdf_of, screenshot


def _compact(text: str) -> str:
    return "".join(text.split())


def test_chinese_and_english_screenshot_keeps_text_and_boxes() -> None:
    data = screenshot(["订单号 113-1234567-1234567 还没有收到", "Order has not arrived"])
    result = ocr.read_document(data)
    assert "订单号" in result.text and "还没有收到" in result.text
    assert "113-1234567-1234567" in result.text
    assert "Order has not arrived" in result.text
    first = result.blocks[0]
    assert len(first.box) == 4 and first.confidence > 0.8
    assert first.box[0][1] < result.blocks[1].box[0][1]  # top to bottom


def test_german_jpeg_lines_are_read_by_tesseract_with_accents() -> None:
    data = screenshot(["Mein Paket ist beschädigt.", "Größe: groß, Farbe: weiß"], fmt="JPEG")
    result = ocr.read_document(data, language_hint="de")
    assert result.engine == "rapidocr+tesseract"  # RapidOCR's lines, Tesseract's German reading
    assert "beschädigt" in result.text and "Größe" in result.text


def test_webp_and_pdf_pages() -> None:
    webp = screenshot(["退货地址"], fmt="WEBP")
    assert "退货地址" in ocr.read_document(webp).text
    pdf = pdf_of(screenshot(["Invoice 12-34567-89012"]))
    result = ocr.read_document(pdf)
    assert result.pages == 1 and "12-34567-89012" in result.text


def _png_header_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    )


def test_decompression_bomb_is_refused_before_decoding() -> None:
    with pytest.raises(ValidationFailed) as err:
        ocr.read_document(_png_header_claiming(40_000, 40_000))
    assert err.value.field == "file" and "pixels" in err.value.message


def test_corrupt_wrong_type_empty_and_oversized_files() -> None:
    good = screenshot(["hello"])
    with pytest.raises(ValidationFailed, match="corrupt"):
        ocr.read_document(good[: len(good) // 2])
    with pytest.raises(ValidationFailed, match="type"):
        ocr.read_document(b"just some text, not an image")
    with pytest.raises(ValidationFailed, match="empty"):
        ocr.read_document(b"")
    with pytest.raises(ValidationFailed, match="limit"):
        ocr.read_document(b"\x89PNG" + b"\x00" * (ocr.MAX_BYTES + 1))
    with pytest.raises(ValidationFailed, match="PDF"):
        ocr.read_document(b"%PDF-1.4\n" + b"garbage" * 20)


def test_pixel_limit_is_also_enforced_by_pil() -> None:
    assert Image.MAX_IMAGE_PIXELS == ocr.MAX_PIXELS
    buffer = io.BytesIO()
    Image.new("L", (10, 10)).save(buffer, format="PNG")
    assert ocr.load_image(buffer.getvalue()).size == (10, 10)
