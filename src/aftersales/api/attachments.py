"""Attachments travel in JSON as base64; decoded here, validated (size, sniffed type) by the services."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from aftersales.core.errors import ValidationFailed
from aftersales.inbox.services import AttachmentInput

if TYPE_CHECKING:
    from .schemas.actions import AttachmentIn


def decode_attachments(items: list[AttachmentIn]) -> list[AttachmentInput]:
    out = []
    for index, item in enumerate(items):
        try:
            content = base64.b64decode(item.content_base64.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ValidationFailed(
                _("content_base64 is not valid base64"), field=f"attachments[{index}].content_base64"
            ) from None
        out.append(AttachmentInput(filename=item.filename, content=content, content_type=item.content_type))
    return out
