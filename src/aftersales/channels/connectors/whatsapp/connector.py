"""WhatsApp Cloud API connector (Graph API v23.0): webhooks in (messages with their media, delivery
statuses), replies out (text, media within the 24-hour customer-service window; approved templates
with variables at any time), the approved template list, the phone number check.
docs/connectors/whatsapp.md lists the calls and the facts relied on.

WhatsApp has no message history API: pushes are the only source, so the webhook is the stream
(stored raw first, idempotent by message id). Media is downloaded while the push is received (its
URL lives five minutes) and kept in the raw item, so a quarantined item re-maps without Meta."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from aftersales.channels.base import (
    Capability,
    ConnectionCheck,
    ConnectorError,
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
from .webhooks import parse_push, push_items
from .window import TEXT_MAX_CHARS

# Media size limits of the Cloud API (media guide): audio, video 16 MB, images 5 MB, documents 100 MB,
# stickers 500 KB. Downloads above MAX_MEDIA_BYTES are refused (quarantined with the reason).
MAX_MEDIA_BYTES = 16 * 1024 * 1024
SENDABLE_MEDIA = ("image", "audio", "video", "document")


@dataclass(frozen=True)
class Template:
    name: str
    language: str
    category: str = ""
    body: str = ""  # the BODY component's text with {{1}}... placeholders
    variables: int = 0
    header_format: str = ""  # TEXT, IMAGE, VIDEO, DOCUMENT (or LOCATION: not sendable here)
    header_text: str = ""
    header_variables: int = 0
    buttons: tuple[dict[str, Any], ...] = ()  # {"type", "text", "url", "variables"}


def _placeholders(text: str) -> int:
    return sum(1 for i in range(1, 21) if f"{{{{{i}}}}}" in text)


def _template_of(item: Mapping[str, Any]) -> Template:
    """One template of the Graph API's message_templates listing."""
    components = [c for c in item.get("components") or [] if isinstance(c, Mapping)]
    by_type = {str(c.get("type") or "").upper(): c for c in components}
    body = str(by_type.get("BODY", {}).get("text") or "")
    header = by_type.get("HEADER", {})
    header_format = str(header.get("format") or "").upper() if header else ""
    header_text = str(header.get("text") or "") if header_format == "TEXT" else ""
    buttons = []
    for button in by_type.get("BUTTONS", {}).get("buttons") or []:
        if not isinstance(button, Mapping):
            continue
        kind, url = str(button.get("type") or "").upper(), str(button.get("url") or "")
        buttons.append(
            {
                "type": kind,
                "text": str(button.get("text") or "")[:100],
                "url": url[:2000],
                "variables": 1 if kind == "URL" and "{{1}}" in url else 0,
            }
        )
    return Template(
        str(item["name"]),
        str(item.get("language") or ""),
        str(item.get("category") or ""),
        body,
        _placeholders(body),
        header_format,
        header_text[:200],
        _placeholders(header_text),
        tuple(buttons),
    )


def _media_kind(content_type: str) -> str:
    major = content_type.split("/")[0].lower()
    if major in ("image", "audio", "video"):
        return major
    return "document"


