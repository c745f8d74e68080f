from __future__ import annotations

import re

from django.urls import reverse

from aftersales.inbox.models import DeliveryStatus, Message, Ticket, TicketEvent
from aftersales.inbox.services import ticket_add_note, ticket_change_status
from aftersales.notifications.models import Notification
from aftersales.testing.factories import OrderFactory, TicketFactory

from .conftest import htmx_headers


def url(name: str, ticket: Ticket, **kwargs: int) -> str:
    return reverse(f"web:{name}", kwargs={"ticket_id": ticket.pk, **kwargs})


def test_ticket_page_shows_timeline_order_and_customer(world, login, story):
    t = story.ticket
    ticket_change_status(ticket=t, actor=world.agent, status="on_hold")
    ticket_add_note(ticket=t, author=world.teammate, body="@alice VIP, offer a replacement.\n@nobody too")
    Message.objects.create(
        ticket=t,
        store=t.store,
        direction="inbound",
        channel="amazon",
        body="fallback",
        body_html="<p>Danke <b>sehr</b></p>",
        external_id="in-2",
    )
    other_store_order = OrderFactory(store=world.store_de, customer=t.customer, external_id="EB-77", currency="EUR")
    other_ticket = TicketFactory(store=world.store_us, customer=t.customer, subject="Second issue")
    response = login(world.agent).get(url("ticket", t))
    assert response.status_code == 200
    html = response.content.decode()
    # header and controls
    assert "Powerbank kaputt" in html and 'id="prop-status"' in html and 'id="reply-box"' in html
    # inbound message escaped, with its translation; sanitised HTML shown as HTML
    assert "Bitte helfen &lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert "Die Powerbank lädt nicht.<br>" in html
    assert "充电宝不能充电。" in html and "apertium" in html
    assert "<p>Danke <b>sehr</b></p>" in html
    # outbound with delivery status and retry
    assert 'data-delivery-status="failed"' in html and "Retry delivery" in html
    assert url("message_retry", t, message_id=story.failed_reply.pk) in html
    # internal note visually distinct, mentions highlighted
    assert 'class="msg msg-note"' in html
    assert '<span class="mention">@alice</span>' in html
    assert '<span class="mention mention-unknown">@nobody</span>' in html
    # events in words
    assert "Alice changed status from Open to On hold" in html
    # order panel
    for text in ["113-1234567-7654321", "PB-20K", "Power bank 20000 mAh", "EUR 59.98", "DHL", "JD014600001234"]:
        assert text in html
    assert "departed" in html and "Shenzhen" in html
    # customer panel: tier, country, lifetime value, counts, other tickets and orders in all stores
    assert "VIP" in html and "Germany" in html
    # figures from the orders it lists (two EUR orders), not the stored 7 orders / EUR 1,234.50
    assert '<dd id="customer-order-count">2</dd>' in html and "EUR 1,234.50" not in html
    assert other_ticket.subject in html and other_store_order.external_id in html and "eBay DE" in html


def test_ticket_of_another_team_or_organization_is_404(world, login):
    de = world.ticket(store=world.store_de)
    foreign = world.foreign_ticket()
    response = login(world.agent).get(url("ticket", de))
    assert response.status_code == 404 and "404" in response.content.decode()
    assert login(world.agent).get(url("ticket", foreign)).status_code == 404
    assert login(world.agent).get("/tickets/999999/").status_code == 404
    assert login(world.outsider).get(url("ticket", de)).status_code == 200


def test_viewer_sees_no_controls_and_is_refused(world, login, story):
    client = login(world.viewer)
    html = client.get(url("ticket", story.ticket)).content.decode()
    assert 'id="reply-box"' not in html and 'id="note-box"' not in html and 'id="merge-box"' not in html
    assert 'id="prop-status"' not in html and "Retry delivery" not in html
    assert "props-readonly" in html
    assert client.post(url("ticket_reply", story.ticket), {"body": "hi"}).status_code == 403
    response = client.post(url("ticket_note", story.ticket), {"body": "hi"}, **htmx_headers())
    assert response.status_code == 403 and response["HX-Retarget"] == "#flash"
    assert not Message.objects.filter(body="hi").exists()


