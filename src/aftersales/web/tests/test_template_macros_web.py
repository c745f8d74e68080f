"""Reply-template macros in the web UI: edited on the template settings page (errors next to the
field, nothing written), announced in the reply box when the template is used, and applied with
the reply when it is sent."""

from __future__ import annotations

import re

from django.urls import reverse

from aftersales.inbox.models import Message, TicketEvent
from aftersales.language.models import ReplyTemplate
from aftersales.language.templates import Macro, reply_template_save

from .conftest import htmx_headers


def _hidden(html: str, name: str) -> list[str]:
    return re.findall(rf'<input type="hidden" name="{name}" value="([^"]*)">', html)


def test_the_settings_page_edits_the_macro(world, login):
    client = login(world.admin)
    page = client.get(reverse("web:settings_templates")).content.decode()
    assert 'name="set_status"' in page and 'name="add_tags"' in page and f'value="user:{world.teammate.pk}"' in page
    assert f'value="user:{world.viewer.pk}"' not in page  # a viewer cannot process tickets
    response = client.post(
        reverse("web:settings_templates"),
        {
            "name": "Refund sent",
            "source_language": "en",
            "new_body": "Your refund is on its way.",
            "set_status": "solved",
            "add_tags": "refund, Refund , vip care",
            "assign": f"user:{world.teammate.pk}",
        },
    )
    assert response.status_code == 302
    template = ReplyTemplate.objects.get(name="Refund sent")
    assert (template.set_status, template.add_tags) == ("solved", ["refund", "vip care"])
    assert (template.assign_to, template.assign_user_id) == ("user", world.teammate.pk)
    page = client.get(reverse("web:settings_templates")).content.decode()
    assert f'<option value="user:{world.teammate.pk}" selected>' in page and 'value="refund, vip care"' in page
    refused = client.post(
        reverse("web:settings_template", args=[template.pk]),
        {"name": "Refund sent", "source_language": "en", "body_en": "Your refund.", "add_tags": "ok, " + "x" * 61},
    )
    assert refused.status_code == 422
    html = refused.content.decode()
    assert "a tag has 1 to 60 characters" in html and "x" * 61 in html  # next to the field, typed value kept
    template.refresh_from_db()
    assert template.add_tags == ["refund", "vip care"] and template.variants.get().body == "Your refund is on its way."


def test_using_and_sending_a_template_applies_its_macro(world, login, django_capture_on_commit_callbacks):
    template = reply_template_save(
        user=world.admin,
        name="Refund sent",
        source_language="en",
        bodies={"en": "Your refund is on its way."},
        macro=Macro(set_status="solved", add_tags=("refund",), assign_to="self"),
    )
    ticket = world.ticket(status="open", language="en", assignee=world.teammate)
    client = login(world.agent)
    used = client.post(
        reverse("web:reply_template", kwargs={"ticket_id": ticket.pk}), {"template_id": template.pk}, **htmx_headers()
    )
    html = used.content.decode()
    assert _hidden(html, "applied_template_id") == [str(template.pk)]
    summary = re.search(r'<p class="muted small" id="template-macro">(.*?)</p>', html, re.S).group(1)
    assert "Solved" in summary and "refund" in summary and "assign the ticket to you" in summary
    data = {
        "body": "Your refund is on its way.",
        "applied_template_id": str(template.pk),
        "idempotency_key": _hidden(html, "idempotency_key")[0],
    }
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(reverse("web:ticket_reply", kwargs={"ticket_id": ticket.pk}), data, **htmx_headers())
    assert sent.status_code == 200, sent.content.decode()[:400]
    assert Message.objects.filter(ticket=ticket, direction="outbound").count() == 1
    ticket.refresh_from_db()
    assert list(ticket.tags.values_list("name", flat=True)) == ["refund"] and ticket.assignee_id == world.agent.pk
    assert TicketEvent.objects.get(ticket=ticket, type="replied").payload["status"] == "solved"
    assert 'name="applied_template_id"' not in sent.content.decode().split('id="reply-box"')[1][:3000]


def test_a_template_without_a_macro_adds_nothing_to_the_form(world, login):
    template = reply_template_save(user=world.admin, name="Hi", source_language="en", bodies={"en": "Hello."})
    ticket = world.ticket(language="en")
    html = (
        login(world.agent)
        .post(
            reverse("web:reply_template", kwargs={"ticket_id": ticket.pk}),
            {"template_id": template.pk},
            **htmx_headers(),
        )
        .content.decode()
    )
    assert "applied_template_id" not in html and 'id="template-macro"' not in html
