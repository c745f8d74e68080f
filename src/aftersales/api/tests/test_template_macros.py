"""Reply-template macros through the API: saved and validated with the template, returned by the
render endpoint, applied when the reply names the template (`template_id`); a template rendered
for a language it has no variant in is marked machine-translated."""

from __future__ import annotations

from aftersales.inbox.models import TicketEvent

from .helpers import assert_error, db_state

BODIES = {"en": "Hello {{ customer.first_name }}, your refund is on its way."}


def test_a_template_carries_its_macro_and_the_reply_applies_it(world, as_user):
    admin = as_user(world.admin)
    created = admin.post(
        "/reply-templates",
        {
            "name": "Refund sent",
            "source_language": "en",
            "bodies": BODIES,
            "macro": {"set_status": "solved", "add_tags": ["Refund"], "assign_to": "self"},
        },
    )
    assert created.status_code == 201, created.content[:300]
    template = created.json()
    assert template["macro"] == {
        "set_status": "solved",
        "add_tags": ["refund"],
        "assign_to": "self",
        "assign_user_id": None,
    }
    ticket = world.ticket(status="open", language="en")
    agent = as_user(world.agent)
    rendered = agent.post(f"/reply-templates/{template['id']}/render", {"ticket_id": ticket.pk})
    assert rendered.status_code == 200
    assert rendered.json()["macro"]["set_status"] == "solved" and rendered.json()["machine_translated"] is False
    sent = agent.post(f"/tickets/{ticket.pk}/replies", {"body": rendered.json()["text"], "template_id": template["id"]})
    assert sent.status_code == 201, sent.content[:300]
    detail = agent.get(f"/tickets/{ticket.pk}").json()["ticket"]
    assert detail["tags"] == ["refund"] and detail["assignee"]["id"] == world.agent.pk
    assert TicketEvent.objects.get(ticket=ticket, type="replied").payload["status"] == "solved"


def test_bad_macros_are_refused_naming_the_field(world, as_user):
    admin = as_user(world.admin)
    before = db_state()
    for macro, field in [
        ({"set_status": "archived"}, "set_status"),
        ({"add_tags": [""]}, "add_tags[0]"),
        ({"assign_to": "user"}, "assign_user_id"),
        ({"assign_to": "user", "assign_user_id": world.foreign_user.pk}, "assign_user_id"),
    ]:
        response = admin.post(
            "/reply-templates", {"name": "X", "source_language": "en", "bodies": BODIES, "macro": macro}
        )
        assert response.status_code == 422, (macro, response.content[:300])
        assert field in response.json()["error"]["field"], (macro, response.json())
    assert db_state() == before
    created = admin.post("/reply-templates", {"name": "X", "source_language": "en", "bodies": BODIES}).json()
    assert created["macro"] == {"set_status": "", "add_tags": [], "assign_to": "", "assign_user_id": None}
    patched = admin.patch(
        f"/reply-templates/{created['id']}", {"macro": {"assign_to": "user", "assign_user_id": world.teammate.pk}}
    )
    assert patched.status_code == 200 and patched.json()["macro"]["assign_user_id"] == world.teammate.pk
    assert_error(
        admin.patch(
            f"/reply-templates/{created['id']}", {"macro": {"assign_to": "user", "assign_user_id": world.viewer.pk}}
        ),
        422,
        field="assign_user_id",
    )


def test_another_organizations_template_id_is_not_found_and_nothing_is_sent(world, as_user):
    foreign = as_user(world.foreign_user)
    ticket = world.ticket(status="open")
    template = (
        as_user(world.admin).post("/reply-templates", {"name": "T", "source_language": "en", "bodies": BODIES}).json()
    )
    foreign_ticket = world.foreign_ticket(status="open")
    before = db_state()
    assert_error(
        foreign.post(f"/tickets/{foreign_ticket.pk}/replies", {"body": "Hi", "template_id": template["id"]}),
        404,
        field="template_id",
    )
    assert db_state() == before
    assert ticket.pk


def test_a_language_without_a_variant_gets_the_machine_translation_marked(world, as_user):
    template = (
        as_user(world.admin)
        .post("/reply-templates", {"name": "Thanks", "source_language": "en", "bodies": {"en": "Thank you."}})
        .json()
    )
    ticket = world.ticket(language="es")
    rendered = as_user(world.agent).post(f"/reply-templates/{template['id']}/render", {"ticket_id": ticket.pk}).json()
    assert rendered["language"] == "es" and rendered["machine_translated"] is True and rendered["needs_review"] is True