def test_reply_htmx_updates_the_timeline_with_delivery_status(world, login, django_capture_on_commit_callbacks):
    t = world.ticket(status="new")
    client = login(world.agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("ticket_reply", t), {"body": "We ship a new one today.", "idempotency_key": "k-1"}, **htmx_headers()
        )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('<section id="reply-box"') and "Reply queued for delivery." in html
    assert 'id="ticket-timeline" class="timeline" hx-swap-oob="true"' in html
    assert 'id="ticket-props" class="panel props" hx-swap-oob="true"' in html
    assert "We ship a new one today." in html
    reply = Message.objects.get(direction="outbound")
    # no Amazon connector yet: the delivery fails permanently and the agent sees it
    assert reply.delivery_status == DeliveryStatus.FAILED
    t.refresh_from_db()
    # an undeliverable reply does not look sent: status and unreplied mark stay
    assert t.status == "new" and t.is_unreplied and t.assignee == world.agent
    # same idempotency key (double click): no second message
    client.post(url("ticket_reply", t), {"body": "We ship a new one today.", "idempotency_key": "k-1"})
    assert Message.objects.filter(direction="outbound").count() == 1


def test_reply_with_status_and_without_js(world, login):
    t = world.ticket()
    response = login(world.agent).post(url("ticket_reply", t), {"body": "Refund sent.", "status": "solved"})
    assert response.status_code == 302 and response["Location"].endswith("#reply-box")
    # the chosen status applies once the reply is delivered (not run here: no commit)
    assert Ticket.objects.get(pk=t.pk).status == "open"
    assert TicketEvent.objects.get(ticket=t, type="replied").payload["status"] == "solved"


def test_reply_errors_are_shown_next_to_the_field(world, login):
    t = world.ticket()
    client = login(world.agent)
    empty = client.post(url("ticket_reply", t), {"body": "   "}, **htmx_headers())
    assert empty.status_code == 422
    assert re.search(r'<span class="field-error">body must not be empty</span>', empty.content.decode())
    assert "hx-swap-oob" not in empty.content.decode()
    bad_status = client.post(url("ticket_reply", t), {"body": "Hi", "status": "new"})
    assert bad_status.status_code == 409  # full page without JS, the text kept
    assert "a ticket cannot go from" in bad_status.content.decode() and ">Hi</textarea>" in bad_status.content.decode()
    closed = world.ticket(status="closed")
    html = client.get(url("ticket", closed)).content.decode()
    assert "This ticket is closed" in html
    assert client.post(url("ticket_reply", closed), {"body": "Hi"}).status_code == 409


def test_note_with_mention_notifies_the_teammate(world, login, django_capture_on_commit_callbacks):
    t = world.ticket()
    client = login(world.agent)
    page = client.get(url("ticket", t)).content.decode()
    assert '<datalist id="colleague-list">' in page and '<option value="bob">Bob</option>' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("ticket_note", t), {"body": "@bob can you check? cc @carol"}, **htmx_headers())
    assert response.status_code == 200
    html = response.content.decode()
    assert "Notified: Bob." in html and "Not notified (unknown or cannot see this ticket): @carol." in html
    assert '<span class="mention">@bob</span>' in html
    n = Notification.objects.get(user=world.teammate)
    assert n.kind == "mention" and n.ticket_id == t.pk
    assert not Notification.objects.filter(user=world.outsider).exists()
    assert client.post(url("ticket_note", t), {"body": ""}).status_code == 422


def test_status_assign_fields_and_tags(world, login, django_capture_on_commit_callbacks):
    t = world.ticket(status="new")
    client = login(world.agent)
    response = client.post(url("ticket_status", t), {"status": "on_hold"}, **htmx_headers())
    assert response.status_code == 200 and response.content.decode().startswith('<section id="ticket-props"')
    assert "Alice changed status from New to On hold" in response.content.decode()  # timeline swapped out of band
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("ticket_assign", t), {"assignee": world.teammate.pk})
    client.post(
        url("ticket_fields", t),
        {"category": "refund", "urgency": "high", "team": world.team_us.pk, "is_high_priority": ["0", "1"]},
    )
    client.post(url("ticket_tags", t), {"add": "Black Friday, battery"})
    client.post(url("ticket_tags", t), {"remove": "battery"})
    t.refresh_from_db()
    assert (t.status, t.assignee, t.category, t.urgency, t.team, t.is_high_priority) == (
        "on_hold",
        world.teammate,
        "refund",
        "high",
        world.team_us,
        True,
    )
    assert list(t.tags.values_list("name", flat=True)) == ["black friday"]
    client.post(url("ticket_fields", t), {"is_high_priority": "0", "team": ""})
    t.refresh_from_db()
    assert not t.is_high_priority and t.team is None and t.category == "refund"
    html = client.get(url("ticket", t)).content.decode()
    for sentence in [
        "Alice assigned the ticket to Bob",
        "Alice changed category from Other to Refund",
        "Alice changed urgency from Medium to High",
        "Alice moved the ticket to team US team",
        "Alice marked the ticket as high priority",
        "Alice removed the high-priority mark",
        "Alice changed tags: added battery, black friday",
        "Alice changed tags: removed battery",
    ]:
        assert sentence in html, sentence


