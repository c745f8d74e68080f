"""A local fake of the WhatsApp Cloud API (Graph API v23.0) on 127.0.0.1, speaking the shapes of
the published OpenAPI description (platform-specs/whatsapp/business-messaging-api_v23.0.yaml):
send messages (answers a wamid; free-form messages refused with 131047 outside the 24-hour window
of the buyer's last pushed message), media upload / URL retrieval / download (token checked on
each), the phone number and the approved templates; an expired token answers code 190. It also
builds webhook pushes signed with the app secret (or with a wrong one) for tests and the demo."""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from typing import Any

import httpx

from aftersales.testing.fake_platform import FakePlatform, FakeRequest, FakeResponse, json_response

from ..meta.graph import GRAPH_VERSION, hub_signature

WINDOW_SECONDS = 24 * 3600


def _error(status: int, code: int, message: str, **extra: Any) -> FakeResponse:
    return json_response(
        {
            "error": {
                "message": message,
                "type": extra.pop("type", "OAuthException"),
                "code": code,
                **extra,
                "fbtrace_id": "AbCdEfGh",
            }
        },
        status,
    )


class WhatsAppFake(FakePlatform):
    name = "whatsapp"

    def __init__(self) -> None:
        self.phone_number_id = "106540352242922"
        self.waba_id = "102290129340398"
        self.access_token = "EAAJB-fake-token"  # noqa: S105
        self.app_secret = "fake-app-secret"  # noqa: S105
        self.verify_token = "fake-verify-token"  # noqa: S105
        self.token_expired = False
        self.clock = time.time
        self.last_inbound: dict[str, float] = {}
        self.sent: list[dict[str, Any]] = []
        self.media: dict[str, tuple[bytes, str]] = {}
        self.templates: list[dict[str, Any]] = [
            {
                "name": "order_update",
                "language": "en_US",
                "status": "APPROVED",
                "category": "UTILITY",
                "id": "594425479261596",
                "components": [{"type": "BODY", "text": "Hello {{1}}, your order {{2}} has an update."}],
            }
        ]
        self._ids = itertools.count(1)
        super().__init__()

    def credentials(self, **overrides: Any) -> dict[str, Any]:
        return {
            "phone_number_id": self.phone_number_id,
            "waba_id": self.waba_id,
            "access_token": self.access_token,
            "app_secret": self.app_secret,
            "verify_token": self.verify_token,
            **overrides,
        }

    def setup_routes(self) -> None:
        v = GRAPH_VERSION.replace(".", r"\.")
        self.route("POST", rf"/{v}/(?P<phone>\d+)/messages", self._send)
        self.route("POST", rf"/{v}/(?P<phone>\d+)/media", self._upload)
        self.route("GET", rf"/{v}/(?P<waba>\d+)/message_templates", self._templates)
        self.route("GET", rf"/{v}/(?P<node>\d+)", self._node)
        self.route("GET", r"/whatsapp_business/attachments/(?P<media>\d+)", self._download)

    # -- state helpers -------------------------------------------------------------------------
    def add_media(self, content: bytes, mime_type: str) -> str:
        media_id = str(2621233374848975 + next(self._ids))
        with self.lock:
            self.media[media_id] = (content, mime_type)
        return media_id

    def _authorised(self, request: FakeRequest) -> FakeResponse | None:
        if request.headers.get("authorization") != f"Bearer {self.access_token}":
            return _error(401, 190, "Invalid OAuth access token - Cannot parse access token")
        if self.token_expired:
            return _error(
                401,
                190,
                "Error validating access token: Session has expired on Sunday, 06-Dec-26 10:00:00 PST.",
                error_subcode=463,
            )
        return None

    # -- handlers ------------------------------------------------------------------------------
    def _send(self, request: FakeRequest) -> FakeResponse:
        refused = self._authorised(request)
        if refused:
            return refused
        if request.params["phone"] != self.phone_number_id:
            return _error(400, 100, "Unsupported post request.", type="GraphMethodException")
        try:
            body = request.json()
        except ValueError:
            return _error(400, 100, "(#100) Invalid JSON", type="OAuthException")
        kind = body.get("type") if isinstance(body, dict) else None
        to = str(body.get("to") or "") if isinstance(body, dict) else ""
        if body.get("messaging_product") != "whatsapp" or not to or kind not in body:
            return _error(400, 100, "(#100) Invalid parameter", type="OAuthException")
        if kind != "template":
            last = self.last_inbound.get(to)
            if last is None or self.clock() - last >= WINDOW_SECONDS:
                return _error(
                    400,
                    131047,
                    "Re-engagement message",
                    type="OAuthException",
                    error_data={
                        "messaging_product": "whatsapp",
                        "details": "Message failed to send because more than 24 hours have passed since the "
                        "customer last replied to this number.",
                    },
                )
        else:
            template = body["template"]
            if not any(t["name"] == template.get("name") for t in self.templates):
                return _error(404, 132001, "Template name does not exist in the translation", type="OAuthException")
        wamid = "wamid." + hashlib.sha256(f"{to}:{next(self._ids)}".encode()).hexdigest()[:40].upper()
        with self.lock:
            self.sent.append({**body, "_id": wamid})
        return json_response(
            {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}], "messages": [{"id": wamid}]}
        )

    def _upload(self, request: FakeRequest) -> FakeResponse:
        refused = self._authorised(request)
        if refused:
            return refused
        content_type = request.headers.get("content-type", "")
        if "multipart/form-data" not in content_type or b'name="messaging_product"' not in request.body:
            return _error(400, 100, "(#100) The parameter messaging_product is required.")
        _head, _sep, rest = request.body.partition(b'name="file"')
        data = rest.split(b"\r\n\r\n", 1)[1].rsplit(b"\r\n--", 1)[0] if b"\r\n\r\n" in rest else b""
        return json_response({"id": self.add_media(data, "application/octet-stream")})

    def _templates(self, request: FakeRequest) -> FakeResponse:
        refused = self._authorised(request)
        if refused:
            return refused
        status = request.arg("status")
        rows = [t for t in self.templates if not status or t["status"] == status]
        return json_response({"data": rows, "paging": {"cursors": {"before": "MAZDZD", "after": "MjQZD"}}})

    def _node(self, request: FakeRequest) -> FakeResponse:
        refused = self._authorised(request)
        if refused:
            return refused
        node = request.params["node"]
        if node == self.phone_number_id:
            return json_response(
                {
                    "verified_name": "Demo Shop",
                    "display_phone_number": "+1 555-010-0199",
                    "id": node,
                    "quality_rating": "GREEN",
                }
            )
        found = self.media.get(node)
        if found is None:
            return _error(
                404,
                100,
                f"Unsupported get request. Object with ID '{node}' does not exist",
                type="GraphMethodException",
            )
        content, mime = found
        return json_response(
            {
                "messaging_product": "whatsapp",
                "url": f"{self.url}/whatsapp_business/attachments/{node}",
                "mime_type": mime,
                "sha256": hashlib.sha256(content).hexdigest(),
                "file_size": str(len(content)),
                "id": node,
            }
        )

    def _download(self, request: FakeRequest) -> FakeResponse:
        refused = self._authorised(request)
        if refused:
            return refused
        found = self.media.get(request.params["media"])
        if found is None:
            return FakeResponse(status=404, body=b"")
        return FakeResponse(body=found[0], headers={"Content-Type": found[1]})

    # -- webhook pushes ------------------------------------------------------------------------
    def push(
        self,
        *,
        messages: list[dict[str, Any]] | None = None,
        statuses: list[dict[str, Any]] | None = None,
        contacts: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        value: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550100199", "phone_number_id": self.phone_number_id},
        }
        if messages is not None:
            value["contacts"] = contacts or []
            value["messages"] = messages
            with self.lock:
                for m in messages:
                    if m.get("from") and m.get("timestamp"):
                        self.last_inbound[str(m["from"])] = max(
                            self.last_inbound.get(str(m["from"]), 0), float(m["timestamp"])
                        )
        if statuses is not None:
            value["statuses"] = statuses
        return {
            "object": "whatsapp_business_account",
            "entry": [{"id": self.waba_id, "changes": [{"value": value, "field": "messages"}]}],
        }

    def text_push(
        self, wa_id: str, text: str, *, at: float, name: str = "Sheena Nelson", message_id: str = ""
    ) -> dict[str, Any]:
        message = {
            "from": wa_id,
            "id": message_id or f"wamid.IN{wa_id}{int(at)}",
            "timestamp": str(int(at)),
            "type": "text",
            "text": {"body": text},
        }
        return self.push(messages=[message], contacts=[{"profile": {"name": name}, "wa_id": wa_id}])

    def media_push(
        self,
        wa_id: str,
        kind: str,
        content: bytes,
        mime_type: str,
        *,
        at: float,
        caption: str = "",
        filename: str = "",
        voice: bool = False,
    ) -> dict[str, Any]:
        media_id = self.add_media(content, mime_type)
        part: dict[str, Any] = {"id": media_id, "mime_type": mime_type, "sha256": hashlib.sha256(content).hexdigest()}
        if caption:
            part["caption"] = caption
        if filename:
            part["filename"] = filename
        if voice:
            part["voice"] = True
        message = {"from": wa_id, "id": f"wamid.IN{media_id}", "timestamp": str(int(at)), "type": kind, kind: part}
        return self.push(messages=[message], contacts=[{"profile": {"name": "Sheena Nelson"}, "wa_id": wa_id}])

    def status_push(
        self, wamid: str, status: str, recipient: str, *, at: float, errors: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        item: dict[str, Any] = {"id": wamid, "status": status, "timestamp": str(int(at)), "recipient_id": recipient}
        if errors:
            item["errors"] = errors
        return self.push(statuses=[item])

    def signed(self, push: dict[str, Any], *, secret: str | None = None) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(push).encode()
        return body, {
            "X-Hub-Signature-256": hub_signature(secret or self.app_secret, body),
            "Content-Type": "application/json",
        }

    def deliver(self, hook_url: str, push: dict[str, Any]) -> int:
        """POST a signed push to a webhook URL as Meta does (the demo's fake traffic)."""
        body, headers = self.signed(push)
        return httpx.post(hook_url, content=body, headers=headers, timeout=30).status_code
