"""A base for the local fake platforms: a real HTTP server on 127.0.0.1 (random port) that speaks a
platform's documented protocol, records every request it received (so acceptance tests assert the
exact path, headers and body) and injects faults on demand (429 with Retry-After, 5xx, malformed
bodies, dropped connections).

A platform's fake (channels/connectors/<platform>/fake.py) subclasses FakePlatform and registers
routes with `route(method, pattern)`; a handler gets a FakeRequest and returns a FakeResponse.
The same fakes serve `make run`'s demo stores (demo/fakes.py, `manage.py fakes`); bench/sync_ingest.py uses a test fake.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class FakeRequest:
    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # named groups of the route pattern

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class FakeResponse:
    status: int = 200
    body: bytes | str | dict | list | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        body = self.body
        if isinstance(body, dict | list):
            headers.setdefault("Content-Type", "application/json")
            return json.dumps(body).encode(), headers
        if isinstance(body, str):
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
            return body.encode(), headers
        return body or b"", headers


def json_response(data: Any, status: int = 200, **headers: str) -> FakeResponse:
    return FakeResponse(status=status, body=data, headers=dict(headers))


Handler = Callable[[FakeRequest], FakeResponse]


@dataclass
class _Fault:
    """The next `times` requests whose path matches `path` get this response instead."""

    path: re.Pattern[str]
    response: FakeResponse | None  # None: drop the connection without an answer
    times: int


class FakePlatform:
    """Subclasses add routes in `setup_routes()` and keep their state (orders, messages...) as
    plain attributes guarded by `self.lock`."""

    name = "fake"

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.requests: list[FakeRequest] = []
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._faults: list[_Fault] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.setup_routes()

    # -- to override ---------------------------------------------------------------------------
    def setup_routes(self) -> None:
        """Register the platform's routes with self.route(...)."""

    # -- routes and faults ---------------------------------------------------------------------
    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """`pattern` is a regular expression matched against the whole path; named groups become
        FakeRequest.params."""
        self._routes.append((method.upper(), re.compile(pattern), handler))

    def fail_next(self, path: str = ".*", *, status: int = 500, times: int = 1, **kwargs: Any) -> None:
        """Answer the next `times` matching requests with `status` (and body/headers in kwargs)."""
        with self.lock:
            self._faults.append(_Fault(re.compile(path), FakeResponse(status=status, **kwargs), times))

    def throttle_next(self, path: str = ".*", *, retry_after: int = 1, times: int = 1) -> None:
        self.fail_next(path, status=429, times=times, headers={"Retry-After": str(retry_after)}, body=b"")

    def drop_next(self, path: str = ".*", *, times: int = 1) -> None:
        with self.lock:
            self._faults.append(_Fault(re.compile(path), None, times))

    def requests_to(self, pattern: str, method: str | None = None) -> list[FakeRequest]:
        rx = re.compile(pattern)
        with self.lock:
            return [r for r in self.requests if rx.fullmatch(r.path) and (method is None or r.method == method)]

    # -- server --------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def start(self, port: int = 0) -> FakePlatform:
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = FakeRequest(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                response = fake._dispatch(request)
                if response is None:  # injected connection drop
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                data, headers = response.encoded()
                self.send_response(response.status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"fake-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @contextmanager
    def running(self) -> Iterator[FakePlatform]:
        self.start()
        try:
            yield self
        finally:
            self.stop()

    def _dispatch(self, request: FakeRequest) -> FakeResponse | None:
        with self.lock:
            self.requests.append(request)
            for fault in self._faults:
                if fault.times > 0 and fault.path.fullmatch(request.path):
                    fault.times -= 1
                    return fault.response
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if match and method == request.method:
                routed = FakeRequest(**{**request.__dict__, "params": match.groupdict()})
                try:
                    return handler(routed)
                except Exception as exc:  # a bug in the fake must show, not hang the client
                    return FakeResponse(status=500, body={"fake_error": repr(exc)})
        return FakeResponse(status=404, body={"errors": [{"message": f"no route {request.method} {request.path}"}]})
