"""Pictures in replies to eBay buyers (issue 9: attachments in eBay replies). The Message API takes
media by URL only: each picture is uploaded to eBay Picture Services first (Media API
createImageFromFile, multipart field "image"), then sent as messageMedia with the EPS URL. What eBay
cannot carry (a PDF, a sixth picture, a file above 12 MB, a text above 2,000 characters) is refused
when the agent queues the reply, naming the field, and by the connector before anything is uploaded.
Runs against the eBay fake on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from aftersales.channels.base import ConnectorError, OutboundReply, Stream
from aftersales.channels.connectors.ebay.connector import CREATE_IMAGE_PATH, EbayConnector
from aftersales.channels.connectors.ebay.fake import EbayFake
from aftersales.channels.sync import sync_stream
from aftersales.core.errors import ValidationFailed
from aftersales.inbox.models import Ticket
from aftersales.inbox.services.common import AttachmentInput

from .test_acceptance import ago, load

pytestmark = pytest.mark.django_db

SEND = "/commerce/message/v1/send_message"


def picture(color: tuple[int, int, int] = (200, 30, 30), fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(out, format=fmt)
    return out.getvalue()


def reply(**fields: Any) -> OutboundReply:
    base: dict[str, Any] = {
        "message_id": 1,
        "store_id": 1,
        "credentials": {},
        "conversation_id": "C-771100",
        "order_external_id": None,
        "customer_address": "buyer_anna",
        "customer_name": "Anna",
        "subject": "",
        "body": "Hier das Foto des Ersatzteils.",
    }
    return OutboundReply(**{**base, **fields})


def test_pictures_are_uploaded_then_sent_by_their_eps_url(fake: EbayFake, ctx: Any) -> None:
    conversation = load("conversation.json")
    fake.add_conversation(conversation, conversation.pop("messages"))
    red, blue = picture((200, 30, 30)), picture((20, 30, 200), "JPEG")
    receipt = EbayConnector().send_message(
        ctx, reply(attachments=[("teil.png", red, "image/png"), ("karton.jpg", blue, "image/jpeg")])
    )
    uploads = fake.requests_to(CREATE_IMAGE_PATH)
    assert len(uploads) == 2
    for upload, (name, content) in zip(uploads, [("teil.png", red), ("karton.jpg", blue)], strict=True):
        assert upload.method == "POST" and upload.headers["authorization"].startswith("Bearer ")
        assert upload.headers["content-type"].startswith("multipart/form-data; boundary=")
        assert f'name="image"; filename="{name}"'.encode() in upload.body and content in upload.body
    [sent] = fake.requests_to(SEND)
    body = sent.json()
    assert body["messageText"] == "Hier das Foto des Ersatzteils." and body["conversationId"] == "C-771100"
    hosted = sorted(i["imageUrl"] for i in fake.images.values())
    assert [m["mediaName"] for m in body["messageMedia"]] == ["teil.png", "karton.jpg"]
    assert {m["mediaType"] for m in body["messageMedia"]} == {"IMAGE"}
    assert sorted(m["mediaUrl"] for m in body["messageMedia"]) == hosted
    # eBay shows the pictures in the conversation: the same bytes come back from the EPS URL.
    last = fake.conversations["C-771100"]["messages"][-1]
    assert last["messageId"] == receipt.external_id and len(last["messageMedia"]) == 2
    assert fake.media[body["messageMedia"][0]["mediaUrl"].rsplit("/", 1)[-1]][0] == red


@pytest.mark.parametrize(
    ("attachments", "words"),
    [
        ([("invoice.pdf", b"%PDF-1.4 x", "application/pdf")], "pictures only"),
        ([(f"p{i}.png", picture(), "image/png") for i in range(6)], "at most 5"),
        ([("huge.png", b"\x89PNG" + b"0" * (12 * 1024 * 1024), "image/png")], "12 MB"),
    ],
)
def test_what_ebay_cannot_carry_is_refused_before_any_upload(
    fake: EbayFake, ctx: Any, attachments: list[tuple[str, bytes, str]], words: str
) -> None:
    with pytest.raises(ConnectorError) as refused:
        EbayConnector().send_message(ctx, reply(attachments=attachments))
    assert refused.value.permanent and refused.value.code == "messageMedia" and words in str(refused.value)
    assert fake.requests_to(CREATE_IMAGE_PATH) == [] and fake.requests_to(SEND) == []


def test_the_fake_refuses_a_media_url_that_is_not_an_eps_image(fake: EbayFake, ctx: Any) -> None:
    """eBay validates messageMedia URLs; the fake does too (so a connector that skipped the upload fails)."""
    import httpx

    with EbayConnector().client(ctx) as client:
        token = client.user_token()
    answer = httpx.post(
        fake.url + SEND,
        json={
            "messageText": "x",
            "otherPartyUsername": "buyer_anna",
            "messageMedia": [{"mediaName": "a.png", "mediaType": "IMAGE", "mediaUrl": "https://example.com/a.png"}],
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 400 and "not an eBay-hosted image" in answer.text


def _ebay_ticket(world: Any, fake: EbayFake) -> Ticket:
    store = world.store_de  # the personas' eBay.de store, pointed at the fake
    store.endpoint_url = fake.url
    store.external_id = fake.seller
    store.currency = "EUR"
    store.credentials = fake.credentials(signing_key=fake.new_signing_key())
    store.save()
    conversation = load("conversation.json")
    messages = conversation.pop("messages")
    messages[0]["createdDate"], messages[1]["createdDate"] = ago(40), ago(39)
    fake.add_conversation(conversation, messages)
    assert sync_stream(store_id=store.pk, stream=Stream.MESSAGES).created == 2
    return Ticket.objects.get(store=store)


def test_an_agents_reply_with_a_picture_reaches_the_buyer_on_ebay(world: Any, fake: EbayFake, monkeypatch) -> None:
    from aftersales.inbox.services.delivery import message_deliver
    from aftersales.inbox.services.tickets import ticket_reply

    monkeypatch.setattr("aftersales.channels.http.wait_seconds", lambda s: None)
    ticket = _ebay_ticket(world, fake)
    png = picture()
    queued = ticket_reply(
        ticket=ticket,
        author=world.admin,
        body="So sieht das Ersatzteil aus.",
        attachments=[AttachmentInput(filename="ersatzteil.png", content=png, content_type="image/png")],
    )
    assert message_deliver(queued.pk) == "sent"
    [upload] = fake.requests_to(CREATE_IMAGE_PATH)
    assert png in upload.body
    [sent] = fake.requests_to(SEND)
    [media] = sent.json()["messageMedia"]
    assert media["mediaName"] == "ersatzteil.png" and media["mediaUrl"] == next(iter(fake.images.values()))["imageUrl"]
    # the next poll sees our reply (with its picture) as the message it already knows
    run = sync_stream(store_id=ticket.store_id, stream=Stream.MESSAGES)
    assert run.created == 0 and ticket.messages.count() == 3


def test_a_draft_ebay_would_refuse_is_refused_when_queued_naming_the_field(world: Any, fake: EbayFake) -> None:
    from aftersales.inbox.services.tickets import ticket_reply

    ticket = _ebay_ticket(world, fake)
    before = ticket.messages.count()
    with pytest.raises(ValidationFailed) as refused:
        ticket_reply(
            ticket=ticket,
            author=world.admin,
            body="Ihre Rechnung anbei.",
            attachments=[AttachmentInput(filename="rechnung.pdf", content=_pdf(), content_type="application/pdf")],
        )
    assert refused.value.field == "attachments[0]" and "pictures only" in refused.value.message
    with pytest.raises(ValidationFailed) as too_long:
        ticket_reply(ticket=ticket, author=world.admin, body="x" * 2001)
    assert too_long.value.field == "body"
    assert ticket.messages.count() == before  # nothing half-written
    assert fake.requests_to(SEND) == []


def test_the_reply_box_states_ebays_rules(world: Any, fake: EbayFake) -> None:
    from aftersales.inbox.services.reply_rules import reply_rules_notice

    notice = reply_rules_notice(_ebay_ticket(world, fake))
    assert "2000" in notice and "5" in notice and "JPG" in notice


def _pdf() -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, "Rechnung 2026-0001")
    page.save()
    return out.getvalue()
