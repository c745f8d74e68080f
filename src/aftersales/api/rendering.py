"""How the API writes a JSON body: the renderer main.py gives NinjaAPI, and the same bytes for a view that
answers its response directly."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.http import HttpResponse
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder


class IsoEncoder(NinjaJSONEncoder):
    """Datetimes in full ISO 8601 with their offset (2026-11-11T08:00:00.123456+00:00), not
    Django's millisecond-truncated "Z" form; Decimals as strings (inherited)."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime):
            return o.isoformat()
        return super().default(o)


class IsoJSONRenderer(JSONRenderer):
    encoder_class = IsoEncoder


CONTENT_TYPE = f"{IsoJSONRenderer.media_type}; charset={IsoJSONRenderer.charset}"  # (NinjaAPI.get_content_type)


def json_response(status: int, body: dict[str, Any]) -> HttpResponse:
    """The response ninja makes of `Status(status, body)` (its renderer's bytes and content type), without
    validating `body` against the operation's response schema and dumping it again: for a hot view whose
    body is already what the schema dumps (its fields in order, values of the fields' types; a test
    compares the two ways). The operation still declares its responses, for the OpenAPI document."""
    content = json.dumps(body, cls=IsoJSONRenderer.encoder_class, **IsoJSONRenderer.json_dumps_params)
    return HttpResponse(content, status=status, content_type=CONTENT_TYPE)
