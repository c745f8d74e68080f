"""What an attachment really is, read from its bytes (never from its name or declared type), and
how it may be shown.

Accepted (`ACCEPTED`, narrowed by settings.ATTACHMENT_ALLOWED_TYPES):
- images: JPEG, PNG, GIF, WebP (opened with Pillow, which must agree on the format; a PNG may not
  carry data after its IEND chunk) and HEIC (iPhone photos; Pillow cannot read them: download only);
- PDF (pypdfium2 must open it and find a page);
- plain text (the whole file is UTF-8; CSV files are plain text too);
- voice and sound: Ogg/Opus, MP3, M4A/AAC, WAV, AMR; video: MP4, MOV, WebM, 3GP;
- Word and Excel documents (docx, xlsx): download only.
Refused: everything else, among it HTML, SVG, XML, archives (zip, rar, 7z), executables, old Office
formats with macros (doc, xls), and any file with HTML or SVG markup in it (a "polyglot", e.g. a
PNG header followed by an HTML page), so no stored file can become a page of our origin.

Only raster images and PDF are ever shown inline (`INLINE_TYPES`); every other type is served as a
download. Served files also carry `X-Content-Type-Options: nosniff` and a sandboxing CSP (see
core/downloads.py), so even a file that slipped through could not run in the application's origin."""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

# sniffed type -> extension the stored file gets (its name on disk is random; see services/common.py)
ACCEPTED: dict[str, str] = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
    "audio/ogg": ".ogg",
    "audio/mpeg": ".mp3",
    "audio/mp4": ".m4a",
    "audio/aac": ".aac",
    "audio/x-wav": ".wav",
    "audio/amr": ".amr",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    "video/webm": ".webm",
    "video/3gpp": ".3gp",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
}

# Shown in the browser (an <img>, the browser's PDF viewer); everything else is a download.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf"})

_PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}

# Other names some libraries use for the same types.
_ALIASES = {"audio/m4a": "audio/mp4", "audio/x-m4a": "audio/mp4", "audio/wav": "audio/x-wav"}

# Markup that would make a browser render the file as a page or a script: refused in any file.
# Long enough that compressed data (a photo, a voice message) practically never contains it by chance.
_MARKUP_IN_BINARY = re.compile(
    rb"<\s*(?:!doctype\s+html|html[\s>/]|head>|body[\s>/]|script[\s>/]|svg[\s>/:]|iframe[\s>/]|"
    rb"frameset[\s>/]|object[\s>/]|embed[\s>/]|x:script|\?xml-stylesheet)",
    re.IGNORECASE,
)
# In text, any HTML or XML element that a browser would act on counts as markup.
_MARKUP_IN_TEXT = re.compile(
    r"<\s*(?:!doctype|\?xml|/?(?:html|head|body|script|svg|iframe|frame|frameset|object|embed|meta|link|"
    r"style|base|form|input|button|img|image|video|audio|source|math|a|xsl:[a-z]+)[\s>/])",
    re.IGNORECASE,
)


class NotAccepted(ValueError):
    """The file's content is not one of the accepted types; the message says why."""


@dataclass(frozen=True)
class Sniffed:
    content_type: str
    extension: str


def sniff(content: bytes, *, allowed: frozenset[str] | set[str] | list[str] | None = None) -> Sniffed:
    """The real type of `content`, verified; raises NotAccepted (with a user-facing reason)."""
    import filetype  # where a file arrives, not in every web process (issue 13, memory)

    kind = filetype.guess(content)
    detected = _ALIASES.get(kind.mime, kind.mime) if kind else ""
    if not detected and _is_utf8_text(content):
        detected = "text/plain"
    if detected not in ACCEPTED or (allowed is not None and detected not in {_ALIASES.get(t, t) for t in allowed}):
        raise NotAccepted(_("this type of file is not accepted (%(type)s)") % {"type": detected or _("unknown")})
    if detected == "text/plain":
        if _MARKUP_IN_TEXT.search(content.decode("utf-8-sig")):
            raise NotAccepted(_("text files with HTML or SVG markup are not accepted"))
    elif _MARKUP_IN_BINARY.search(content):
        raise NotAccepted(_("the file contains HTML or SVG markup and is not accepted"))
    if detected in _PILLOW_FORMATS:
        _check_image(content, _PILLOW_FORMATS[detected])
    elif detected == "application/pdf":
        _check_pdf(content)
    return Sniffed(content_type=detected, extension=ACCEPTED[detected])


def serves_inline(content_type: str) -> bool:
    return content_type in INLINE_TYPES


def _is_utf8_text(content: bytes) -> bool:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return "\x00" not in text


def _check_image(content: bytes, expected_format: str) -> None:
    """Pillow must recognise the same format as the sniffer. A damaged or cut-off photo is kept
    (the text reader says it could not read it), but a PNG with bytes after its end is refused:
    that is how image/page polyglots are built."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content), formats=[expected_format]) as image:
                width, height = image.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise NotAccepted(_("the image has too many pixels")) from None
    except Exception:  # Pillow raises many kinds of errors for bad input
        raise NotAccepted(_("the file is not a valid image")) from None
    if width < 1 or height < 1:
        raise NotAccepted(_("the file is not a valid image"))
    if expected_format == "PNG" and _png_has_trailing_data(content):
        raise NotAccepted(_("the image has data after its end and is not accepted"))


def _png_has_trailing_data(content: bytes) -> bool:
    pos = 8  # after the signature
    while pos + 12 <= len(content):
        length = int.from_bytes(content[pos : pos + 4], "big")
        chunk_type = content[pos + 4 : pos + 8]
        end = pos + 12 + length
        if chunk_type == b"IEND":
            return end < len(content)
        if not chunk_type.isalpha():
            return True  # not a chunk: whatever follows is not part of the image
        pos = end
    return False  # cut off before IEND: damaged, not extended


def _check_pdf(content: bytes) -> None:
    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(content)
    except Exception:  # pdfium reports any unreadable file as PdfiumError
        raise NotAccepted(_("the file is not a readable PDF")) from None
    try:
        if len(document) < 1:
            raise NotAccepted(_("the PDF has no pages"))
    finally:
        document.close()
