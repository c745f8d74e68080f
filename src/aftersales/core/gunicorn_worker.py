"""gunicorn's threaded worker, answering an over-long request line in the API's error shape.

gunicorn refuses a request line longer than `limit_request_line` (8190 bytes at most) itself, before
Django runs, with an HTML page. Only the line's length is known then (not a parsed path), so every such
refusal gets the API's JSON error: `{"error": {"code": "uri_too_long", "message", "field": null}}`.
Shorter over-long addresses reach Django, where core.middleware.UriLengthMiddleware answers."""

from __future__ import annotations

import json
from typing import Any

from gunicorn import util
from gunicorn.http.errors import LimitRequestLine
from gunicorn.workers.gthread import ThreadWorker

MESSAGE = "The address (path and query string) is too long."


class JsonErrorThreadWorker(ThreadWorker):
    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        if not isinstance(exc, LimitRequestLine):
            super().handle_error(req, client, addr, exc)
            return
        self.log.warning("Invalid request from ip=%s: %s", (addr or ("", -1))[0], exc)
        body = json.dumps({"error": {"code": "uri_too_long", "message": MESSAGE, "field": None}}).encode()
        head = (
            "HTTP/1.1 414 URI Too Long\r\n"
            "Connection: close\r\n"
            "Content-Type: application/json; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode("latin-1")
        try:
            util.write_nonblock(client, head + body)
        except Exception:  # the client may be gone; gunicorn does the same
            self.log.debug("Failed to send error message.")
