"""A local fake of the Messenger Platform's Send API and webhooks (Graph API v23.0) on 127.0.0.1:
`POST /v23.0/me/messages` (page token checked; RESPONSE refused outside 24 hours of the person's last
pushed message, HUMAN_AGENT outside 7 days, with Meta's code 10 / subcode 2018278), attachment upload,
the User Profile API, the Page, CDN-like attachment downloads; expired token answers code 190. It builds
signed `object=page` pushes for tests."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from aftersales.testing.fake_platform import FakePlatform, FakeRequest, FakeResponse, json_response

from ..meta.graph import GRAPH_VERSION, hub_signature


def _error(status: int, code: int, message: str, **extra: Any) -> FakeResponse:
    return json_response({"error": {"message": message, "type": "OAuthException", "code": code, **extra}}, status)


class MessengerFake(FakePlatform):
    name = "messenger"

    def __init__(self) -> None:
        self.page_id = "104712345678901"
        self.access_token = "EAAG-fake-page-token"  # noqa: S105
        self.app_secret = "fake-messenger-app-secret"  # noqa: S105
        self.verify_token = "fake-messenger-verify"  # noqa: S105
        self.token_expired = False
        self.clock = time.time
        self.last_inbound: dict[str, float] = {}
        self.people: dict[str, dict[str, str]] = {}
        self.files: dict[str, tuple[bytes, str]] = {}
        self.sent: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        super().__init__()

    def credentials(self, **overrides: Any) -> dict[str, Any]:
        return {
            "page_id": self.page_id,
            "access_token": self.access_token,
            "app_secret": self.app_secret,
            "verify_token": self.verify_token,
            **overrides,
        }

    def setup_routes(self) -> None:
        v = GRAPH_VERSION.replace(".", r"\.")
        self.route("POST", rf"/{v}/me/messages", self._send)
        self.route("POST", rf"/{v}/me/message_attachments", self._upload)
        self.route("GET", rf"/{v}/(?P<node>\d+)", self._node)
        self.route("GET", r"/cdn/(?P<file>\d+)", self._download)

    def _authorised(self, request: FakeRequest) -> FakeResponse | None:
        if request.headers.get("authorization") != f"Bearer {self.access_token}" or self.token_expired:
            return _error(
                401, 190, "Error validating access token: The session has been invalidated.", error_subcode=460
            )
        return None

    def _send(self, request: FakeRequest) -> FakeResponse:
        refused = self._authorised(request)
        if refused:
            return refused
        body = request.json()
        psid = str((body.get("recipient") or {}).get("id") or "")
        if not psid or "message" not in body:
            return _error(400, 100, "(#100) The parameter recipient is required")
        tagged = body.get("messaging_type") == "MESSAGE_TAG" and body.get("tag") == "HUMAN_AGENT"
        if body.get("messaging_type") not in ("RESPONSE", "MESSAGE_TAG") or (
            body.get("messaging_type") == "MESSAGE_TAG" and not tagged
        ):
            return _error(400, 100, "(#100) Invalid messaging_type")
        window = 7 * 86400 if tagged else 86400
        last = self.last_inbound.get(psid)
        if last is None or self.clock() - last >= window:
            return _error(400, 10, "(#10) This message is sent outside of allowed window.", error_subcode=2018278)
        mid = f"m_fake{next(self._ids):06d}"
        with self.lock:
            self.sent.append({**body, "_id": mid})
        return json_response({"recipient_id": psid, "message_id": mid})

    def _upload(self, request: FakeRequest) -> FakeResponse:
        refused = self._authorised(request)
        if refused:
            return refused
        if b'name="message"' not in request.body or b'name="filedata"' not in request.body:
            return _error(400, 100, "(#100) message and filedata are required")
        attachment_id = str(1857777774821032 + next(self._ids))
        return json_response({"attachment_id": attachment_id})

    def _node(self, request: FakeRequest) -> FakeResponse:
        refused = self._authorised(request)
        if refused:
            return refused
        node = request.params["node"]
        if node == self.page_id:
            return json_response({"name": "Gadgets Demo", "id": node})
        person = self.people.get(node)
        if person is None:
            return _error(400, 100, f"(#100) Unsupported get request. Object with ID '{node}' does not exist")
        return json_response({**person, "id": node})

    def _download(self, request: FakeRequest) -> FakeResponse:
        found = self.files.get(request.params["file"])
        if found is None:
            return FakeResponse(status=404, body=b"")
        return FakeResponse(body=found[0], headers={"Content-Type": found[1]})

    # -- pushes --------------------------------------------------------------------------------
    def message_push(
        self,
        psid: str,
        text: str = "",
        *,
        at: float,
        files: list[tuple[str, bytes, str]] | None = None,
        name: tuple[str, str] = ("Maria", "Santos"),
        echo: bool = False,
        mid: str = "",
    ) -> dict[str, Any]:
        self.people[psid] = {"first_name": name[0], "last_name": name[1]}
        message: dict[str, Any] = {"mid": mid or f"m_in{psid}{int(at * 1000)}"}
        if text:
            message["text"] = text
        attachments = []
        for kind, content, mime in files or []:
            file_id = str(next(self._ids) + 500000)
            self.files[file_id] = (content, mime)
            attachments.append({"type": kind, "payload": {"url": f"{self.url}/cdn/{file_id}"}})
        if attachments:
            message["attachments"] = attachments
        if echo:
            message["is_echo"] = True
        else:
            self.last_inbound[psid] = max(self.last_inbound.get(psid, 0), at)
        sender, recipient = (self.page_id, psid) if echo else (psid, self.page_id)
        event = {
            "sender": {"id": sender},
            "recipient": {"id": recipient},
            "timestamp": int(at * 1000),
            "message": message,
        }
        return {"object": "page", "entry": [{"id": self.page_id, "time": int(at * 1000), "messaging": [event]}]}

    def signed(self, push: dict[str, Any], *, secret: str | None = None) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(push).encode()
        return body, {"X-Hub-Signature-256": hub_signature(secret or self.app_secret, body)}
