"""Serving stored files (buyers' attachments) so that none can act as a page of our origin.

Every response: the stored type with `X-Content-Type-Options: nosniff` (the browser never guesses
another type), a `Content-Security-Policy` that sandboxes whatever is opened (no script, no
same-origin access, nothing loaded), `Cache-Control: private` (never in a shared cache), and
`Content-Disposition: attachment` unless the caller says the type is safe to show (raster
images and PDF), always with the original name in RFC 6266/5987 form."""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import quote

from django.http import FileResponse
from django.utils.translation import gettext as _

from aftersales.core.errors import NotFound

# A PDF opened in a tab is still shown by the browser's own viewer under this sandbox (checked in Chromium).
FILE_CSP = "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'"


def content_disposition(filename: str, *, inline: bool) -> str:
    """`inline|attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded name>`."""
    kind = "inline" if inline else "attachment"
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    ascii_name = "".join(c if c.isprintable() and c not in '"\\;' else "_" for c in ascii_name).strip() or "download"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def stored_file_response(file: Any, *, filename: str, content_type: str, inline: bool) -> FileResponse:
    """Stream a stored file (a FieldFile) with the headers above."""
    if content_type.startswith("text/") and "charset" not in content_type:
        content_type += "; charset=utf-8"  # stored text was checked to be UTF-8
    try:
        handle = file.open("rb")
    except OSError:  # the row outlived its file (a restore without media, a bucket cleaned up)
        raise NotFound(_("the stored file is missing"), field=None) from None
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = content_disposition(filename, inline=inline)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    response["Cache-Control"] = "private, max-age=3600"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
