"""The agent services act for a rule or the system too (issue 11): one path, permission-checked for a
user, trusted for a rule/system/connector Actor but still inside the ticket's organization; the audit
rows and events carry that actor; a rule's reply or note has no author user but the rule's name."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from django.utils import timezone

from aftersales.channels import registry
from aftersales.channels.base import SentReceipt
from aftersales.core import events
from aftersales.core.actors import Actor
from aftersales.core.errors import NotFound, PermissionDenied
from aftersales.inbox.events import NoteAdded, ReplyQueued, TicketAssigned, TicketStatusChanged, TicketUpdated
from aftersales.inbox.models import DeliveryStatus, Message, TicketEvent
from aftersales.inbox.services import (
    ticket_add_note,
    ticket_assign,
    ticket_change_status,
    ticket_reply,
    ticket_reply_idempotent,
    ticket_set_tags,
    ticket_update,
)
from aftersales.testing.factories import TeamFactory

RULE = Actor.rule(7, "VIP escalation")
TRIAGE = Actor.system("triage")


@pytest.fixture
def published(monkeypatch):
    seen: list[object] = []
    real = events.publish_many

    def spy(batch: Sequence[object]) -> None:  # events.publish hands its event to publish_many
        seen.extend(batch)
        real(batch)

    monkeypatch.setattr(events, "publish_many", spy)
    return seen


def of_type(seen, kind):  # type: ignore[no-untyped-def]
    return [e for e in seen if isinstance(e, kind)]


def _rows(ticket, type_):  # type: ignore[no-untyped-def]
    return list(
        TicketEvent.objects.filter(ticket=ticket, type=type_).values_list("actor_kind", "actor_ref", "actor_id")
    )


@pytest.mark.parametrize("actor", [RULE, TRIAGE], ids=["rule", "system"])
def test_rule_or_system_changes_fields_team_and_tags(world, published, actor):
    ticket = world.ticket(urgency="medium", category="other")
    ticket_update(ticket=ticket, actor=actor, urgency="high", category="refund", team=world.team_de)
    tags = ticket_set_tags(ticket=ticket, actor=actor, add=["VIP", "escalated"])
    ticket.refresh_from_db()
    assert (ticket.urgency, ticket.category, ticket.team_id) == ("high", "refund", world.team_de.pk)
    assert tags == ["escalated", "vip"]
    expected = [(actor.kind, actor.id, None)]
    for type_ in ("urgency_changed", "category_changed", "team_changed", "tags_changed"):
        assert _rows(ticket, type_) == expected, type_
    first, second = of_type(published, TicketUpdated)
    assert first.actor == actor and first.ticket_id == ticket.pk and first.organization_id == world.org.pk
    assert first.changes == {
        "urgency": ("medium", "high"),
        "category": ("other", "refund"),
        "team_id": (None, world.team_de.pk),
    }
    assert second.changes == {"tags": ((), ("escalated", "vip"))} and second.actor == actor


def test_nothing_changed_publishes_nothing(world, published):
    ticket = world.ticket(urgency="medium")
    ticket_update(ticket=ticket, actor=RULE, urgency="medium")
    ticket_set_tags(ticket=ticket, actor=RULE, remove=["absent"])
    assert not of_type(published, TicketUpdated)


def test_a_users_update_publishes_ticket_updated_as_the_user(world, published):
    ticket = world.ticket(is_high_priority=False)
    ticket_update(ticket=ticket, actor=world.agent, is_high_priority=True, subject="Broken hinge")
    [event] = of_type(published, TicketUpdated)
    assert event.actor == Actor.user(world.agent)
    assert event.changes["is_high_priority"] == (False, True) and event.changes["subject"][1] == "Broken hinge"


def test_rule_assigns_within_the_organization_only(world, published):
    ticket = world.ticket(status="new")
    ticket_assign(ticket=ticket, actor=RULE, assignee=world.outsider)  # no team scope applies to a rule
    ticket.refresh_from_db()
    assert ticket.assignee_id == world.outsider.pk and ticket.status == "open"
    assert _rows(ticket, "assigned") == [("rule", "7", None)]
    assert _rows(ticket, "status_changed") == [("rule", "7", None)]
    [assigned] = of_type(published, TicketAssigned)
    [opened] = of_type(published, TicketStatusChanged)
    assert assigned.actor == RULE and opened.actor == RULE
    with pytest.raises(NotFound) as exc:
        ticket_assign(ticket=ticket, actor=RULE, assignee=world.foreign_user)
    assert exc.value.field == "assignee_id"


def test_organization_checks_stay_for_a_trusted_actor(world):
    ticket = world.ticket()
    foreign_team = TeamFactory(organization=world.foreign_org, name="Theirs")
    with pytest.raises(NotFound) as exc:
        ticket_update(ticket=ticket, actor=TRIAGE, team=foreign_team)
    assert exc.value.field == "team_id"
    ticket.refresh_from_db()
    assert ticket.team_id is None and not TicketEvent.objects.filter(ticket=ticket, type="team_changed").exists()


def test_a_customer_actor_cannot_use_the_agent_services(world):
    ticket = world.ticket()
    customer = Actor.customer(ticket.customer)
    with pytest.raises(PermissionDenied):
        ticket_update(ticket=ticket, actor=customer, urgency="high")
    with pytest.raises(PermissionDenied):
        ticket_reply(ticket=ticket, author=customer, body="hello")
    assert not TicketEvent.objects.filter(ticket=ticket).exists()


def test_status_change_by_the_system(world, published):
    ticket = world.ticket()
    ticket_change_status(ticket=ticket, actor=Actor.system("followups"), status="solved")
    assert _rows(ticket, "status_changed") == [("system", "followups", None)]
    [event] = of_type(published, TicketStatusChanged)
    assert event.actor == Actor.system("followups")


def test_rule_adds_a_note_with_mentions(world, published):
    ticket = world.ticket()
    note, mentioned = ticket_add_note(ticket=ticket, author=RULE, body="@bob please check this VIP order")
    assert note.author_id is None and note.author_name == "VIP escalation"
    assert mentioned == [world.teammate]
    assert _rows(ticket, "note_added") == [("rule", "7", None)]
    [event] = of_type(published, NoteAdded)
    assert event.author_id is None and event.actor == RULE


class FakeConnector:
    platform = "amazon"

    def send_reply(self, reply):  # type: ignore[no-untyped-def]
        return SentReceipt(external_id=f"amz-{reply.message_id}", sent_at=timezone.now())


def test_system_reply_has_no_author_and_its_delivery_names_the_system(
    world, published, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setitem(registry._instances, "amazon", FakeConnector())
    ticket = world.ticket(status="open")
    with_system = Actor.system("followups")
    with django_capture_on_commit_callbacks(execute=True):
        message, created = ticket_reply_idempotent(
            ticket=ticket, author=with_system, body="How did we do?", idempotency_key="csat-1", status="solved"
        )
    assert created and message.author_id is None and message.author_name == "followups"
    again = ticket_reply(ticket=ticket, author=with_system, body="How did we do?", idempotency_key="csat-1")
    assert again.pk == message.pk
    message.refresh_from_db()
    ticket.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.SENT
    assert ticket.assignee_id is None  # a system reply does not take the ticket
    assert ticket.status == "solved" and not ticket.is_unreplied
    assert _rows(ticket, "replied") == [("system", "followups", None)]
    assert _rows(ticket, "status_changed") == [("system", "followups", None)]
    [queued] = of_type(published, ReplyQueued)
    assert queued.actor == with_system
    [solved] = of_type(published, TicketStatusChanged)
    assert solved.actor == with_system and solved.reason == "replied"


def test_reply_and_timeline_render_for_a_rule_reply(world, client):
    ticket = world.ticket()
    ticket_reply(ticket=ticket, author=RULE, body="We are on it.")
    client.force_login(world.agent)
    page = client.get(f"/tickets/{ticket.pk}/")
    assert page.status_code == 200
    assert "VIP escalation" in page.content.decode()


def test_users_are_still_checked(world):
    ticket = world.ticket()
    with pytest.raises(PermissionDenied):
        ticket_update(ticket=ticket, actor=world.viewer, urgency="high")
    with pytest.raises(NotFound):
        ticket_set_tags(ticket=ticket, actor=world.outsider, add=["x"])
    with pytest.raises(NotFound):
        ticket_add_note(ticket=ticket, author=world.foreign_user, body="hi")
    with pytest.raises(PermissionDenied):
        ticket_assign(ticket=ticket, actor=world.viewer, assignee=world.agent)
    assert not Message.objects.filter(ticket=ticket).exists()
