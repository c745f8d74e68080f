"""The dry run point in time (rules/point_in_time.py) and by pages (rules/simulate.py): a ticket is
evaluated as it was at each replayed event, stalled shipments replay from their tracking history,
and the pages of a window are stable."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from aftersales.catalog.models import TrackingEvent
from aftersales.core.errors import ValidationFailed
from aftersales.inbox.models import Message, Tag, Ticket, TicketEvent
from aftersales.rules.simulate import rule_simulate
from aftersales.testing.factories import OrderFactory, ShipmentFactory

pytestmark = pytest.mark.django_db


def ago(days: float) -> Any:
    return timezone.now() - timedelta(days=days)


def doc(trigger: str, conditions: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "trigger": trigger,
        "conditions": {"all": conditions},
        "actions": [{"type": "set_category", "params": {"category": "refund"}}],
    }


def made(world: Any, days: float, **kwargs: Any) -> Ticket:
    ticket = world.ticket(**kwargs)
    Ticket.objects.filter(pk=ticket.pk).update(created_at=ago(days), last_message_at=ago(days))
    return Ticket.objects.get(pk=ticket.pk)


def keys(result: Any) -> list[str]:
    return [m.event_key for m in result.matches]


def test_a_ticket_is_evaluated_with_the_category_it_had_then(world: Any) -> None:
    ticket = made(world, 5, category="logistics", urgency="high")
    # after creation, someone changed the category and lowered the urgency
    TicketEvent.objects.create(
        ticket=ticket, type="category_changed", payload={"old": "not_received", "new": "logistics"}, at=ago(2)
    )
    TicketEvent.objects.create(ticket=ticket, type="urgency_changed", payload={"old": "high", "new": "low"}, at=ago(1))
    Ticket.objects.filter(pk=ticket.pk).update(urgency="low")
    then = doc("ticket_created", [{"field": "ticket.category", "op": "eq", "value": "not_received"}])
    result = rule_simulate(world.admin, document=then, days=10)
    assert keys(result) == [f"ticket_created:{ticket.pk}"]
    [change] = result.matches[0].changes
    assert (change.current, change.value, change.changes) == ("not_received", "refund", True)
    now_value = doc("ticket_created", [{"field": "ticket.category", "op": "eq", "value": "logistics"}])
    assert rule_simulate(world.admin, document=now_value, days=10).matched == 0
    high_then = doc("ticket_created", [{"field": "ticket.urgency", "op": "eq", "value": "high"}])
    assert rule_simulate(world.admin, document=high_then, days=10).matched == 1


def test_each_update_sees_the_ticket_right_after_it(world: Any) -> None:
    ticket = made(world, 5, category="refund")
    first = TicketEvent.objects.create(
        ticket=ticket, type="category_changed", payload={"old": "other", "new": "return"}, at=ago(3)
    )
    second = TicketEvent.objects.create(
        ticket=ticket, type="category_changed", payload={"old": "return", "new": "refund"}, at=ago(2)
    )
    is_return = doc("ticket_updated", [{"field": "ticket.category", "op": "eq", "value": "return"}])
    assert keys(rule_simulate(world.admin, document=is_return)) == [f"ticket_updated:{first.pk}"]
    is_refund = doc("ticket_updated", [{"field": "ticket.category", "op": "eq", "value": "refund"}])
    assert keys(rule_simulate(world.admin, document=is_refund)) == [f"ticket_updated:{second.pk}"]


def test_messages_and_tags_then(world: Any) -> None:
    ticket = made(world, 5)
    first = Message.objects.create(ticket=ticket, store=ticket.store, direction="inbound", channel="amazon", body="a")
    Message.objects.filter(pk=first.pk).update(created_at=ago(4), sent_at=ago(4))
    later = Message.objects.create(ticket=ticket, store=ticket.store, direction="inbound", channel="amazon", body="b")
    Message.objects.filter(pk=later.pk).update(created_at=ago(1), sent_at=ago(1))
    TicketEvent.objects.create(ticket=ticket, type="tags_changed", payload={"old": [], "new": ["vip"]}, at=ago(2))
    ticket.tags.add(Tag.objects.create(organization=world.org, name="vip"))
    first_only = doc(
        "message_received",
        [{"field": "ticket.message_count", "op": "eq", "value": 1}, {"field": "ticket.tags", "op": "is_empty"}],
    )
    assert keys(rule_simulate(world.admin, document=first_only)) == [f"message_received:{first.pk}"]


def test_stalled_shipments_replay_from_tracking_history(world: Any) -> None:
    order = OrderFactory(store=world.store_us, organization=world.org)
    shipment = ShipmentFactory(order=order)
    open_ticket = made(world, 6, order=order, subject="Where is it?")
    solved_then = made(world, 6, order=order)
    # solved 4 days ago, reopened yesterday: it was resolved when the parcel stalled
    TicketEvent.objects.create(
        ticket=solved_then, type="status_changed", payload={"old": "open", "new": "solved"}, at=ago(4)
    )
    TicketEvent.objects.create(
        ticket=solved_then, type="status_changed", payload={"old": "solved", "new": "open"}, at=ago(1)
    )
    made(world, 1, order=order)  # created after the stall: not there then
    for days, status in ((5, "in_transit"), (3, "exception"), (2.5, "exception"), (2, "in_transit"), (1.5, "lost")):
        TrackingEvent.objects.create(shipment=shipment, status=status, at=ago(days))
    rule = doc(
        "shipment_stalled",
        [{"field": "event.new_status", "op": "in", "value": ["exception", "lost"]}],
    )
    result = rule_simulate(world.admin, document=rule, days=10)
    # two moves into a stalled status (the second "exception" is no move), on the one ticket open then
    assert result.events_examined == 4 and result.matched == 2
    assert {m.ticket_id for m in result.matches} == {open_ticket.pk}
    assert all(k.startswith(f"shipment:{shipment.pk}:") for k in keys(result))
    status_then = doc("shipment_stalled", [{"field": "order.shipment_status", "op": "eq", "value": "lost"}])
    assert rule_simulate(world.admin, document=status_then, days=10).matched == 1


def test_pages_are_stable_and_cover_the_window_once(world: Any) -> None:
    tickets = [made(world, 9 - i * 0.5) for i in range(7)]
    rule = doc("ticket_created", [])
    whole = rule_simulate(world.admin, document=rule, days=10)
    assert whole.next_cursor is None and whole.progress == 1.0 and len(whole.matches) == 7
    seen: list[str] = []
    cursor = None
    pages = 0
    progress = []
    while True:
        page = rule_simulate(world.admin, document=rule, days=10, row_cap=3, cursor=cursor)
        pages += 1
        seen += keys(page)
        progress.append(page.progress)
        if pages == 1:
            made(world, 0)  # a ticket created after the first page: outside the fixed window
        if page.next_cursor is None:
            break
        assert page.truncated and page.events_examined == 3
        cursor = page.next_cursor
    assert pages == 3 and seen == keys(whole) == [f"ticket_created:{t.pk}" for t in tickets]
    assert progress == sorted(progress) and progress[-1] == 1.0 and 0 < progress[0] < 1
    assert cursor is not None
    other = doc("ticket_created", [{"field": "ticket.platform", "op": "eq", "value": "ebay"}])
    for bad, document in (("nonsense", rule), (cursor, other), (cursor[:-2] + "xx", rule)):
        with pytest.raises(ValidationFailed) as err:
            rule_simulate(world.admin, document=document, days=10, row_cap=3, cursor=bad)
        assert err.value.field == "cursor"


def test_api_pages_with_next_cursor_and_refuses_a_foreign_cursor(world: Any) -> None:
    from aftersales.api.tests.helpers import ApiClient, assert_error

    for i in range(3):
        made(world, 3 - i * 0.5)
    api = ApiClient(user=world.admin)
    rule = doc("ticket_created", [])
    first = api.request("POST", "/rules/simulate", {"document": rule, "days": 7, "row_cap": 2}).json()
    assert (first["events_examined"], first["truncated"], len(first["matches"])) == (2, True, 2)
    assert 0 < first["progress"] < 1 and first["next_cursor"]
    body = {"document": rule, "days": 7, "row_cap": 2, "cursor": first["next_cursor"]}
    second = api.request("POST", "/rules/simulate", body).json()
    assert (second["events_examined"], second["next_cursor"], second["progress"]) == (1, None, 1.0)
    assert second["since"] == first["since"] and second["until"] == first["until"]
    r = api.request("POST", "/rules/simulate", {**body, "cursor": "x" + first["next_cursor"]})
    assert_error(r, 422, field="cursor")
