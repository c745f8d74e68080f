"""Buyers' files and buyers' HTML, served so that neither can act in the agent UI's origin.

- `attachment_view`: one attachment, for someone who may see its ticket (404 otherwise, also for
  other organizations), streamed with nosniff, a sandboxing CSP, and `Content-Disposition: inline`
  only for raster images and PDF (core/downloads.py). Files are never served from /media/.
- `message_images_view`: "Load images" on one message. With htmx it answers a sandboxed frame that
  replaces the message's body; the frame (or a browser without JavaScript, in a new tab) loads the
  message's HTML with its remote images, as its own document with its own policy: no script, no
  referrer, images from http(s) only, nothing else."""

from __future__ import annotations

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_sameorigin

from aftersales.core.downloads import stored_file_response
from aftersales.inbox.attachments_selectors import attachment_for_viewer, message_html_with_images

from ..access import AgentRequest, web_view

MESSAGE_FRAME_CSP = (
    "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; img-src https: http: data:; "
    "style-src 'unsafe-inline'; frame-ancestors 'self'; form-action 'none'; base-uri 'none'"
)


@web_view()  # type: ignore[arg-type]  # web_view passes any response through, a streamed file too
def attachment_view(request: AgentRequest, attachment_id: int) -> StreamingHttpResponse:
    download = attachment_for_viewer(request.user, attachment_id)
    attachment = download.attachment
    return stored_file_response(
        attachment.file, filename=attachment.filename, content_type=attachment.content_type, inline=download.inline
    )


@web_view()
@xframe_options_sameorigin
def message_images_view(request: AgentRequest, ticket_id: int, message_id: int) -> HttpResponse:
    html = message_html_with_images(request.user, ticket_id, message_id)
    if request.htmx:
        context = {"ticket_id": ticket_id, "message_id": message_id}
        return render(request, "web/tickets/_message_frame.html", context)
    response = render(request, "web/tickets/message_document.html", {"html": html})
    response["Content-Security-Policy"] = MESSAGE_FRAME_CSP
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-store"
    return response
