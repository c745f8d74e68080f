from __future__ import annotations

import pytest

from aftersales.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from aftersales.inbox.models import DeliveryStatus, Message, MessageDirection, Ticket, TicketEvent
from aftersales.inbox.services import (
    ticket_add_note,
    ticket_assign,
    ticket_change_status,
    ticket_merge,
    ticket_reply,
    ticket_set_tags,
    ticket_update,
    tickets_bulk_apply,
)


def test_reply_is_queued_and_delivery_fails_permanently_without_connector(world, django_capture_on_commit_callbacks):
    ticket = world.ticket()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        msg = ticket_reply(ticket=ticket, author=world.agent, body="We are sorry, a replacement is on its way.")
    assert Message.objects.get(pk=msg.pk).delivery_status == DeliveryStatus.QUEUED  # nothing sent before commit
    for callback in callbacks:
        callback()  # commit: Huey runs in immediate mode in tests, so the task runs now
    msg.refresh_from_db()
    assert msg.direction == MessageDirection.OUTBOUND
    assert msg.delivery_status == DeliveryStatus.FAILED
    # the Amazon connector sends no messages: Amazon buyers are answered through its e-mail relay
    assert "e-mail relay" in msg.delivery_error
    ticket.refresh_from_db()
    # an undeliverable reply does not look sent: status and unreplied mark stay (issue 8, section 3)
    assert ticket.status == "open" and ticket.is_unreplied and ticket.first_response_at is None
    assert ticket.assignee_id == world.agent.pk


def test_reply_idempotency_key_returns_same_message(world):
    ticket = world.ticket()
    a = ticket_reply(ticket=ticket, author=world.agent, body="Hi", idempotency_key="k1")
    b = ticket_reply(ticket=ticket, author=world.agent, body="Hi", idempotency_key="k1")
    assert a.pk == b.pk
    assert Message.objects.filter(direction="outbound").count() == 1


def test_reply_rejected_for_viewer_and_outsider(world):
    ticket = world.ticket()
    with pytest.raises(PermissionDenied):
        ticket_reply(ticket=ticket, author=world.viewer, body="Hi")
    with pytest.raises(NotFound):
        ticket_reply(ticket=ticket, author=world.outsider, body="Hi")
    with pytest.raises(NotFound):
        ticket_reply(ticket=ticket, author=world.foreign_user, body="Hi")
    assert not Message.objects.exists()


def test_status_transition_table(world):
    ticket = world.ticket(status="solved")
    with pytest.raises(Conflict):
        ticket_change_status(ticket=ticket, actor=world.agent, status="pending_customer")
    with pytest.raises(ValidationFailed) as exc:
        ticket_change_status(ticket=ticket, actor=world.agent, status="bogus")
    assert exc.value.field == "status"
    t = ticket_change_status(ticket=ticket, actor=world.agent, status="closed")
    assert t.status == "closed" and t.status_category == "resolved" and t.closed_at
    ev = TicketEvent.objects.filter(ticket=ticket, type="status_changed").get()
    assert ev.payload == {"old": "solved", "new": "closed"} and ev.actor == world.agent


def test_note_mentions_only_colleagues_who_can_see(world, django_capture_on_commit_callbacks):
    world.teammate.email = "bob@example.com"
    world.teammate.save()
    ticket = world.ticket()
    with django_capture_on_commit_callbacks(execute=True):
        note, mentioned = ticket_add_note(
            ticket=ticket, author=world.agent, body="@bob please check, also @carol and @nobody"
        )
    assert [u.username for u in mentioned] == ["bob"]  # carol is outside the US team's scope
    assert list(note.mentions.values_list("user__username", flat=True)) == ["bob"]
    assert note.direction == MessageDirection.NOTE


def test_assign_checks_assignee(world, django_capture_on_commit_callbacks):
    ticket = world.ticket(status="new")
    with pytest.raises(ValidationFailed):
        ticket_assign(ticket=ticket, actor=world.agent, assignee=world.viewer)
    with pytest.raises(NotFound):
        ticket_assign(ticket=ticket, actor=world.agent, assignee=world.foreign_user)
    with django_capture_on_commit_callbacks(execute=True):
        t = ticket_assign(ticket=ticket, actor=world.agent, assignee=world.teammate)
    assert t.assignee == world.teammate and t.status == "open"


def test_update_and_tags(world):
    ticket = world.ticket()
    ticket_update(ticket=ticket, actor=world.agent, category="refund", urgency="high", is_high_priority=True)
    ticket.refresh_from_db()
    assert (ticket.category, ticket.urgency, ticket.is_high_priority) == ("refund", "high", True)
    with pytest.raises(ValidationFailed):
        ticket_update(ticket=ticket, actor=world.agent, urgency="extreme")
    assert ticket_set_tags(ticket=ticket, actor=world.agent, add=["Black Friday", "vip"]) == ["black friday", "vip"]
    assert ticket_set_tags(ticket=ticket, actor=world.agent, remove=["vip"]) == ["black friday"]


