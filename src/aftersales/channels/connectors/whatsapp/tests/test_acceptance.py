"""Acceptance (issue 12 section 5, WhatsApp Cloud API): signed pushes through /hooks/whatsapp/<token>
become tickets (text, pictures, voice notes downloaded with the token), replays store nothing twice,
forged signatures are refused, malformed items quarantined with the field while the rest goes on;
replies are sent within the 24-hour window with the exact request asserted, refused outside it
(23:59:59 inside, 24:00:00 outside) where only an approved template goes; a failed status marks the
reply failed; an expired token (code 190) pauses the store with Meta's words. SQLite and PostgreSQL."""

from __future__ import annotations

import struct
import time
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from aftersales.catalog.models import Store
from aftersales.channels.base import AuthError, ConnectorError, OutboundReply
from aftersales.channels.connectors.meta.graph import hub_signature
from aftersales.channels.connectors.whatsapp.connector import WhatsAppConnector
from aftersales.channels.connectors.whatsapp.fake import WhatsAppFake
from aftersales.channels.context import store_context
from aftersales.channels.models import RawEvent, RawEventStatus
from aftersales.channels.status import store_sync_for
from aftersales.core.errors import ValidationFailed
from aftersales.inbox.models import DeliveryStatus, Message, MessageDirection, Ticket
from aftersales.inbox.services import reply_rules
from aftersales.inbox.services.delivery import DeliveryRetry, message_deliver
from aftersales.inbox.services.tickets import ticket_reply

BUYER = "16505551234"


def outbound(store: Store, body: str, attachments: list[tuple[str, bytes, str]] | None = None) -> OutboundReply:
    """A reply to the buyer as the inbox hands it to the connector."""
    return OutboundReply(
        message_id=1,
        store_id=store.pk,
        credentials={},
        conversation_id=f"wa:106540352242922:{BUYER}",
        order_external_id=None,
        customer_address=BUYER,
        customer_name="Sheena Nelson",
        subject="",
        body=body,
        attachments=attachments or [],
    )


