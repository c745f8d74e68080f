"""Customer notifications through the organization's reply templates in the buyer's language (seeded
defaults in the nine languages of returns.notify_templates.LANGUAGES; the data migrations and
rma_templates_seed), delivered as replies on the RMA's ticket; without a template the built-in text in
the buyer's language; the timeline records what was sent, and why not (no ticket, nobody to send as);
an automatic step nobody can write is sent by the system."""

from __future__ import annotations

import pytest

from aftersales.inbox.models import Message
from aftersales.language.models import ReplyTemplate
from aftersales.language.templates import check_body
from aftersales.returns.notify import TEMPLATE_NAMES, rma_notify_customer
from aftersales.returns.notify_templates import ALL_TEMPLATES, DEFAULT_TEMPLATES, LANGUAGES, rma_templates_seed
from aftersales.returns.rma import rma_approve, rma_create, rma_reject

from .rma_fixtures import delivered_order, first_line, return_hub, ticket_for

pytestmark = pytest.mark.django_db


def test_every_default_template_is_a_valid_template_in_every_language() -> None:
    assert set(DEFAULT_TEMPLATES) == set(TEMPLATE_NAMES.values())
    for bodies in DEFAULT_TEMPLATES.values():
        assert set(bodies) == set(LANGUAGES)  # the variables: test_notify_languages.py
        for body in bodies.values():
            check_body(body)


def test_seed_is_idempotent_and_keeps_the_admins_edits(world) -> None:
    assert rma_templates_seed(organization_id=world.org.pk) == len(ALL_TEMPLATES)  # with the warranty reminder
    template = ReplyTemplate.objects.get(organization=world.org, name="RMA: return rejected")
    variant = template.variants.get(language="en")
    variant.body = "Sorry {{ rma_number }}"
    variant.save()
    assert rma_templates_seed(organization_id=world.org.pk) == 0
    assert template.variants.get(language="en").body == "Sorry {{ rma_number }}"


@pytest.mark.parametrize(
    ("language", "approved", "rejected"),
    [
        ("de", "Ihre Rücksendung", "Grund: Gebraucht"),
        ("zh", "您的退货", "原因：Gebraucht"),
        ("fr", "votre retour", "Motif : Gebraucht"),
        ("es", "su devolución", "Motivo: Gebraucht"),
        ("en", "your return", "Reason: Gebraucht"),
    ],
)
def test_replies_in_the_buyers_language_from_the_templates(
    world, django_capture_on_commit_callbacks, language, approved, rejected
) -> None:
    rma_templates_seed(organization_id=world.org.pk)
    return_hub(world)
    order = delivered_order(world, lines=(("home", "40.00", 2, "USD"),))
    ticket = ticket_for(world, order, language=language)
    lines = [{"order_line_id": first_line(order).pk, "quantity": 1}]
    with django_capture_on_commit_callbacks(execute=True):
        first = rma_create(user=world.agent, order_id=order.pk, lines=lines, reason="changed_mind")
        rma_approve(user=world.approver, rma_id=first.pk)
    with django_capture_on_commit_callbacks(execute=True):
        second = rma_create(user=world.agent, order_id=order.pk, lines=lines, reason="changed_mind")
        rma_reject(user=world.approver, rma_id=second.pk, reason="Gebraucht")
    bodies = list(
        Message.objects.filter(ticket=ticket, direction="outbound").order_by("id").values_list("body", "author_id")
    )
    assert len(bodies) == 2
    assert approved in bodies[0][0] and first.number in bodies[0][0] and "1 Return Way" in bodies[0][0]
    assert rejected in bodies[1][0]
    assert bodies[0][1] == world.approver.pk  # written as the user who acted
    sent = first.events.get(type="customer_notified")
    assert sent.payload["source"].startswith("template:") and sent.payload["language"] == language


def test_without_a_template_the_built_in_text_and_twice_is_once(world, django_capture_on_commit_callbacks) -> None:
    order = delivered_order(world)
    ticket = ticket_for(world, order, language="zh")
    with django_capture_on_commit_callbacks(execute=True):
        rma = rma_create(
            user=world.agent,
            order_id=order.pk,
            lines=[{"order_line_id": first_line(order).pk, "quantity": 1}],
            reason="changed_mind",
        )
        rma_reject(user=world.approver, rma_id=rma.pk, reason="已使用")
    body = Message.objects.get(ticket=ticket, direction="outbound").body
    assert "很抱歉" in body and "原因：已使用" in body
    event = rma.events.get(type="status_changed", payload__new="rejected")
    again = rma_notify_customer(
        rma_id=rma.pk, step="rejected", rma_event_id=event.pk, actor_user_id=world.approver.pk, payload=event.payload
    )
    assert again == "sent" and Message.objects.filter(ticket=ticket, direction="outbound").count() == 1


def test_an_automatic_step_on_an_unassigned_ticket_is_sent_by_the_system(  # type: ignore[no-untyped-def]
    world, django_capture_on_commit_callbacks
) -> None:
    order = delivered_order(world, lines=(("home", "9.00", 1, "USD"),))  # a returnless refund: automatic
    ticket = ticket_for(world, order)  # unassigned
    with django_capture_on_commit_callbacks(execute=True):
        rma = rma_create(
            user=world.agent,
            order_id=order.pk,
            lines=[{"order_line_id": first_line(order).pk, "quantity": 1}],
            reason="changed_mind",
        )
    rma.refresh_from_db()
    assert rma.status == "resolved"
    assert not rma.events.filter(type="notification_skipped").exists()
    notified = rma.events.get(type="customer_notified")
    assert (notified.payload["step"], notified.actor_kind, notified.actor_ref) == (
        "resolved",
        "system",
        "rma-notifications",
    )
    reply = Message.objects.get(pk=notified.payload["message_id"])
    assert (reply.ticket_id, reply.direction, reply.author_id) == (ticket.pk, "outbound", None)
    assert rma.number in reply.body
    ticket.refresh_from_db()
    assert ticket.assignee_id is None  # the system's reply does not take the ticket
    again = rma_notify_customer(
        rma_id=rma.pk, step="resolved", rma_event_id=notified.payload["for_event_id"], actor_user_id=None, payload={}
    )
    assert again == "sent" and Message.objects.filter(ticket=ticket, direction="outbound").count() == 1


def test_a_new_organization_gets_the_rma_templates(db) -> None:  # type: ignore[no-untyped-def]
    from aftersales.accounts.services import organization_create

    org, _admin = organization_create(
        name="Fresh Seller", admin_username="fresh-admin", admin_email="a@fresh.example", admin_password="x7!Kq2#pLm9"
    )
    names = set(ReplyTemplate.objects.filter(organization=org).values_list("name", flat=True))
    assert names == set(ALL_TEMPLATES)  # the notifications and the warranty-expiry reminder
    for template in ReplyTemplate.objects.filter(organization=org):
        assert set(template.variants.values_list("language", flat=True)) == set(LANGUAGES)
    assert rma_templates_seed(organization_id=org.pk) == 0  # idempotent: nothing twice
    assert ReplyTemplate.objects.filter(organization=org).count() == len(ALL_TEMPLATES)