def test_merge_moves_messages_and_closes_source(world):
    a = world.ticket()
    b = world.ticket(customer=a.customer)
    Message.objects.create(ticket=b, store=b.store, direction="inbound", channel="amazon", body="dup", external_id="x1")
    merged = ticket_merge(source=b, target=a, actor=world.agent)
    b.refresh_from_db()
    assert merged.pk == a.pk and b.merged_into_id == a.pk and b.status == "closed"
    assert Message.objects.get(external_id="x1").ticket_id == a.pk
    with pytest.raises(Conflict):
        ticket_merge(source=b, target=a, actor=world.agent)
    with pytest.raises(ValidationFailed):
        ticket_merge(source=a, target=a, actor=world.agent)


def test_bulk_reports_each_ticket(world):
    mine = world.ticket()
    solved = world.ticket(status="closed")
    other_team = world.ticket(store=world.store_de)
    foreign = world.foreign_ticket()
    result = tickets_bulk_apply(
        actor=world.agent, ticket_ids=[mine.pk, solved.pk, other_team.pk, foreign.pk], action="status", value="solved"
    )
    assert result.succeeded == [mine.pk]
    assert result.failed[other_team.pk] == "ticket not found"
    assert result.failed[foreign.pk] == "ticket not found"
    assert "cannot go from closed" in result.failed[solved.pk]
    assert Ticket.objects.get(pk=mine.pk).status == "solved"


def test_category_labels_are_configurable_per_organization(world):
    from aftersales.inbox.models import CategoryLabel
    from aftersales.inbox.selectors import category_labels

    CategoryLabel.objects.create(
        organization=world.org, category="size_mismatch", label_en="Fit problem", label_zh_hans="尺码不合"
    )
    en = category_labels(world.org.pk, "en")
    zh = category_labels(world.org.pk, "zh-hans")
    assert en["size_mismatch"] == "Fit problem" and zh["size_mismatch"] == "尺码不合"
    assert en["refund"] == "Refund"
    assert category_labels(world.foreign_org.pk, "en")["size_mismatch"] == "Size mismatch"


def test_failed_reply_leaves_no_file_behind(world, settings):
    import os

    from aftersales.inbox.services import AttachmentInput
    from aftersales.inbox.tests.test_ingest import PNG

    ticket = world.ticket(status="open")
    before = sum(len(files) for _, _, files in os.walk(settings.MEDIA_ROOT))
    with pytest.raises(Conflict):  # open -> new is not an allowed transition: the whole reply rolls back
        ticket_reply(
            ticket=ticket,
            author=world.agent,
            body="see photo",
            status="new",
            attachments=[AttachmentInput("a.png", PNG)],
        )
    assert sum(len(files) for _, _, files in os.walk(settings.MEDIA_ROOT)) == before
    assert not Message.objects.exists()


def test_reply_idempotency_reports_created_and_refuses_other_body(world):
    from aftersales.inbox.services import ticket_reply_idempotent

    ticket = world.ticket()
    first, created = ticket_reply_idempotent(ticket=ticket, author=world.agent, body="Hi", idempotency_key="k")
    again, created_again = ticket_reply_idempotent(ticket=ticket, author=world.agent, body="Hi", idempotency_key="k")
    assert created and not created_again and first.pk == again.pk
    with pytest.raises(Conflict) as exc:
        ticket_reply_idempotent(ticket=ticket, author=world.agent, body="Other", idempotency_key="k")
    assert exc.value.field == "idempotency_key"


def test_impossible_dates_are_a_validation_error():
    from aftersales.inbox.selectors import parse_ticket_filters

    with pytest.raises(ValidationFailed) as exc:
        parse_ticket_filters({"created_after": "2026-13-45"})
    assert exc.value.field == "created_after"


def test_mentions_match_usernames_case_insensitively(world):
    from aftersales.testing.factories import UserFactory

    mixed = UserFactory(username="Li.Na", organization=world.org, role=world.roles["agent"])
    world.team_us.members.add(mixed)
    ticket = world.ticket()
    _, mentioned = ticket_add_note(ticket=ticket, author=world.agent, body="@LI.NA and @BOB please look")
    assert sorted(u.username for u in mentioned) == ["Li.Na", "bob"]


def test_subject_change_is_its_own_event(world):
    ticket = world.ticket(subject="old")
    ticket_update(ticket=ticket, actor=world.agent, subject="Earbuds not charging")
    event = TicketEvent.objects.get(ticket=ticket, type="subject_changed")
    assert event.payload == {"field": "subject", "old": "old", "new": "Earbuds not charging"}
    assert not TicketEvent.objects.filter(ticket=ticket, type="category_changed").exists()
