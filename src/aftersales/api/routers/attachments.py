"""Attachments: downloading a file of a message (the metadata comes with the message)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Router

from aftersales.core.downloads import stored_file_response
from aftersales.inbox.attachments_selectors import attachment_for_viewer

from ..auth import current_user
from ..schemas.common import Id, with_errors

router = Router(tags=["tickets"])

FILE_RESPONSE: dict[int | str, Any] = {
    200: {
        "description": "The file's bytes, with its sniffed type as Content-Type. `Content-Disposition` is "
        "`inline` for raster images and PDF, `attachment` otherwise, with the original name.",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.get(
    "/attachments/{attachment_id}/content", response=with_errors({}), openapi_extra={"responses": FILE_RESPONSE}
)
def download_attachment(request: HttpRequest, attachment_id: Id) -> StreamingHttpResponse:
    """The bytes of an attachment of a message on a ticket you may see (404 otherwise). Sent with
    `X-Content-Type-Options: nosniff` and a sandboxing `Content-Security-Policy`."""
    user = current_user(request)
    download = attachment_for_viewer(user, attachment_id)
    attachment = download.attachment
    return stored_file_response(
        attachment.file, filename=attachment.filename, content_type=attachment.content_type, inline=download.inline
    )