def test_props_errors(world, login):
    t = world.ticket(status="solved")
    client = login(world.agent)
    conflict = client.post(url("ticket_status", t), {"status": "on_hold"}, **htmx_headers())
    assert conflict.status_code == 409
    assert "a ticket cannot go from solved to on_hold" in conflict.content.decode()
    assert client.post(url("ticket_status", t), {"status": "bogus"}).status_code == 422
    assert client.post(url("ticket_assign", t), {"assignee": world.viewer.pk}).status_code == 422
    foreign = client.post(url("ticket_assign", t), {"assignee": world.foreign_user.pk}, **htmx_headers())
    assert foreign.status_code == 404 and "assignee not found" in foreign.content.decode()
    assert foreign.content.decode().startswith('<section id="ticket-props"')
    assert client.post(url("ticket_fields", t), {"urgency": "extreme"}).status_code == 422
    assert client.post(url("ticket_fields", t), {"team": "x"}).status_code == 422
    assert client.post(url("ticket_fields", t), {"team": 999999}).status_code == 404
    assert client.post(url("ticket_tags", t), {"add": "x" * 61}).status_code == 422
    assert client.post(url("ticket_tags", t), {}).status_code == 422
    t.refresh_from_db()
    assert t.status == "solved" and t.assignee is None and t.urgency == "medium"


def test_merge(world, login):
    source = world.ticket()
    target = world.ticket(customer=source.customer)
    client = login(world.agent)
    response = client.post(url("ticket_merge", source), {"target_id": target.pk}, **htmx_headers())
    assert response.status_code == 200 and response["HX-Redirect"] == url("ticket", target)
    source.refresh_from_db()
    assert source.merged_into == target and source.status == "closed"
    html = client.get(url("ticket", source)).content.decode()
    assert "This ticket was merged into" in html and 'id="reply-box"' not in html
    assert f"Alice merged ticket #{source.pk} into this one" in client.get(url("ticket", target)).content.decode()


def test_merge_errors(world, login):
    t = world.ticket()
    hidden = world.ticket(store=world.store_de)
    client = login(world.agent)
    unknown = client.post(url("ticket_merge", t), {"target_id": hidden.pk}, **htmx_headers())
    assert unknown.status_code == 404 and f"ticket #{hidden.pk} not found" in unknown.content.decode()
    assert unknown.content.decode().startswith('<section id="merge-box"')
    assert client.post(url("ticket_merge", t), {"target_id": t.pk}).status_code == 422
    assert client.post(url("ticket_merge", t), {"target_id": "abc"}).status_code == 422
    assert Ticket.objects.get(pk=t.pk).merged_into is None


def test_retry_failed_delivery(world, login, story):
    client = login(world.agent)
    retry = url("message_retry", story.ticket, message_id=story.failed_reply.pk)
    response = client.post(retry, **htmx_headers())
    assert response.status_code == 200 and response.content.decode().startswith('<section id="ticket-timeline"')
    story.failed_reply.refresh_from_db()
    assert story.failed_reply.delivery_status == DeliveryStatus.QUEUED
    again = client.post(retry, **htmx_headers())
    assert again.status_code == 409 and "only a failed reply can be sent again" in again.content.decode()
    inbound = url("message_retry", story.ticket, message_id=story.inbound.pk)
    assert client.post(inbound).status_code == 404
    other = world.ticket()
    assert client.post(url("message_retry", other, message_id=story.failed_reply.pk)).status_code == 404


def test_event_sentences_fall_back_for_the_system(world, login, story):
    TicketEvent.objects.create(
        ticket=story.ticket, type="reply_failed", payload={"error": "platform down"}, at=story.ticket.created_at
    )
    html = login(world.agent).get(url("ticket", story.ticket)).content.decode()
    assert "Reply could not be delivered: platform down" in html
