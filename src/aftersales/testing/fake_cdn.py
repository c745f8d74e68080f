"""The file server of a fake marketplace: chat pictures served at /file/<name>, without signature or
token, as the platforms' CDNs do. A fake mixes it in and calls `route_files()` in setup_routes."""

from __future__ import annotations

from typing import Any

from .fake_platform import FakeRequest, FakeResponse


class ChatFiles:
    files: dict[str, tuple[bytes, str]]
    url: str
    lock: Any

    def route_files(self) -> None:
        self.files = {}
        self.route("GET", r"/file/(?P<name>[\w.-]+)", self.file)  # type: ignore[attr-defined]

    def add_file(self, name: str, content: bytes, content_type: str = "image/png") -> str:
        """Serve `content` as a chat picture; returns its link."""
        with self.lock:
            self.files[name] = (content, content_type)
        return f"{self.url}/file/{name}"

    def file(self, request: FakeRequest) -> FakeResponse:
        found = self.files.get(request.params["name"])
        if found is None:
            return FakeResponse(404, b"Not Found", {"Content-Type": "text/plain"})
        return FakeResponse(200, found[0], {"Content-Type": found[1]})
