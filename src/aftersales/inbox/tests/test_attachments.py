"""Attachments are what their bytes say, verified, stored under random names (finding 5), and the
file name is checked as a name with its own field (finding 9)."""

from __future__ import annotations

import io
import re
import zipfile
import zlib

import pytest
from django.test import override_settings
from PIL import Image

from aftersales.core.errors import ValidationFailed
from aftersales.inbox.attachment_types import sniff
from aftersales.inbox.models import Attachment, Message
from aftersales.inbox.services import AttachmentInput, InboundMessage, message_ingest


def image_bytes(fmt: str, size: tuple[int, int] = (4, 3)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


PNG = image_bytes("PNG")
JPEG = image_bytes("JPEG")
GIF = image_bytes("GIF")
WEBP = image_bytes("WEBP")
PDF = image_bytes("PDF")  # Pillow writes a one-page PDF
HTML = b"<!doctype html><html><body><script>fetch('/api/v1/me/tokens')</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def ingest(world, *files: AttachmentInput, external_id: str = "m-1"):  # type: ignore[no-untyped-def]
    return message_ingest(
        inbound=InboundMessage(
            store=world.store_us,
            external_id=external_id,
            body="see attached",
            customer_external_id="B1",
            attachments=list(files),
        )
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (GIF, "image/gif"),
        (WEBP, "image/webp"),
        (PDF, "application/pdf"),
        ("Order 123 arrived broken. Größe: M, 尺码 M\n".encode(), "text/plain"),
        (b"order,sku,qty\n123,EB-1,2\n", "text/plain"),  # CSV is text
        (docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (PNG[:60], "image/png"),  # a cut-off photo is kept: the text reader reports it as damaged
    ],
)
def test_accepted_types_are_sniffed_and_verified(content, expected):
    assert sniff(content).content_type == expected


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (HTML, "markup"),  # HTML never passes as text/plain any more
        (b"Hello <a href='https://evil.example'>click</a>", "markup"),
        (SVG, "markup"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "markup"),
        (PNG[:33] + HTML, "markup"),  # a PNG header followed by a page
        (PNG + HTML, "markup"),  # a whole PNG followed by a page
        (PNG + b"\x00" * 64, "after its end"),  # anything after IEND
        (PNG[:33] + png_chunk(b"tEXt", b"c\x00<script>alert(1)</script>") + PNG[33:], "markup"),
        (JPEG[:2] + b"\xff\xfe\x00\x20<html><script>x()</script></html>" + JPEG[2:], "markup"),
        (GIF + b"<svg onload=alert(1)>", "markup"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not a valid image"),
        (b"%PDF-1.4\n%garbage without objects\n", "not a readable PDF"),
        (b"MZ\x90\x00" + b"\x00" * 64, "type"),  # a Windows program
        (b"PK\x03\x04" + b"\x00" * 64, "type"),  # a zip archive
        ("Größe".encode("latin-1"), "type"),  # not UTF-8: not text
    ],
)
def test_refused_content(content, reason):
    with pytest.raises(ValueError, match=reason):
        sniff(content)


def test_a_decompression_bomb_is_refused():
    header = png_chunk(b"IHDR", (30000).to_bytes(4, "big") * 2 + b"\x08\x02\x00\x00\x00")
    bomb = b"\x89PNG\r\n\x1a\n" + header + png_chunk(b"IDAT", zlib.compress(b"")) + png_chunk(b"IEND", b"")
    with pytest.raises(ValueError, match="too many pixels"):
        sniff(bomb)


def test_files_are_stored_under_random_names_whatever_the_buyer_called_them(world, settings):
    result = ingest(
        world,
        AttachmentInput("evil.html", b"just text, honest", "text/html"),
        AttachmentInput(".htaccess", b"Options +ExecCGI\n"),
        AttachmentInput("photo.png", PNG, "image/png"),
        AttachmentInput("发票 2026.pdf", PDF),
    )
    stored = list(result.message.attachments.order_by("pk"))
    assert [a.filename for a in stored] == ["evil.html", ".htaccess", "photo.png", "发票 2026.pdf"]
    assert [a.content_type for a in stored] == ["text/plain", "text/plain", "image/png", "application/pdf"]
    names = [a.file.name for a in stored]
    for name, ext in zip(names, [".txt", ".txt", ".png", ".pdf"], strict=True):
        assert re.fullmatch(r"attachments/\d{4}/\d{2}/[0-9a-f]{32}" + re.escape(ext), name), name
    on_disk = {p.name for p in (settings.MEDIA_ROOT / "attachments").rglob("*")}
    assert not on_disk & {"evil.html", ".htaccess", "photo.png"}
    with stored[2].file.open("rb") as handle:
        assert handle.read() == PNG


@pytest.mark.parametrize(
    "name",
    [
        "..",
        ".",
        "",
        "   ",
        "../x.png",
        "a/b.png",
        "a\\b.png",
        "a\x00.png",
        "bell\x07.txt",
        "x" * 256,
        "invoice\u202egnp.exe",
    ],
)
def test_a_bad_file_name_names_its_field(world, name):
    with pytest.raises(ValidationFailed) as exc:
        ingest(world, AttachmentInput("ok.png", PNG), AttachmentInput(name, PNG))
    assert exc.value.field == "attachments[1].filename"
    assert not Message.objects.exists() and not Attachment.objects.exists()


def test_a_refused_type_names_the_attachment(world):
    with pytest.raises(ValidationFailed) as exc:
        ingest(world, AttachmentInput("page.txt", HTML))
    assert exc.value.field == "attachments[0]"
    assert "page.txt" in exc.value.message


@override_settings(ATTACHMENT_MAX_BYTES=1000, ATTACHMENT_MAX_TOTAL_BYTES=1500)
def test_size_limits_per_file_and_per_message(world):
    with pytest.raises(ValidationFailed) as exc:
        ingest(world, AttachmentInput("big.txt", b"a" * 1001))
    assert exc.value.field == "attachments[0]"
    with pytest.raises(ValidationFailed) as exc:
        ingest(world, AttachmentInput("a.txt", b"a" * 800), AttachmentInput("b.txt", b"b" * 800))
    assert exc.value.field == "attachments"
    assert ingest(world, AttachmentInput("a.txt", b"a" * 700), AttachmentInput("b.txt", b"b" * 800)).created


def test_the_request_body_limit_fits_the_attachment_limits(settings):
    """Finding 5: a 20 MiB attachment was refused by a 5 MiB body cap (base64 makes it 4/3 larger)."""
    assert settings.ATTACHMENT_MAX_TOTAL_BYTES >= 2 * settings.ATTACHMENT_MAX_BYTES
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE >= settings.ATTACHMENT_MAX_TOTAL_BYTES * 4 / 3 + 64 * 1024


def test_refusals_are_translated(world):
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(ValidationFailed) as exc:
        ingest(world, AttachmentInput("..", PNG))
    assert "文件名无效" in exc.value.message
    with translation.override("zh-hans"), pytest.raises(ValidationFailed) as exc:
        ingest(world, AttachmentInput("page.txt", HTML))
    assert "附件 page.txt" in exc.value.message and "HTML" in exc.value.message
