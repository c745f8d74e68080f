from __future__ import annotations

from datetime import timedelta

from django.core import mail
from django.utils import timezone

from aftersales.inbox.services import ticket_add_note, ticket_assign
from aftersales.notifications.models import Notification
from aftersales.notifications.services import notification_email, notification_mark_read, send_pending_reminders


def test_mention_creates_notification_and_email_once(world, django_capture_on_commit_callbacks):
    world.teammate.email = "bob@example.com"
    world.teammate.save()
    ticket = world.ticket()
    with django_capture_on_commit_callbacks(execute=True):
        note, _ = ticket_add_note(ticket=ticket, author=world.agent, body="@bob can you look at this?")
    n = Notification.objects.get(user=world.teammate)
    assert n.kind == "mention" and n.ticket_id == ticket.pk and n.emailed_at is not None
    assert len(mail.outbox) == 1 and "mentioned you" in mail.outbox[0].subject
    assert mail.outbox[0].to == ["bob@example.com"]
    # a retried task neither duplicates the notification nor re-sends the mail
    from aftersales.notifications.services import notify_mentions

    assert (
        notify_mentions(note_id=note.pk, ticket_id=ticket.pk, author_id=world.agent.pk, user_ids=(world.teammate.pk,))
        == 0
    )
    assert notification_email(n.pk) is False
    assert len(mail.outbox) == 1


def test_assignment_notifies_assignee_not_self(world, django_capture_on_commit_callbacks):
    t1, t2 = world.ticket(), world.ticket()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_assign(ticket=t1, actor=world.agent, assignee=world.teammate)
        ticket_assign(ticket=t2, actor=world.agent, assignee=world.agent)
    assert Notification.objects.filter(user=world.teammate, kind="assigned", ticket=t1).count() == 1
    assert not Notification.objects.filter(user=world.agent).exists()


def test_reminders_once_a_day(world, django_capture_on_commit_callbacks):
    old = timezone.now() - timedelta(hours=6)
    world.ticket(assignee=world.agent, last_customer_message_at=old, is_unreplied=True)
    world.ticket(assignee=world.agent, last_customer_message_at=old, is_unreplied=True)
    world.ticket(assignee=world.teammate, last_customer_message_at=timezone.now(), is_unreplied=True)
    with django_capture_on_commit_callbacks(execute=True):
        assert send_pending_reminders() == 1
        assert send_pending_reminders() == 0
    n = Notification.objects.get(user=world.agent, kind="reminder")
    assert n.text.startswith("2 tickets assigned")
    assert notification_mark_read(user=world.agent) == 1


def test_assignment_notification_is_idempotent_per_assignment(world, django_capture_on_commit_callbacks):
    from aftersales.inbox.models import TicketEvent
    from aftersales.notifications.services import notify_assigned

    ticket = world.ticket()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_assign(ticket=ticket, actor=world.agent, assignee=world.teammate)
    event = TicketEvent.objects.get(ticket=ticket, type="assigned")
    # the task retried: no second notification for the same assignment
    notify_assigned(
        ticket_id=ticket.pk, assignee_id=world.teammate.pk, actor_id=world.agent.pk, ticket_event_id=event.pk
    )
    assert Notification.objects.filter(user=world.teammate, kind="assigned").count() == 1
    # a new assignment later is a new notification
    with django_capture_on_commit_callbacks(execute=True):
        ticket_assign(ticket=ticket, actor=world.agent, assignee=None)
        ticket_assign(ticket=ticket, actor=world.agent, assignee=world.teammate)
    assert Notification.objects.filter(user=world.teammate, kind="assigned").count() == 2
