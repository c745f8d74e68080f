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


def ticket_ids_in_list(client, query: str) -> list[int]:  # type: ignore[no-untyped-def]
    html = client.get(reverse("web:inbox") + "?" + query).content.decode()
    return [int(pk) for pk in re.findall(r'data-ticket-id="(\d+)"', html)]


def test_next_and_previous_follow_the_list_the_agent_came_from(world, login):
    tickets = [world.ticket() for _ in range(4)]
    world.ticket(status="solved")  # not in the "open" list
    client = login(world.agent)
    query = "status=open&sort=created_at"
    order = ticket_ids_in_list(client, query)
    assert order == [t.pk for t in tickets]
    nxt = client.get(url("ticket_next", tickets[1]), {"in": query})
    assert nxt.status_code == 302 and nxt["Location"].startswith(reverse("web:ticket", args=[order[2]]) + "?in=")
    prev = client.get(url("ticket_next", tickets[1]), {"in": query, "dir": "prev"})
    assert prev["Location"].startswith(reverse("web:ticket", args=[order[0]]))
    end = client.get(url("ticket_next", tickets[3]), {"in": query})
    assert end["Location"] == reverse("web:inbox") + "?" + query  # the end of the list: back to it
    # newest first (the default sort) walks the other way
    assert client.get(url("ticket_next", tickets[2]), {"in": "status=open"})["Location"].startswith(
        reverse("web:ticket", args=[tickets[1].pk])
    )
    page = client.get(url("ticket", tickets[1]) + "?" + "in=status%3Dopen%26sort%3Dcreated_at").content.decode()
    assert 'id="ticket-nav"' in page and 'id="shortcut-help"' in page
    assert 'name="in" value="status=open&amp;sort=created_at"' in page


def test_send_and_next_opens_the_next_ticket_of_the_list(world, login):
    first, second = world.ticket(), world.ticket()
    client = login(world.agent)
    data = {"body": "Thanks, a new charger is on its way.", "then": "next", "in": "status=open&sort=created_at"}
    response = client.post(url("ticket_reply", first), data, **htmx_headers())
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("web:ticket", args=[second.pk]) + "?in=")
    assert Message.objects.get(direction="outbound").ticket_id == first.pk
    refused = client.post(url("ticket_reply", second), {**data, "body": CHINESE})  # still asks first
    assert refused.status_code == 422 and 'id="language-warning"' in refused.content.decode()
    assert Message.objects.filter(direction="outbound").count() == 1


def test_presence_shows_who_else_has_the_ticket_open(world, login):
    ticket = world.ticket()
    alice, bob = login(world.agent), login(world.teammate)
    first = alice.get(url("ticket_presence", ticket)).content.decode()
    assert "also viewing" not in first
    seen = bob.get(url("ticket_presence", ticket)).content.decode()
    assert f"{world.agent} is also viewing this ticket" in seen
    again = alice.get(url("ticket_presence", ticket)).content.decode()
    assert f"{world.teammate} is also viewing this ticket" in again and 'hx-trigger="every 20s"' in again
    assert login(world.outsider).get(url("ticket_presence", ticket)).status_code == 404


def test_a_ticket_without_messages_still_carries_what_was_seen(world, login):
    ticket = world.ticket()
    client = login(world.agent)
    assert seen_id(client.get(url("ticket", ticket)).content.decode()) == "0"
    ticket_reply(ticket=ticket, author=world.teammate, body="We already sent a new charger.")
    data = {"body": "A new charger is on its way to you.", "seen_message_id": "0"}
    assert client.post(url("ticket_reply", ticket), data).status_code == 409
