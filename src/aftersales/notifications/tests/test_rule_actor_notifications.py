"""Notifications for what a rule or the system did on a ticket (no author user)."""

from __future__ import annotations

from aftersales.core.actors import Actor
from aftersales.inbox.services import ticket_add_note, ticket_assign
from aftersales.notifications.models import Notification

RULE = Actor.rule(7, "VIP escalation")


def test_a_rules_mention_names_the_rule(world, django_capture_on_commit_callbacks):
    ticket = world.ticket()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_add_note(ticket=ticket, author=RULE, body="@bob please check this VIP order")
    [notification] = Notification.objects.filter(user=world.teammate, kind="mention")
    assert "VIP escalation" in notification.text


def test_a_rules_assignment_notifies_the_assignee(world, django_capture_on_commit_callbacks):
    ticket = world.ticket(status="new")
    with django_capture_on_commit_callbacks(execute=True):
        ticket_assign(ticket=ticket, actor=RULE, assignee=world.outsider)
    [notification] = Notification.objects.filter(user=world.outsider, kind="assigned")
    assert f"#{ticket.pk}" in notification.text