def tiny_png() -> bytes:
    """A valid 1x1 PNG (the inbox's upload checks open images)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def hook(store: Store) -> str:
    return f"/hooks/whatsapp/{store_sync_for(store).webhook_token}"


def post(store: Store, fake: WhatsAppFake, push: dict[str, Any], *, secret: str | None = None) -> Any:
    body, headers = fake.signed(push, secret=secret)
    return Client().post(hook(store), data=body, content_type="application/json", headers=headers)


def inbound(
    store: Store, fake: WhatsAppFake, text: str = "Hi, my parcel arrived damaged.", *, ago: float = 60
) -> Ticket:
    response = post(store, fake, fake.text_push(BUYER, text, at=time.time() - ago))
    assert response.status_code == 200, response.content
    return Ticket.objects.get(store=store)


def test_meta_subscribes_the_callback_with_the_verify_token(store: Store, fake: WhatsAppFake) -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": fake.verify_token, "hub.challenge": "1158201444"}
    answered = Client().get(hook(store), params)
    assert answered.status_code == 200 and answered.content == b"1158201444"
    assert answered["Content-Type"].startswith("text/plain")
    wrong = Client().get(hook(store), {**params, "hub.verify_token": "guess"})
    assert wrong.status_code == 403


def test_a_text_push_opens_one_ticket_and_replays_store_nothing_twice(store: Store, fake: WhatsAppFake) -> None:
    push = fake.text_push(BUYER, "Hi, my parcel arrived damaged.", at=time.time() - 60, name="Sheena Nelson")
    forged = post(store, fake, push, secret="not-the-app-secret")
    assert forged.status_code == 401 and not RawEvent.objects.filter(store=store).exists()
    unsigned = Client().post(hook(store), data=b"{}", content_type="application/json")
    assert unsigned.status_code == 401
    accepted = post(store, fake, push)
    assert accepted.status_code == 200, accepted.content
    ticket = Ticket.objects.get(store=store)
    assert ticket.customer.name == "Sheena Nelson"
    assert ticket.customer.identities.get(store=store).external_id == BUYER
    assert ticket.conversation_id == f"wa:{fake.phone_number_id}:{BUYER}"
    assert post(store, fake, push).json()["actions"] == {"duplicate": 1}  # Meta's retry
    later = fake.text_push(BUYER, "Any news?", at=time.time() - 30)
    assert post(store, fake, later).status_code == 200
    assert Ticket.objects.filter(store=store).count() == 1  # one ticket per conversation thread
    assert Message.objects.filter(ticket=ticket, direction=MessageDirection.INBOUND).count() == 2
    assert RawEvent.objects.filter(store=store).count() == 2


def test_pictures_and_voice_notes_are_downloaded_with_the_token(store: Store, fake: WhatsAppFake) -> None:
    png = tiny_png()
    picture = fake.media_push(BUYER, "image", png, "image/png", at=time.time() - 90, caption="the box")
    assert post(store, fake, picture).status_code == 200
    ogg = b"OggS\x00\x02" + b"\x00" * 64
    voice = fake.media_push(BUYER, "audio", ogg, "audio/ogg", at=time.time() - 60, voice=True)
    assert post(store, fake, voice).status_code == 200
    first, second = Message.objects.filter(store=store).order_by("id")
    assert first.body == "the box"
    [image] = first.attachments.all()
    assert image.content_type == "image/png" and image.file.read() == png
    [audio] = second.attachments.all()
    assert audio.filename.startswith("voice-note-")
    lookups = fake.requests_to(r"/v23\.0/\d+", "GET")
    downloads = fake.requests_to(r"/whatsapp_business/attachments/\d+", "GET")
    assert len(lookups) == 2 and len(downloads) == 2
    assert lookups[0].query == {"phone_number_id": [fake.phone_number_id]}
    assert {r.headers["authorization"] for r in lookups + downloads} == {f"Bearer {fake.access_token}"}


def test_malformed_items_are_quarantined_with_the_field_the_rest_goes_on(store: Store, fake: WhatsAppFake) -> None:
    at = str(int(time.time()) - 60)
    good = {"from": BUYER, "id": "wamid.GOOD", "timestamp": at, "type": "text", "text": {"body": "hello"}}
    broken = {"from": BUYER, "id": "wamid.BROKEN", "timestamp": at, "type": "text", "text": {}}
    gone = {"from": BUYER, "id": "wamid.GONE", "timestamp": at, "type": "image", "image": {"id": "404404"}}
    push = fake.push(messages=[broken, good, gone], contacts=[{"profile": {"name": "S"}, "wa_id": BUYER}])
    response = post(store, fake, push)
    assert response.status_code == 200 and response.json()["actions"] == {"quarantined": 2, "new_ticket": 1}
    text = RawEvent.objects.get(store=store, event_id="msg:wamid.BROKEN")
    assert text.status == RawEventStatus.QUARANTINED and text.field == "text.body"
    image = RawEvent.objects.get(store=store, event_id="msg:wamid.GONE")
    assert image.field == "image.id" and "does not exist" in image.reason
    assert Message.objects.get(store=store).external_id == "wamid.GOOD"
    wrong_phone = fake.push(messages=[good])
    wrong_phone["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999"
    assert post(store, fake, wrong_phone).status_code == 400
    not_json = b"{not json"
    refused = Client().post(
        hook(store),
        data=not_json,
        content_type="application/json",
        headers={"X-Hub-Signature-256": hub_signature(fake.app_secret, not_json)},
    )
    assert refused.status_code == 400


def test_a_reply_inside_the_window_is_sent_with_the_exact_request(store: Store, fake: WhatsAppFake, world: Any) -> None:
    ticket = inbound(store, fake)
    reply = ticket_reply(ticket=ticket, author=world.admin, body="Sorry! A replacement ships today.")
    assert message_deliver(reply.pk) == DeliveryStatus.SENT
    [sent] = fake.requests_to(rf"/v23\.0/{fake.phone_number_id}/messages", "POST")
    assert sent.headers["authorization"] == f"Bearer {fake.access_token}"
    assert sent.headers["content-type"] == "application/json"
    assert sent.json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": BUYER,
        "type": "text",
        "text": {"preview_url": False, "body": "Sorry! A replacement ships today."},
    }
    reply.refresh_from_db()
    assert reply.external_id == fake.sent[0]["_id"] and reply.external_id.startswith("wamid.")
    # Meta's statuses: delivered / read are receipts on the sent reply (test_receipts.py); failed marks
    # it failed with Meta's words.
    delivered = fake.status_push(reply.external_id, "delivered", BUYER, at=time.time())
    assert post(store, fake, delivered).json()["actions"] == {"updated": 1}
    failed = fake.status_push(
        reply.external_id, "failed", BUYER, at=time.time(), errors=[{"code": 131026, "title": "Message undeliverable"}]
    )
    assert post(store, fake, failed).status_code == 200
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED
    assert reply.delivery_error == "WhatsApp: Message undeliverable (code 131026)"


def test_attachments_are_uploaded_then_sent_by_media_id(store: Store, fake: WhatsAppFake) -> None:
    inbound(store, fake)
    connector = WhatsAppConnector()
    reply = outbound(store, "", attachments=[("label.pdf", b"%PDF-1.4 label", "application/pdf")])
    receipt = connector.send_message(store_context(store, connector=connector), reply)
    [upload] = fake.requests_to(rf"/v23\.0/{fake.phone_number_id}/media", "POST")
    assert upload.headers["content-type"].startswith("multipart/form-data")
    assert b'name="messaging_product"\r\n\r\nwhatsapp' in upload.body and b"%PDF-1.4 label" in upload.body
    [sent] = fake.requests_to(rf"/v23\.0/{fake.phone_number_id}/messages", "POST")
    media_id = upload_id = sent.json()["document"]["id"]
    assert sent.json()["type"] == "document" and sent.json()["document"] == {"id": upload_id, "filename": "label.pdf"}
    assert fake.media[media_id][0] == b"%PDF-1.4 label"
    assert receipt.external_id == fake.sent[0]["_id"]


@pytest.mark.parametrize(
    ("elapsed", "allowed"), [(timedelta(hours=23, minutes=59, seconds=59), True), (timedelta(hours=24), False)]
)
def test_the_window_at_its_edges(
    store: Store, fake: WhatsAppFake, world: Any, monkeypatch: pytest.MonkeyPatch, elapsed: timedelta, allowed: bool
) -> None:
    ticket = inbound(store, fake)
    last = Message.objects.get(ticket=ticket).sent_at
    monkeypatch.setattr(reply_rules, "now", lambda: last + elapsed)
    if allowed:
        reply = ticket_reply(ticket=ticket, author=world.admin, body="Still within the day.")
        assert reply.delivery_status == DeliveryStatus.QUEUED
        assert "free-form replies" in reply_rules.reply_rules_notice(ticket)
        return
    with pytest.raises(ValidationFailed) as caught:
        ticket_reply(ticket=ticket, author=world.admin, body="Too late for free text.")
    assert caught.value.field == "body" and "24-hour customer-service window closed" in str(caught.value)
    assert not Message.objects.filter(ticket=ticket, direction=MessageDirection.OUTBOUND).exists()
    assert "window is closed" in reply_rules.reply_rules_notice(ticket)


def test_outside_the_window_whatsapp_refuses_free_text_and_a_template_goes(store: Store, fake: WhatsAppFake) -> None:
    inbound(store, fake, ago=24 * 3600 + 5)
    connector = WhatsAppConnector()
    ctx = store_context(store, connector=connector)
    text = outbound(store, "Free text")
    with pytest.raises(ConnectorError) as caught:
        connector.send_message(ctx, text)
    assert caught.value.permanent and "more than 24 hours have passed" in str(caught.value)
    assert not isinstance(caught.value, AuthError)  # Meta types it OAuthException: not a token problem
    [template] = connector.list_templates(ctx)
    assert (template.name, template.language, template.variables) == ("order_update", "en_US", 2)
    [listed] = fake.requests_to(rf"/v23\.0/{fake.waba_id}/message_templates", "GET")
    assert listed.query["status"] == ["APPROVED"]
    receipt = connector.send_template(
        ctx, to=BUYER, name="order_update", language="en_US", variables=["Sheena", "#1042"]
    )
    sent = fake.requests_to(rf"/v23\.0/{fake.phone_number_id}/messages", "POST")[-1]
    assert sent.json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": BUYER,
        "type": "template",
        "template": {
            "name": "order_update",
            "language": {"code": "en_US"},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": "Sheena"}, {"type": "text", "text": "#1042"}]}
            ],
        },
    }
    assert receipt.external_id == fake.sent[-1]["_id"]


def test_an_expired_token_pauses_the_store_and_says_why(store: Store, fake: WhatsAppFake, world: Any) -> None:
    ticket = inbound(store, fake)
    reply = ticket_reply(ticket=ticket, author=world.admin, body="Hello")
    fake.token_expired = True
    assert message_deliver(reply.pk) == DeliveryStatus.FAILED
    sync = store_sync_for(store)
    sync.refresh_from_db()
    assert sync.paused and "Session has expired" in sync.paused_reason and "(code 190)" in sync.paused_reason
    reply.refresh_from_db()
    assert "Session has expired" in reply.delivery_error
    check = WhatsAppConnector().test_connection(store_context(store, connector=WhatsAppConnector()))
    assert not check.ok and "code 190" in check.detail


def test_429_is_retried_a_5xx_on_a_send_is_not_resent(store: Store, fake: WhatsAppFake, waits: list[float]) -> None:
    inbound(store, fake)
    connector = WhatsAppConnector()
    ctx = store_context(store, connector=connector)
    text = outbound(store, "Hello")
    path = rf"/v23\.0/{fake.phone_number_id}/messages"
    fake.throttle_next(path, retry_after=3)
    assert connector.send_message(ctx, text).external_id.startswith("wamid.")
    assert waits == [3.0] and len(fake.requests_to(path)) == 2
    fake.fail_next(path, status=500, body={"error": {"message": "An unknown error occurred", "code": 1}})
    with pytest.raises(ConnectorError) as caught:
        connector.send_message(ctx, text)
    assert not caught.value.permanent and len(fake.requests_to(path)) == 3  # not resent blindly
    fake.access_token = "rotated"
    with pytest.raises(AuthError):
        connector.send_message(ctx, text)


def test_a_transient_failure_puts_the_reply_back_in_the_queue(store: Store, fake: WhatsAppFake, world: Any) -> None:
    ticket = inbound(store, fake)
    reply = ticket_reply(ticket=ticket, author=world.admin, body="Hello")
    fake.fail_next(rf"/v23\.0/{fake.phone_number_id}/messages", status=503, times=10)
    with pytest.raises(DeliveryRetry):
        message_deliver(reply.pk)
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.QUEUED
    assert datetime.now(UTC) > reply.created_at
