"""The reply box asks before sending a text as written in another language than the customer's,
or after a colleague's reply the agent has not seen; attachments in the reply and note boxes;
presence ("also viewing"); "send and next"."""

from __future__ import annotations

import io
import re

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from aftersales.inbox.models import Attachment, Message
from aftersales.inbox.services import ticket_reply

from .conftest import htmx_headers


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


PNG = _png()
CHINESE = "您好，您的退款已经处理完毕，款项将在三到五个工作日内退回到您的账户。"


@pytest.fixture(autouse=True)
def _clear_cache():  # type: ignore[no-untyped-def]
    cache.clear()
    yield
    cache.clear()


def url(name: str, ticket, **kw) -> str:  # type: ignore[no-untyped-def]
    return reverse(f"web:{name}", kwargs={"ticket_id": ticket.pk, **kw})


def italian_ticket(world):  # type: ignore[no-untyped-def]
    ticket = world.ticket(language="it")
    Message.objects.create(
        ticket=ticket,
        store=ticket.store,
        direction="inbound",
        channel="amazon",
        body="Buongiorno, il caricabatterie non funziona più.",
        language="it",
        external_id=f"in-{ticket.pk}",
    )
    return ticket


def seen_id(html: str) -> str:
    found = re.search(r'name="seen_message_id" value="(\d*)"', html)
    assert found, "the reply form carries the last message seen"
    return found.group(1)


def test_chinese_to_an_italian_buyer_asks_first_naming_both_languages(world, login):
    ticket = italian_ticket(world)
    client = login(world.agent)
    data = {"body": CHINESE, "idempotency_key": "k-1"}
    response = client.post(url("ticket_reply", ticket), data, **htmx_headers())
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="language-warning"' in html and "Chinese" in html and "Italian" in html
    assert 'name="confirm_language"' in html and CHINESE in html  # the text stays in the box
    assert not Message.objects.filter(direction="outbound").exists()
    sent = client.post(url("ticket_reply", ticket), {**data, "confirm_language": "1"}, **htmx_headers())
    assert sent.status_code == 200
    assert Message.objects.get(direction="outbound").body == CHINESE


def test_italian_and_short_texts_go_without_a_question(world, login):
    ticket = italian_ticket(world)
    client = login(world.agent)
    for body in ("Grazie mille per la pazienza, le spediamo subito un nuovo caricabatterie.", "OK, grazie", "好的"):
        assert client.post(url("ticket_reply", ticket), {"body": body}).status_code == 302, body
    assert Message.objects.filter(direction="outbound").count() == 3


def test_a_colleagues_reply_after_the_page_was_opened_asks_first(world, login):
    ticket = italian_ticket(world)
    client = login(world.agent)
    page = client.get(url("ticket", ticket)).content.decode()
    seen = seen_id(page)
    assert seen == str(Message.objects.get(ticket=ticket).pk)
    other = ticket_reply(ticket=ticket, author=world.teammate, body="Le abbiamo già spedito un nuovo caricabatterie.")
    data = {"body": "Le mandiamo un'etichetta per il reso del caricabatterie.", "seen_message_id": seen}
    response = client.post(url("ticket_reply", ticket), data, **htmx_headers())
    assert response.status_code == 409
    html = response.content.decode()
    assert 'id="newer-reply-warning"' in html and str(world.teammate) in html and f"#{other.pk}" in html
    assert 'name="confirm_newer"' in html and seen_id(html) == seen
    assert "Le abbiamo già spedito" in html  # the colleague's reply, in the timeline swapped out of band
    assert Message.objects.filter(direction="outbound").count() == 1
    sent = client.post(url("ticket_reply", ticket), {**data, "confirm_newer": "1"}, **htmx_headers())
    assert sent.status_code == 200
    assert Message.objects.filter(direction="outbound").count() == 2
    # after sending, the box starts again from what is on screen now: no question for the next reply
    assert seen_id(sent.content.decode()) == str(Message.objects.latest("pk").pk)


def png(name: str = "label.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def test_a_png_sent_with_the_web_reply_form_is_attached_and_previewed(world, login):
    ticket = world.ticket()
    client = login(world.agent)
    page = client.get(url("ticket", ticket)).content.decode()
    assert 'enctype="multipart/form-data"' in page and 'id="reply-files" name="attachments"' in page
    assert 'id="note-files" name="attachments"' in page
    response = client.post(url("ticket_reply", ticket), {"body": "Here is your label", "attachments": [png()]})
    assert response.status_code == 302
    attachment = Attachment.objects.get(message__direction="outbound")
    assert attachment.filename == "label.png" and attachment.content_type == "image/png"
    page = client.get(url("ticket", ticket)).content.decode()
    src = reverse("web:attachment", args=[attachment.pk])
    assert f'<img class="att-thumb" src="{src}"' in page  # a thumbnail through the checked download view


def test_an_html_file_is_refused_next_to_the_file_input_naming_it(world, login):
    ticket = world.ticket()
    client = login(world.agent)
    page = SimpleUploadedFile("invoice.html", b"<html><script>alert(1)</script></html>", content_type="text/html")
    data = {"body": "Here is your invoice", "attachments": [png(), page]}
    response = client.post(url("ticket_reply", ticket), data, **htmx_headers())
    assert response.status_code == 422
    html = response.content.decode()
    error = re.search(r'<span class="field-error" id="reply-files-error">([^<]*)</span>', html)
    assert error and "invoice.html" in error.group(1)
    assert "Here is your invoice" in html  # the text stays in the box
    assert not Message.objects.filter(direction="outbound").exists() and not Attachment.objects.exists()


def test_notes_take_attachments_too(world, login):
    ticket = world.ticket()
    client = login(world.agent)
    response = client.post(url("ticket_note", ticket), {"body": "Photo from the warehouse", "attachments": [png()]})
    assert response.status_code == 302
    note = Message.objects.get(direction="note")
    assert [a.content_type for a in note.attachments.all()] == ["image/png"]
    page = client.get(url("ticket", ticket)).content.decode()
    assert 'class="att-thumb"' in page
    bad = SimpleUploadedFile("x.svg", b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', content_type="image/svg+xml")
    refused = client.post(url("ticket_note", ticket), {"body": "And this", "attachments": [bad]}, **htmx_headers())
    assert refused.status_code == 422 and 'id="note-files-error"' in refused.content.decode()
    assert Message.objects.filter(direction="note").count() == 1
