"""Reply templates as macros (issue 8): a template may also set the status, add tags and assign the
ticket. Checked when saved (status of the workflow, tag rules, a user of the organization who can
process tickets); applied with the reply built from it, as the agent, in the same transaction."""

from __future__ import annotations

import pytest

from aftersales.core.errors import NotFound, ValidationFailed
from aftersales.inbox.models import Message, TicketEvent
from aftersales.language.models import ReplyTemplate
from aftersales.language.services import reply_send
from aftersales.language.templates import (
    Macro,
    context_for_ticket,
    render_template,
    reply_template_save,
    reply_template_update,
)

BODY = {"en": "Hello {{ customer.first_name }}, your refund is on its way."}


def _template(world, **macro):  # type: ignore[no-untyped-def]
    return reply_template_save(
        user=world.admin, name="Refund sent", source_language="en", bodies=BODY, macro=Macro(**macro)
    )


@pytest.mark.parametrize(
    ("macro", "field"),
    [
        ({"set_status": "done"}, "set_status"),
        ({"add_tags": ["ok", ""]}, "add_tags[1]"),
        ({"add_tags": ["a\x00b"]}, "add_tags[0]"),
        ({"add_tags": ["x" * 61]}, "add_tags[0]"),
        ({"add_tags": [f"t{i}" for i in range(11)]}, "add_tags"),
        ({"assign_to": "boss"}, "assign_to"),
        ({"assign_to": "user"}, "assign_user_id"),
        ({"assign_to": "user", "assign_user_id": 10**9}, "assign_user_id"),
    ],
)
def test_a_bad_macro_is_refused_naming_the_field_and_nothing_is_written(world, macro, field):
    with pytest.raises(ValidationFailed) as exc:
        _template(world, **macro)
    assert exc.value.field == field
    assert not ReplyTemplate.objects.exists()


def test_the_assignee_must_be_of_the_organization_and_able_to_process(world):
    for user in (world.foreign_user, world.viewer):
        with pytest.raises(ValidationFailed) as exc:
            _template(world, assign_to="user", assign_user_id=user.pk)
        assert exc.value.field == "assign_user_id"
    template = _template(world, assign_to="user", assign_user_id=world.teammate.pk, add_tags=["Refund ", "refund"])
    assert (template.assign_to, template.assign_user_id, template.add_tags) == ("user", world.teammate.pk, ["refund"])


def test_update_changes_or_keeps_the_macro(world):
    template = _template(world, set_status="solved", add_tags=["refund"])
    reply_template_update(user=world.admin, template_id=template.pk, name="Refund sent!")
    template.refresh_from_db()
    assert (template.set_status, template.add_tags) == ("solved", ["refund"])
    reply_template_update(user=world.admin, template_id=template.pk, macro=Macro(assign_to="self"))
    template.refresh_from_db()
    assert (template.set_status, template.add_tags, template.assign_to) == ("", [], "self")
    with pytest.raises(ValidationFailed) as exc:
        reply_template_update(user=world.admin, template_id=template.pk, macro=Macro(set_status="archived"))
    assert exc.value.field == "set_status"


def test_a_reply_from_a_template_applies_its_macro_as_the_agent(world):
    template = _template(world, set_status="solved", add_tags=["refund", "vip care"], assign_to="self")
    ticket = world.ticket(status="open", assignee=world.teammate)
    rendered = render_template(template=template, language="en", context=context_for_ticket(ticket, agent=world.agent))
    assert rendered.macro == Macro(set_status="solved", add_tags=("refund", "vip care"), assign_to="self")
    _message, created = reply_send(ticket=ticket, author=world.agent, body=rendered.text, template_id=template.pk)
    assert created
    ticket.refresh_from_db()
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["refund", "vip care"]
    assert ticket.assignee_id == world.agent.pk
    replied = TicketEvent.objects.get(ticket=ticket, type="replied")
    assert replied.payload["status"] == "solved"  # the reply's status, applied when delivered
    for type_ in ("tags_changed", "assigned"):
        event = TicketEvent.objects.filter(ticket=ticket, type=type_).latest("id")
        assert (event.actor_kind, event.actor_id) == ("user", world.agent.pk)


def test_the_agents_own_status_wins_and_a_replay_applies_nothing_again(world):
    template = _template(world, set_status="solved", assign_to="none")
    ticket = world.ticket(status="open", assignee=world.agent)
    reply_send(
        ticket=ticket, author=world.agent, body="Hi", status="on_hold", template_id=template.pk, idempotency_key="k"
    )
    assert TicketEvent.objects.get(ticket=ticket, type="replied").payload["status"] == "on_hold"
    ticket.refresh_from_db()
    assert ticket.assignee_id is None
    ticket.assignee = world.agent
    ticket.save()
    reply_send(ticket=ticket, author=world.agent, body="Hi", template_id=template.pk, idempotency_key="k")
    ticket.refresh_from_db()
    assert ticket.assignee_id == world.agent.pk


def test_another_organizations_template_sends_nothing(world):
    template = _template(world, add_tags=["refund"])
    foreign_ticket = world.foreign_ticket(status="open")
    with pytest.raises(NotFound) as exc:
        reply_send(ticket=foreign_ticket, author=world.foreign_user, body="Hi", template_id=template.pk)
    assert exc.value.field == "template_id"
    assert not Message.objects.filter(ticket=foreign_ticket, direction="outbound").exists()


def test_a_missing_variant_is_machine_translated_and_marked(world):
    template = reply_template_save(
        user=world.admin, name="Thanks", source_language="en", bodies={"en": "Thank you for your patience."}
    )
    ticket = world.ticket(language="es")
    rendered = render_template(template=template, language="es", context=context_for_ticket(ticket, agent=world.agent))
    assert rendered.machine_translated and rendered.needs_review and rendered.language == "es"
    assert rendered.provider and "paciencia" in rendered.text.lower()
