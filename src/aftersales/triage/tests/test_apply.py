"""Triage acts on the ticket (issue 11): urgency, category and order set as Actor.system("triage")
through inbox.services.ticket_update, only when confident, never lowering what a person set."""

from __future__ import annotations

import pytest

from aftersales.core.actors import Actor
from aftersales.inbox.models import Message, MessageDirection, TicketEvent
from aftersales.inbox.services import ticket_update
from aftersales.inbox.workflow import TicketCategory
from aftersales.testing.factories import OrderFactory, StoreFactory
from aftersales.triage.apply import INTENT_CATEGORY, triage_changes
from aftersales.triage.labels import Intent
from aftersales.triage.models import TriageResult, TriageSettings
from aftersales.triage.selectors import triage_settings_of
from aftersales.triage.services import triage_result_apply, triage_settings_update
from aftersales.triage.tasks import apply_triage

# --- the pure decision ----------------------------------------------------------------------------


def test_every_intent_maps_to_a_real_category_or_none():
    assert set(INTENT_CATEGORY) == set(Intent.values)
    assert {c for c in INTENT_CATEGORY.values() if c} <= set(TicketCategory.values)


def _changes(**kw):  # type: ignore[no-untyped-def]
    values = {
        "intent": "refund_request",
        "urgency": "high",
        "reasons": [],
        "ticket_urgency": "medium",
        "ticket_category": "other",
        "urgency_set_by_someone": False,
        "category_set_by_someone": False,
    }
    values.update(kw)
    return triage_changes(**values)


def test_confident_result_sets_urgency_and_category():
    changes = _changes()
    assert (changes.urgency, changes.category) == ("high", "refund")


def test_low_confidence_changes_nothing():
    assert _changes(reasons=["low_confidence"]).empty


def test_abusive_alone_still_applies_the_fields():
    assert _changes(reasons=["abusive"]).urgency == "high"


@pytest.mark.parametrize(
    ("set_by_someone", "ticket", "triage", "expected"),
    [
        (False, "high", "low", "low"),  # never set by a person: triage's own value
        (True, "high", "low", None),  # a person set it: never lowered
        (True, "medium", "high", "high"),  # ... but raised
        (True, "low", "medium", "medium"),
        (False, "medium", "medium", None),
    ],
)
def test_urgency_is_only_raised_once_a_person_set_it(set_by_someone, ticket, triage, expected):
    assert _changes(urgency=triage, ticket_urgency=ticket, urgency_set_by_someone=set_by_someone).urgency == expected


def test_a_category_a_person_set_is_kept_and_unmapped_intents_keep_it():
    assert _changes(category_set_by_someone=True).category is None
    assert _changes(intent="praise_thanks").category is None


# --- the service ------------------------------------------------------------------------------------


def _inbound(ticket, body="Where is my refund for order 113-1234567-1234567?"):  # type: ignore[no-untyped-def]
    return Message.objects.create(
        ticket=ticket, store_id=ticket.store_id, direction=MessageDirection.INBOUND, channel=ticket.platform, body=body
    )


def _result(message, **kw):  # type: ignore[no-untyped-def]
    values = {
        "organization_id": message.ticket.organization_id,
        "intent": "refund_request",
        "confidence": 0.93,
        "urgency": "high",
        "sentiment": "negative",
        "needs_human": False,
        "reasons": [],
        "entities": [],
        "model_version": "test",
    }
    values.update(kw)
    return TriageResult.objects.create(message=message, **values)


def test_triage_sets_urgency_category_and_order_as_the_system(world):
    ticket = world.ticket(urgency="medium", category="other")
    order = OrderFactory(store=world.store_us)
    message = _inbound(ticket)
    _result(message, order=order)
    assert triage_result_apply(message_id=message.pk) is not None
    ticket.refresh_from_db()
    assert (ticket.urgency, ticket.category, ticket.order_id) == ("high", "refund", order.pk)
    rows = TicketEvent.objects.filter(ticket=ticket, type__in=["urgency_changed", "category_changed", "order_linked"])
    assert {(r.type, r.actor_kind, r.actor_ref) for r in rows} == {
        ("urgency_changed", "system", "triage"),
        ("category_changed", "system", "triage"),
        ("order_linked", "system", "triage"),
    }
    assert all(r.payload["reason"].startswith("triage: refund_request") for r in rows)
    assert triage_result_apply(message_id=message.pk) is None  # idempotent


def test_an_agents_urgency_is_not_lowered_and_an_order_is_not_replaced(world):
    ticket = world.ticket(urgency="medium", category="other")
    ticket_update(ticket=ticket, actor=world.agent, urgency="high", category="complaint")
    first = OrderFactory(store=world.store_us)
    ticket_update(ticket=ticket, actor=world.agent, order=first)
    message = _inbound(ticket)
    _result(message, urgency="low", order=OrderFactory(store=world.store_us))
    assert triage_result_apply(message_id=message.pk) is None
    ticket.refresh_from_db()
    assert (ticket.urgency, ticket.category, ticket.order_id) == ("high", "complaint", first.pk)


def test_a_rules_urgency_counts_as_set_by_someone(world):
    ticket = world.ticket(urgency="medium")
    ticket_update(ticket=ticket, actor=Actor.rule(3, "VIP"), urgency="high")
    message = _inbound(ticket)
    _result(message, urgency="medium")
    triage_result_apply(message_id=message.pk)
    ticket.refresh_from_db()
    assert ticket.urgency == "high"


def test_only_the_latest_inbound_message_acts(world):
    ticket = world.ticket(urgency="medium")
    older = _inbound(ticket, "first")
    _inbound(ticket, "second")
    _result(older, urgency="high")
    assert triage_result_apply(message_id=older.pk) is None


def test_low_confidence_result_leaves_the_ticket(world):
    ticket = world.ticket(urgency="medium", category="other")
    message = _inbound(ticket)
    _result(message, needs_human=True, reasons=["low_confidence"], confidence=0.3)
    assert triage_result_apply(message_id=message.pk) is None
    ticket.refresh_from_db()
    assert (ticket.urgency, ticket.category) == ("medium", "other")


def test_an_order_of_another_organization_is_never_linked(world):
    ticket = world.ticket()
    foreign = OrderFactory(store=StoreFactory(organization=world.foreign_org))
    message = _inbound(ticket)
    _result(message, order=foreign, reasons=["low_confidence"])
    triage_result_apply(message_id=message.pk)
    ticket.refresh_from_db()
    assert ticket.order_id is None


def test_the_organization_can_turn_it_off(world):
    assert triage_settings_of(world.org.pk).apply_results is True  # default on, no row needed
    triage_settings_update(user=world.admin, apply_results=False)
    assert TriageSettings.objects.get(organization=world.org).apply_results is False
    ticket = world.ticket(urgency="medium")
    message = _inbound(ticket)
    _result(message)
    apply_triage.call_local(message.pk)
    ticket.refresh_from_db()
    assert ticket.urgency == "medium"


def test_only_administrators_change_the_switches(world):
    from aftersales.core.errors import PermissionDenied

    for user in (world.agent, world.viewer, world.approver):
        with pytest.raises(PermissionDenied):
            triage_settings_update(user=user, auto_route=True)
    assert not TriageSettings.objects.exists()
