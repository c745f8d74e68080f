"""Each action end to end: a rule saved through the services, an event run through the engine, the
change made as the rule by the domain service (audit rows and events name the rule)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from aftersales.catalog.models import Order
from aftersales.core.actors import ActorKind
from aftersales.inbox.models import Message, MessageDirection, TicketEvent
from aftersales.inventory.models import Warehouse
from aftersales.language.models import ReplyTemplate, ReplyTemplateVariant
from aftersales.returns.models import Refund, RmaEvent, RmaStatus
from aftersales.returns.rma import rma_create
from aftersales.returns.tests.rma_fixtures import delivered_order, first_line, return_hub, ticket_for
from aftersales.rules import engine, services
from aftersales.rules.actions import REGISTRY
from aftersales.rules.models import Rule, RuleExecution

pytestmark = pytest.mark.django_db


def apply(world: Any, actions: list[dict[str, Any]], *, ticket: Any, rma: Any = None, **doc: Any) -> RuleExecution:
    """Save one enabled rule (the earlier ones of the test disabled) and run it on the event."""
    Rule.objects.filter(organization=world.org).update(enabled=False)
    rule = services.rule_create(
        user=world.admin,
        data={
            "name": f"rule {RuleExecution.objects.count()} {actions[0]['type']}",
            "trigger": "rma_requested" if rma else "ticket_created",
            "enabled": True,
            "conditions": {"all": []},
            "actions": actions,
            **doc,
        },
    )
    engine.run_rules(
        organization_id=world.org.pk,
        trigger=rule.trigger,
        event_key=f"test:{rule.pk}",
        ticket_id=ticket.pk,
        rma_id=rma.pk if rma else None,
    )
    execution = RuleExecution.objects.get(rule=rule)
    assert all(a["status"] == "ok" for a in execution.actions), execution.actions
    return execution


def rule_events(ticket: Any) -> list[str]:
    return list(TicketEvent.objects.filter(ticket=ticket, actor_kind=ActorKind.RULE).values_list("type", flat=True))


def test_ticket_field_actions(world: Any) -> None:
    ticket = world.ticket()
    apply(
        world,
        [
            {"type": "set_category", "params": {"category": "refund"}},
            {"type": "set_urgency", "params": {"urgency": "high"}},
            {"type": "set_priority", "params": {"high": True}},
            {"type": "add_tags", "params": {"tags": ["vip", "auto"]}},
            {"type": "assign_team", "params": {"team_id": world.team_de.pk}},
            {"type": "assign_agent", "params": {"user_id": world.teammate.pk}},
            {"type": "add_note", "params": {"body": "Checked by a rule."}},
        ],
        ticket=ticket,
    )
    ticket.refresh_from_db()
    assert (ticket.category, ticket.urgency, ticket.is_high_priority) == ("refund", "high", True)
    assert (ticket.team_id, ticket.assignee_id) == (world.team_de.pk, world.teammate.pk)
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["auto", "vip"]
    note = Message.objects.get(ticket=ticket, direction=MessageDirection.NOTE)
    assert note.author_id is None and note.body == "Checked by a rule."
    assert {"category_changed", "urgency_changed", "assigned", "note_added"} <= set(rule_events(ticket))


def test_escalate_and_stop_further(world: Any) -> None:
    ticket = world.ticket()
    execution = apply(
        world, [{"type": "escalate", "params": {}}, {"type": "stop_further", "params": {}}], ticket=ticket
    )
    ticket.refresh_from_db()
    assert ticket.urgency == "high" and ticket.is_high_priority
    assert "Escalated by the rule" in Message.objects.get(ticket=ticket, direction=MessageDirection.NOTE).body
    assert execution.actions[1]["result"] == {"stopped": True}


def test_send_template_in_the_customers_language(world: Any) -> None:
    template = ReplyTemplate.objects.create(organization=world.org, name="Evidence", source_language="en")
    ReplyTemplateVariant.objects.create(
        template=template, language="en", body="Please send a photo, {{ customer.first_name }}."
    )
    ReplyTemplateVariant.objects.create(
        template=template, language="de", body="Bitte senden Sie ein Foto, {{ customer.first_name }}."
    )
    ticket = world.ticket(language="de")
    execution = apply(world, [{"type": "send_template", "params": {"template_id": template.pk}}], ticket=ticket)
    reply = Message.objects.get(ticket=ticket, direction=MessageDirection.OUTBOUND)
    assert reply.body.startswith("Bitte senden Sie ein Foto") and reply.author_id is None
    assert execution.actions[0]["result"]["language"] == "de"
    # the same event again (a retried task): no second reply
    engine.run_rules(
        organization_id=world.org.pk, trigger="ticket_created", event_key=execution.event_key, ticket_id=ticket.pk
    )
    assert Message.objects.filter(ticket=ticket, direction=MessageDirection.OUTBOUND).count() == 1


def _rma(world: Any, price: str = "20.00") -> tuple[Any, Any]:
    if not Warehouse.objects.filter(organization=world.org, code="US-RET").exists():
        return_hub(world)
    order = delivered_order(world, lines=(("home", price, 1, "USD"),))
    Order.objects.filter(pk=order.pk).update(total_amount=Decimal(price))
    ticket = ticket_for(world, order)
    rma = rma_create(
        user=world.agent,
        order_id=order.pk,
        lines=[{"order_line_id": first_line(order).pk, "quantity": 1}],
        reason="damaged_in_transit",
        ticket_id=ticket.pk,
    )
    return ticket, rma


def test_return_decisions_act_as_the_rule(world: Any) -> None:
    ticket, rma = _rma(world)
    apply(
        world,
        [{"type": "request_evidence", "params": {"kinds": ["photo"], "message": "A photo please"}}],
        ticket=ticket,
        rma=rma,
    )
    rma.refresh_from_db()
    assert rma.status == RmaStatus.NEEDS_EVIDENCE
    row = RmaEvent.objects.filter(rma=rma, type="evidence_requested").get()
    assert row.actor_kind == ActorKind.RULE
    apply(world, [{"type": "reject_return", "params": {"reason": "Outside the window"}}], ticket=ticket, rma=rma)
    rma.refresh_from_db()
    assert rma.status == RmaStatus.REJECTED
    ticket2, rma2 = _rma(world)
    apply(world, [{"type": "approve_return", "params": {}}], ticket=ticket2, rma=rma2)
    rma2.refresh_from_db()
    assert rma2.status in (RmaStatus.APPROVED, RmaStatus.LABEL_ISSUED)
    assert RmaEvent.objects.filter(rma=rma2, type="status_changed", actor_kind=ActorKind.RULE).exists()


def test_refund_within_the_rules_limit_is_approved_above_it_waits(world: Any) -> None:
    ticket, rma = _rma(world, price="20.00")
    execution = apply(
        world,
        [{"type": "refund_returnless", "params": {}}],
        ticket=ticket,
        rma=rma,
        approval_limit={"amount": "50.00", "currency": "USD"},
    )
    refund = Refund.objects.get(rma=rma)
    assert refund.amount == Decimal("20.00") and refund.status not in ("pending_approval", "in_review")
    assert execution.actions[0]["result"]["refund_id"] == refund.pk
    ticket2, rma2 = _rma(world, price="80.00")
    apply(
        world,
        [{"type": "refund_returnless", "params": {}}],
        ticket=ticket2,
        rma=rma2,
        approval_limit={"amount": "50.00", "currency": "USD"},
    )
    assert Refund.objects.get(rma=rma2).status == "pending_approval"  # manual review, never paid by the rule
    ticket3, rma3 = _rma(world, price="30.00")
    apply(world, [{"type": "refund_partial", "params": {"percent": 50}}], ticket=ticket3, rma=rma3)
    partial = Refund.objects.get(rma=rma3)
    assert partial.amount == Decimal("15.00") and partial.status == "pending_approval"  # no limit: never paid


def test_registry_actions_all_have_labels_and_checks(world: Any) -> None:
    for slug, action in REGISTRY.items():
        assert action.slug == slug and str(action.label)


def test_notify_email_after_commit(world: Any, django_capture_on_commit_callbacks: Any, mailoutbox: Any) -> None:
    world.teammate.email = "teammate@example.com"
    world.teammate.save(update_fields=["email"])
    ticket = world.ticket()
    with django_capture_on_commit_callbacks(execute=True):
        execution = apply(
            world,
            [
                {
                    "type": "notify_email",
                    "params": {"user_ids": [world.teammate.pk], "subject": "VIP ticket", "body": "Look at it now."},
                }
            ],
            ticket=ticket,
        )
    assert execution.actions[0]["result"]["queued_for"] == [world.teammate.pk]
    assert [(m.subject, m.to) for m in mailoutbox] == [("VIP ticket", ["teammate@example.com"])]
    assert f"/tickets/{ticket.pk}/" in mailoutbox[0].body
    with pytest.raises(Exception) as info:
        services.rule_create(
            user=world.admin,
            data={
                "name": "bad notify",
                "trigger": "ticket_created",
                "conditions": {"all": []},
                "actions": [
                    {
                        "type": "notify_email",
                        "params": {"user_ids": [world.foreign_user.pk], "subject": "x", "body": "y"},
                    }
                ],
            },
        )
    assert getattr(info.value, "field", None) == "actions[0].params.user_ids[0]"


def test_create_exchange_reserves_the_same_items(world: Any) -> None:
    from aftersales.returns.models import Exchange
    from aftersales.returns.tests.test_exchange_services import make_rma, stock

    rma, line = make_rma(world, quantity=1)
    ticket = world.ticket(order=rma.order, customer=rma.customer)
    rma.ticket = ticket
    rma.save(update_fields=["ticket"])
    stock(world, "SZ", line.sku, 5)
    execution = apply(world, [{"type": "create_exchange", "params": {}}], ticket=ticket, rma=rma)
    exchange = Exchange.objects.get(rma=rma)
    assert execution.actions[0]["result"]["exchange_id"] == exchange.pk
    assert execution.actions[0]["result"]["out_of_stock"] is False
    assert RmaEvent.objects.filter(rma=rma, actor_kind=ActorKind.RULE).exists()
