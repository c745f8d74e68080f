"""The reply box asks before sending a text as written in another language than the customer's,
or after a colleague's reply the agent has not seen; attachments in the reply and note boxes;
presence ("also viewing"); "send and next"."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from aftersales.inbox.models import Message
from aftersales.inbox.services import ticket_reply

from .conftest import htmx_headers

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
