"""Reply guards: a text as written in another language than the customer's needs
`confirm_language`; a colleague's reply after the last message you saw needs `confirm_newer`."""

from __future__ import annotations

import base64

import pytest

from aftersales.inbox.models import Message
from aftersales.inbox.services import ticket_reply

from .helpers import assert_error

CHINESE = "您好，您的退款已经处理完毕，款项将在三到五个工作日内退回到您的账户。"
ITALIAN = "Buongiorno, il rimborso è stato elaborato e arriverà sul suo conto entro cinque giorni lavorativi."


@pytest.fixture
def italian_ticket(world):
    ticket = world.ticket(language="it")
    ticket.customer.preferred_language = "it"
    ticket.customer.save(update_fields=["preferred_language"])
    return ticket


def test_chinese_text_to_an_italian_buyer_is_refused_naming_both_languages(world, as_user, italian_ticket):
    agent = as_user(world.agent)
    url = f"/tickets/{italian_ticket.pk}/replies"
    error = assert_error(agent.post(url, {"body": CHINESE}), 422, field="confirm_language", code="wrong_language")
    assert "Chinese" in error["message"] and "Italian" in error["message"]
    assert not Message.objects.filter(ticket=italian_ticket, direction="outbound").exists()  # nothing written
    sent = agent.post(url, {"body": CHINESE, "confirm_language": True})
    assert sent.status_code == 201, sent.content


def test_the_customers_language_short_texts_and_translations_are_not_asked(world, as_user, italian_ticket):
    agent = as_user(world.agent)
    url = f"/tickets/{italian_ticket.pk}/replies"
    assert agent.post(url, {"body": ITALIAN}).status_code == 201
    for short in ("OK", "Thanks!", "好的", "Order 123-4567890-1234567"):  # too short to judge
        assert agent.post(url, {"body": short}).status_code == 201, short
    translated = {"body": ITALIAN, "original_text": CHINESE, "original_language": "zh-hans"}
    assert agent.post(url, translated).status_code == 201


def test_the_customer_who_wrote_in_english_gets_english(world, as_user):
    ticket = world.ticket(store=world.store_de, language="en")  # a German store, an English-speaking buyer
    admin = as_user(world.admin)
    body = "Hello, your refund has been processed and will reach your account within five working days."
    assert admin.post(f"/tickets/{ticket.pk}/replies", {"body": body}).status_code == 201
    german = world.ticket(store=world.store_de, language="de")
    assert_error(admin.post(f"/tickets/{german.pk}/replies", {"body": body}), 422, field="confirm_language")


def test_a_colleagues_newer_reply_needs_confirmation(world, as_user):
    ticket = world.ticket()
    agent = as_user(world.agent)
    url = f"/tickets/{ticket.pk}/replies"
    seen = agent.post(url, {"body": "We are looking into it for you today."}).json()["id"]
    other = ticket_reply(ticket=ticket, author=world.teammate, body="I already sent you a new label.")
    body = {"body": "Here is a return label for you.", "seen_message_id": seen}
    error = assert_error(agent.post(url, body), 409, field="confirm_newer", code="newer_reply")
    assert f"#{other.pk}" in error["message"] and str(world.teammate) in error["message"]
    assert Message.objects.filter(ticket=ticket, direction="outbound").count() == 2
    assert agent.post(url, {**body, "confirm_newer": True}).status_code == 201
    # having seen the colleague's reply, no question; one's own replies never ask
    mine = agent.post(url, {"body": "One more thing about the label.", "seen_message_id": other.pk})
    assert mine.status_code == 201
    assert agent.post(url, {"body": "And another one.", "seen_message_id": other.pk}).status_code == 201


def test_seen_message_id_is_checked(world, as_user):
    ticket = world.ticket()
    agent = as_user(world.agent)
    response = agent.post(f"/tickets/{ticket.pk}/replies", {"body": "Thanks", "seen_message_id": 0})
    assert_error(response, 422, field="seen_message_id")


def test_notes_take_attachments_with_the_reply_checks(world, as_user):
    from .fixtures import PNG_B64

    ticket = world.ticket()
    agent = as_user(world.agent)
    url = f"/tickets/{ticket.pk}/notes"
    created = agent.post(url, {"body": "Photo", "attachments": [{"filename": "p.png", "content_base64": PNG_B64}]})
    assert created.status_code == 201, created.content
    assert created.json()["note"]["attachments"][0]["content_type"] == "image/png"
    html = base64.b64encode(b"<html><body>hi</body></html>").decode()
    refused = agent.post(url, {"body": "Page", "attachments": [{"filename": "p.html", "content_base64": html}]})
    assert_error(refused, 422, field="attachments[0]")
    assert Message.objects.filter(ticket=ticket, direction="note").count() == 1
