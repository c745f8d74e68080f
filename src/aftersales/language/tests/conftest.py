"""Local protocol servers on 127.0.0.1 (started by the test, stopped after it) and shared helpers.

A `ProtocolServer` answers each request with `handler(request) -> (status, json_body)` and keeps
every request it got (method, path, query, headers, parsed body) for the test to check."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    raw: bytes
    body: Any


@dataclass
class ProtocolServer:
    handler: Callable[[Request], tuple[int, Any]]
    requests: list[Request] = field(default_factory=list)
    delay: float = 0.0
    httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.httpd is not None
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> ProtocolServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body: Any = json.loads(raw) if raw and "json" in (self.headers.get("Content-Type") or "") else raw
                except ValueError:
                    body = raw
                parts = urlsplit(self.path)
                request = Request("POST", parts.path, parse_qs(parts.query), dict(self.headers.items()), raw, body)
                server.requests.append(request)
                if server.delay:
                    threading.Event().wait(server.delay)
                status, payload = server.handler(request)
                data = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()


@pytest.fixture
def protocol_server():  # type: ignore[no-untyped-def]
    servers: list[ProtocolServer] = []

    def start(handler: Callable[[Request], tuple[int, Any]]) -> ProtocolServer:
        server = ProtocolServer(handler).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(autouse=True)
def _clear_cache():  # type: ignore[no-untyped-def]
    cache.clear()  # "provider down" marks must not leak between tests
    yield
    cache.clear()


def fake_llm(prefix: str = "ZH:") -> Callable[[Request], tuple[int, Any]]:
    """An OpenAI-compatible chat server that "translates" by prefixing each string."""

    def handle(request: Request) -> tuple[int, Any]:
        texts = json.loads(request.body["messages"][1]["content"])
        answer = json.dumps([f"{prefix} {t}" for t in texts], ensure_ascii=False)
        return 200, {
            "id": "x",
            "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
        }

    return handle
