"""Files posted with the reply and note forms (multipart), handed to the services as
AttachmentInput: the checks (count, sizes, sniffed type, file name) are the services', the same
as for the API's base64 attachments (inbox.services.common.check_attachments)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from aftersales.core.errors import DomainError, ValidationFailed
from aftersales.inbox.services import AttachmentInput

FIELD = "attachments"


def uploaded_attachments(request: HttpRequest) -> list[AttachmentInput]:
    """The files of the form's `attachments` input. A file over the per-file limit is read only up
    to the limit plus one byte (the service refuses it as too big without the rest in memory)."""
    out = []
    for upload in request.FILES.getlist(FIELD):
        limit = settings.ATTACHMENT_MAX_BYTES + 1
        content = upload.read(limit) if (upload.size or 0) >= limit else upload.read()
        out.append(AttachmentInput(filename=upload.name or "", content=content, content_type=upload.content_type or ""))
    return out


def attachment_error(exc: DomainError) -> DomainError:
    """An error about one file (`attachments[2]`, `attachments[0].filename`) is shown next to the
    file input (field `attachments`); its message names the file."""
    field = exc.field or ""
    if field.startswith(FIELD + "[") and isinstance(exc, ValidationFailed):
        return ValidationFailed(exc.message, field=FIELD, code=exc.code)
    return exc
