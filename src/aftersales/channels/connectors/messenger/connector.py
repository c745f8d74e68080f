"""Facebook Messenger connector (Messenger Platform, Graph API v23.0): webhooks in (messages with
their attachments, the Page's own answers as echoes), replies out within the 24-hour window, or up to
7 days with the HUMAN_AGENT tag where the app was granted it (`human_agent` credential), text and
attachments (uploaded, sent by attachment id). docs/connectors/messenger.md lists the calls.

Like WhatsApp, Messenger has no history API for a Page's inbox here: pushes are the stream (stored raw
first, idempotent by mid). The Graph client, signature and handshake are meta/graph.py's."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any, ClassVar

from aftersales.channels.base import (
    Capability,
    ConnectionCheck,
    ConnectorError,
    MappingError,
    OutboundReply,
    RawRecord,
    Record,
    SentReceipt,
    StoreContext,
    Stream,
)
from aftersales.channels.replies import reply_text
from aftersales.core.clock import now

from ..meta.base import MetaConnector
from ..meta.graph import GraphClient
from . import mapping
from .limits import TEXT_MAX_CHARS

MAX_MEDIA_BYTES = 25 * 1024 * 1024  # attachments up to 25 MB
ATTACHMENT_TYPES = {"image": "image", "video": "video", "audio": "audio"}


def human_agent(credentials: Mapping[str, Any]) -> bool:
    value = credentials.get("human_agent")
    return value is True or str(value).lower() in {"true", "1", "yes", "on"}


def parse_push(body: bytes) -> Mapping[str, Any]:
    try:
        push = json.loads(body)
    except ValueError as exc:
        raise MappingError("the push is not JSON", field="body") from exc
    if not isinstance(push, Mapping) or push.get("object") != "page" or not isinstance(push.get("entry"), list):
        raise MappingError("the push is not a Page event (object=page, entry)", field="object")
    return push


def push_items(push: Mapping[str, Any], *, page_id: str) -> list[tuple[str, dict[str, Any]]]:
    items: list[tuple[str, dict[str, Any]]] = []
    for entry in push["entry"]:
        if not isinstance(entry, Mapping) or str(entry.get("id") or "") != page_id:
            raise MappingError("the push is for another Page than this store's", field="entry.id")
        for event in entry.get("messaging") or []:
            head = event if isinstance(event, Mapping) else {}
            message = head.get("message")
            if isinstance(message, Mapping):
                items.append((f"mid:{message.get('mid', '')}", {"kind": "message", "page_id": page_id, "event": head}))
                continue
            digest = hashlib.sha256(json.dumps(head, sort_keys=True).encode()).hexdigest()[:24]
            what = next((k for k in ("delivery", "read", "reaction", "postback", "referral") if k in head), "event")
            if what in ("delivery", "read"):  # receipts of our replies (mapping.map_receipt)
                items.append((f"{what}:{digest}", {"kind": what, "page_id": page_id, "event": head}))
                continue
            items.append((f"{what}:{digest}", {"kind": "ignored", "reason": f"Messenger {what}"}))
    return items


class MessengerConnector(MetaConnector):
    platform = "facebook"
    capabilities = frozenset({Capability.WEBHOOKS, Capability.SEND_MESSAGE, Capability.TEST_CONNECTION})
    rate_limits: ClassVar[dict[str, tuple[float, int]]] = {"meta": (20.0, 80), "messenger:send": (20.0, 80)}
    credential_fields: ClassVar[tuple[str, ...]] = (
        "page_id",
        "access_token",
        "app_secret",
        "verify_token",
        "human_agent",
    )

    @staticmethod
    def _page(ctx: StoreContext) -> str:
        page = str(ctx.credentials.get("page_id") or "").strip()
        if not page:
            raise ConnectorError("the store has no Page id", permanent=True, code="page_id")
        return page

    # -- receiving ---------------------------------------------------------------------------------
    def verify_webhook(self, ctx: StoreContext, headers: Mapping[str, str], body: bytes) -> list[RawRecord]:
        self.verify_signature(ctx, headers, body)
        items = push_items(parse_push(body), page_id=self._page(ctx))
        records: list[RawRecord] = []
        with self.client(ctx) as client:
            for event_id, item in items:
                event = item.get("event") or {}
                message = event.get("message") or {}
                if item["kind"] == "message":
                    person = str((event.get("recipient" if message.get("is_echo") else "sender") or {}).get("id") or "")
                    item["profile"] = self._profile(client, person)
                    item["media"] = [
                        self._download(client, a)
                        for a in message.get("attachments") or []
                        if isinstance(a, Mapping) and a.get("type") in mapping.MEDIA_TYPES
                    ]
                records.append(RawRecord(Stream.MESSAGES, event_id, item))
        return records

    def _profile(self, client: GraphClient, psid: str) -> dict[str, Any]:
        """The person's name (User Profile API); without it the ticket still opens."""
        if not psid.isdigit():
            return {}
        try:
            data = client.call("GET", psid, params={"fields": "first_name,last_name"}, bucket="meta")
        except ConnectorError as exc:
            if not exc.permanent:
                raise
            return {}
        return {k: str(data.get(k) or "") for k in ("first_name", "last_name")}

    def _download(self, client: GraphClient, attachment: Mapping[str, Any]) -> dict[str, Any]:
        url = str((attachment.get("payload") or {}).get("url") or "")
        if not url.startswith(("https://", "http://")):
            return {"error": "no attachment URL"}
        try:
            response = client.request("GET", url, bucket="meta")
        except ConnectorError as exc:
            if not exc.permanent:
                raise
            return {"error": str(exc)[:300]}
        if len(response.content) > MAX_MEDIA_BYTES:
            return {"error": f"the file is {len(response.content)} bytes, more than {MAX_MEDIA_BYTES}"}
        return {
            "type": str(attachment.get("type")),
            "mime_type": response.headers.get("Content-Type", ""),
            "data_b64": base64.b64encode(response.content).decode(),
        }

    def map_record(self, ctx: StoreContext, raw: RawRecord) -> list[Record]:
        return mapping.map_payload(raw.payload)

    def test_connection(self, ctx: StoreContext) -> ConnectionCheck:
        try:
            with self.client(ctx) as client:
                data = client.call("GET", self._page(ctx), params={"fields": "name"}, bucket="meta")
        except ConnectorError as exc:
            return ConnectionCheck(ok=False, detail=str(exc))
        return ConnectionCheck(ok=True, detail=f"Messenger answered: Page {data.get('name', '')}".strip())

    # -- sending -----------------------------------------------------------------------------------
    @staticmethod
    def _tagging(ctx: StoreContext) -> dict[str, str]:
        """HUMAN_AGENT (up to 7 days after the person's last message) when the app was granted it; else a
        RESPONSE within the 24-hour window. The inbox's reply rules refuse a reply past the window."""
        if human_agent(ctx.credentials):
            return {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
        return {"messaging_type": "RESPONSE"}

    def _send(self, client: GraphClient, psid: str, message: Mapping[str, Any]) -> str:
        data = client.call(
            "POST",
            "me",
            "messages",
            json={"recipient": {"id": psid}, **self._tagging(client.ctx), "message": message},
            bucket="messenger:send",
            idempotent=False,
        )
        mid = data.get("message_id")
        if not mid:
            raise ConnectorError("Messenger accepted the message without a message_id")
        return str(mid)

    def send_message(self, ctx: StoreContext, reply: OutboundReply) -> SentReceipt:
        psid = reply.customer_address.strip()
        if not psid.isdigit():
            raise ConnectorError(f"the person's Messenger id is unknown ({psid!r})", permanent=True, code="recipient")
        first = ""
        with self.client(ctx) as client:
            if reply.body.strip() or not reply.attachments:
                text = reply_text(reply, limit=TEXT_MAX_CHARS, platform="Messenger", code="message.text")
                first = self._send(client, psid, {"text": text})
            for filename, content, content_type in reply.attachments:
                kind = ATTACHMENT_TYPES.get(content_type.split("/")[0].lower(), "file")
                attachment_id = self._upload(client, kind, filename, content, content_type)
                mid = self._send(
                    client, psid, {"attachment": {"type": kind, "payload": {"attachment_id": attachment_id}}}
                )
                first = first or mid
        return SentReceipt(external_id=first, sent_at=now())

    def _upload(self, client: GraphClient, kind: str, filename: str, content: bytes, content_type: str) -> str:
        data = client.call(
            "POST",
            "me",
            "message_attachments",
            data={"message": json.dumps({"attachment": {"type": kind, "payload": {"is_reusable": True}}})},
            files={"filedata": (filename, content, content_type)},
            bucket="meta",
        )
        attachment_id = data.get("attachment_id")
        if not attachment_id:
            raise ConnectorError("Messenger stored the attachment without giving its id")
        return str(attachment_id)