class WhatsAppConnector(MetaConnector):
    platform = "whatsapp"
    capabilities = frozenset({Capability.WEBHOOKS, Capability.SEND_MESSAGE, Capability.TEST_CONNECTION})
    # Cloud API throughput: 80 messages per second per business phone number by default; media and
    # management calls share the app's Graph limits. A 429 / code 130429 is honoured with its wait.
    rate_limits: ClassVar[dict[str, tuple[float, int]]] = {"meta": (20.0, 80), "whatsapp:send": (80.0, 80)}
    credential_fields: ClassVar[tuple[str, ...]] = (
        "phone_number_id",
        "waba_id",
        "access_token",
        "app_secret",
        "verify_token",
    )

    @staticmethod
    def _phone(ctx: StoreContext) -> str:
        phone = str(ctx.credentials.get("phone_number_id") or "").strip()
        if not phone:
            raise ConnectorError("the store has no phone number id", permanent=True, code="phone_number_id")
        return phone

    # -- receiving ---------------------------------------------------------------------------------
    def verify_webhook(self, ctx: StoreContext, headers: Mapping[str, str], body: bytes) -> list[RawRecord]:
        self.verify_signature(ctx, headers, body)
        items = push_items(parse_push(body), phone_number_id=self._phone(ctx))
        records: list[RawRecord] = []
        with self.client(ctx) as client:
            for event_id, item in items:
                message = item.get("message")
                kind = message.get("type") if isinstance(message, Mapping) else None
                if kind in mapping.MEDIA_TYPES and isinstance(message.get(kind), Mapping):  # type: ignore[union-attr]
                    item["media"] = self._download(client, message[kind])  # type: ignore[index]
                records.append(RawRecord(Stream.MESSAGES, event_id, item))
        return records

    def _download(self, client: GraphClient, media: Mapping[str, Any]) -> dict[str, Any]:
        """GET /<media id> for the short-lived URL, then the bytes from it with the same token. A
        permanent refusal is kept as the item's error (quarantined with it); transient ones raise
        (the push is answered 503 and Meta sends it again)."""
        media_id = str(media.get("id") or "")
        if not media_id:
            return {"error": "no media id"}
        try:
            info = client.call("GET", media_id, params={"phone_number_id": self._phone(client.ctx)}, bucket="meta")
            url = str(info.get("url") or "")
            if not url.startswith(("https://", "http://")):
                return {"error": "Meta gave no media URL"}
            size = int(str(info.get("file_size") or 0) or 0)
            if size > MAX_MEDIA_BYTES:
                return {"error": f"the file is {size} bytes, more than {MAX_MEDIA_BYTES}"}
            content = client.request("GET", url, bucket="meta").content
        except ConnectorError as exc:
            if not exc.permanent:
                raise
            return {"error": str(exc)[:300]}
        if len(content) > MAX_MEDIA_BYTES:
            return {"error": f"the file is {len(content)} bytes, more than {MAX_MEDIA_BYTES}"}
        return {
            "mime_type": str(info.get("mime_type") or media.get("mime_type") or ""),
            "filename": str(media.get("filename") or ""),
            "data_b64": base64.b64encode(content).decode(),
        }

    def map_record(self, ctx: StoreContext, raw: RawRecord) -> list[Record]:
        return mapping.map_payload(raw.payload)

    def test_connection(self, ctx: StoreContext) -> ConnectionCheck:
        try:
            with self.client(ctx) as client:
                data = client.call(
                    "GET", self._phone(ctx), params={"fields": "display_phone_number,verified_name"}, bucket="meta"
                )
        except ConnectorError as exc:
            return ConnectionCheck(ok=False, detail=str(exc))
        return ConnectionCheck(
            ok=True,
            detail=f"WhatsApp answered: {data.get('verified_name', '')} {data.get('display_phone_number', '')}".strip(),
        )

    # -- sending -----------------------------------------------------------------------------------
    def _send(self, client: GraphClient, to: str, kind: str, content: Mapping[str, Any]) -> str:
        data = client.call(
            "POST",
            self._phone(client.ctx),
            "messages",
            json={
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": to,
                "type": kind,
                kind: content,
            },
            bucket="whatsapp:send",
            idempotent=False,
        )
        messages = data.get("messages")
        wamid = (
            messages[0].get("id")
            if isinstance(messages, list) and messages and isinstance(messages[0], Mapping)
            else None
        )
        if not wamid:
            raise ConnectorError("WhatsApp accepted the message without a message id")
        return str(wamid)

    @staticmethod
    def _recipient(reply_address: str) -> str:
        to = reply_address.strip().lstrip("+")
        if not to.isdigit():
            raise ConnectorError(f"the buyer's WhatsApp id is unknown ({reply_address!r})", permanent=True, code="to")
        return to

    def send_message(self, ctx: StoreContext, reply: OutboundReply) -> SentReceipt:
        """Text, then each attachment (uploaded, sent by media id). WhatsApp itself refuses free-form
        messages outside the 24-hour window (error 131047): that refusal fails the delivery with
        Meta's words; the inbox refuses such a reply before it is queued (inbox reply rules).
        A reply carrying a template (inbox ticket_template_reply) is sent as that template."""
        if reply.template:
            return self.send_template(
                ctx,
                to=reply.customer_address,
                name=str(reply.template["name"]),
                language=str(reply.template["language"]),
                variables=[str(v) for v in reply.template.get("variables") or []],
                header=reply.template.get("header") or None,
                buttons=list(reply.template.get("buttons") or []),
            )
        to = self._recipient(reply.customer_address)
        text = reply.body.strip()
        if text or not reply.attachments:
            text = reply_text(reply, limit=TEXT_MAX_CHARS, platform="WhatsApp", code="text.body")
        first = ""
        with self.client(ctx) as client:
            if text:
                first = self._send(client, to, "text", {"preview_url": False, "body": text})
            for filename, content, content_type in reply.attachments:
                kind = _media_kind(content_type)
                media_id = self.upload_media(client, filename, content, content_type)
                part: dict[str, Any] = {"id": media_id}
                if kind == "document":
                    part["filename"] = filename
                wamid = self._send(client, to, kind, part)
                first = first or wamid
        return SentReceipt(external_id=first, sent_at=now())

    def upload_media(self, client: GraphClient, filename: str, content: bytes, content_type: str) -> str:
        data = client.call(
            "POST",
            self._phone(client.ctx),
            "media",
            data={"messaging_product": "whatsapp", "type": content_type},
            files={"file": (filename, content, content_type)},
            bucket="meta",
        )
        media_id = data.get("id")
        if not media_id:
            raise ConnectorError("WhatsApp stored the media without giving its id")
        return str(media_id)

    def send_template(
        self,
        ctx: StoreContext,
        *,
        to: str,
        name: str,
        language: str,
        variables: list[str],
        header: Mapping[str, Any] | None = None,
        buttons: list[Mapping[str, Any]] | None = None,
    ) -> SentReceipt:
        """An approved template, allowed outside the window; `variables` fill {{1}}, {{2}}... of
        its body in order; `header` ({"type": "text", "text"} or {"type": "image" | "video" |
        "document", "link", "filename"}) its header's parameter; `buttons` ({"index", "type": "url"
        | "quick_reply", "value"}) the URL suffixes and quick-reply payloads, as checked by
        inbox.services.template_replies against the stored template."""
        content: dict[str, Any] = {"name": name, "language": {"code": language}}
        components: list[dict[str, Any]] = []
        if header:
            kind = str(header.get("type") or "")
            if kind == "text":
                parameter: dict[str, Any] = {"type": "text", "text": str(header.get("text") or "")}
            else:
                media: dict[str, Any] = {"link": str(header.get("link") or "")}
                if kind == "document" and header.get("filename"):
                    media["filename"] = str(header["filename"])
                parameter = {"type": kind, kind: media}
            components.append({"type": "header", "parameters": [parameter]})
        if variables:
            components.append({"type": "body", "parameters": [{"type": "text", "text": str(v)} for v in variables]})
        for button in buttons or []:
            sub_type = str(button.get("type") or "")
            value = str(button.get("value") or "")
            param = {"type": "text", "text": value} if sub_type == "url" else {"type": "payload", "payload": value}
            components.append(
                {"type": "button", "sub_type": sub_type, "index": str(button.get("index")), "parameters": [param]}
            )
        if components:
            content["components"] = components
        with self.client(ctx) as client:
            wamid = self._send(client, self._recipient(to), "template", content)
        return SentReceipt(external_id=wamid, sent_at=now())

    def list_templates(self, ctx: StoreContext) -> list[Template]:
        """The account's APPROVED templates (paged by cursors.after)."""
        waba = str(ctx.credentials.get("waba_id") or "").strip()
        if not waba:
            raise ConnectorError("the store has no WhatsApp Business Account id", permanent=True, code="waba_id")
        found: list[Template] = []
        params: dict[str, Any] = {"status": "APPROVED", "fields": "name,language,category,components", "limit": 100}
        with self.client(ctx) as client:
            for _ in range(20):
                data = client.call("GET", waba, "message_templates", params=params, bucket="meta")
                for item in data.get("data") or []:
                    if isinstance(item, Mapping) and item.get("name"):
                        found.append(_template_of(item))
                after = ((data.get("paging") or {}).get("cursors") or {}).get("after")
                if not after or not (data.get("paging") or {}).get("next"):
                    break
                params["after"] = after
        return found
