"""State changes as typed events with an actor (issue 8, sections 1 to 3): one transition function,
actors on every audit row and event, delivery failures that leave the ticket as it was, retry with
a permission and an audit row, merge confirmation and idempotency keys that cannot block a merge."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from django.utils import timezone

from aftersales.catalog.models import Platform
from aftersales.channels import registry
from aftersales.channels.base import SentReceipt
from aftersales.core import events
from aftersales.core.actors import Actor, ActorKind
from aftersales.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from aftersales.inbox.events import (
    MessageReceived,
    ReplyDelivered,
    ReplyDeliveryFailed,
    ReplyQueued,
    TicketAssigned,
    TicketCreated,
    TicketsMerged,
    TicketStatusChanged,
)
from aftersales.inbox.models import DeliveryStatus, Message, Ticket, TicketEvent
from aftersales.inbox.services import (
    InboundMessage,
    message_ingest,
    message_retry_delivery,
    ticket_assign,
    ticket_change_status,
    ticket_merge,
    ticket_reply,
)
from aftersales.inbox.workflow import TRANSITIONS, TicketStatus, check_transition
from aftersales.testing.factories import StoreFactory


@pytest.fixture
def published(monkeypatch):
    """Every event handed to core.events.publish or publish_many, in order (delivery to subscribers is unchanged)."""
    seen: list[object] = []
    real = events.publish_many

    def spy(batch: Sequence[object]) -> None:  # events.publish hands its event to publish_many
        seen.extend(batch)
        real(batch)

    monkeypatch.setattr(events, "publish_many", spy)
    return seen


def of_type(seen, kind):  # type: ignore[no-untyped-def]
    return [e for e in seen if isinstance(e, kind)]


class FakeConnector:
    platform = "amazon"

    def __init__(self) -> None:
        self.sent: list[int] = []

    def send_reply(self, reply):  # type: ignore[no-untyped-def]
        self.sent.append(reply.message_id)
        return SentReceipt(external_id=f"amz-{reply.message_id}", sent_at=timezone.now())


@pytest.fixture
def amazon_connector(monkeypatch):
    fake = FakeConnector()
    monkeypatch.setitem(registry._instances, "amazon", fake)
    return fake


# --- the transition table -------------------------------------------------------------------


@pytest.mark.parametrize("current", TicketStatus.values)
@pytest.mark.parametrize("target", TicketStatus.values)
def test_check_transition_follows_the_table(current, target):
    if target in TRANSITIONS[current]:
        check_transition(current, target)
    else:
        with pytest.raises(Conflict) as exc:
            check_transition(current, target)
        assert exc.value.field == "status"


def test_unknown_status_is_a_validation_error():
    with pytest.raises(ValidationFailed) as exc:
        check_transition("open", "archived")
    assert exc.value.field == "status"


def test_illegal_transition_is_refused_and_writes_nothing(world, published):
    ticket = world.ticket(status="closed")
    with pytest.raises(Conflict):
        ticket_change_status(ticket=ticket, actor=world.agent, status="open")
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    assert not TicketEvent.objects.filter(ticket=ticket, type="status_changed").exists()
    assert not of_type(published, TicketStatusChanged)


def test_agent_status_change_is_a_user_event(world, published):
    ticket = world.ticket()
    ticket_change_status(ticket=ticket, actor=world.agent, status="solved")
    row = TicketEvent.objects.get(ticket=ticket, type="status_changed")
    assert (row.actor_kind, row.actor_ref, row.actor_id) == ("user", str(world.agent.pk), world.agent.pk)
    [event] = of_type(published, TicketStatusChanged)
    assert (event.old_status, event.new_status, event.reason) == ("open", "solved", "")
    assert event.actor == Actor.user(world.agent) and event.actor.user_id == world.agent.pk
    assert event.ticket_event_id == row.pk and event.organization_id == world.org.pk


def test_assignment_of_a_new_ticket_opens_it_through_the_transition(world, published):
    ticket = world.ticket(status="new")
    ticket_assign(ticket=ticket, actor=world.agent, assignee=world.teammate)
    [changed] = of_type(published, TicketStatusChanged)
    assert (changed.old_status, changed.new_status, changed.reason) == ("new", "open", "assigned")
    [assigned] = of_type(published, TicketAssigned)
    assert assigned.actor.kind == ActorKind.USER and assigned.actor.user_id == world.agent.pk


# --- former bypasses: a customer's message reopens, a merge closes ----------------------------


def _inbound(world, **kw):  # type: ignore[no-untyped-def]
    values = {
        "store": world.store_us,
        "external_id": "m-1",
        "body": "Where is my parcel?",
        "customer_external_id": "BUYER-9",
        "customer_name": "Ana Souza",
    }
    values.update(kw)
    return InboundMessage(**values)


def test_customer_message_reopens_as_the_customer(world, published):
    first = message_ingest(inbound=_inbound(world))
    ticket = first.ticket
    created = TicketEvent.objects.get(ticket=ticket, type="created")
    received = TicketEvent.objects.get(ticket=ticket, type="message_received")
    customer_ref = str(ticket.customer_id)
    assert (created.actor_kind, created.actor_ref, created.actor_id) == ("customer", customer_ref, None)
    assert (received.actor_kind, received.actor_ref) == ("customer", customer_ref)
    assert of_type(published, TicketCreated)[0].actor == Actor.customer(ticket.customer)
    assert of_type(published, MessageReceived)[0].actor.kind == ActorKind.CUSTOMER
    Ticket.objects.filter(pk=ticket.pk).update(status="pending_customer", status_category="waiting")
    published.clear()

    message_ingest(inbound=_inbound(world, external_id="m-2", body="Still nothing."))

    ticket.refresh_from_db()
    assert ticket.status == "open" and ticket.status_category == "open"
    row = TicketEvent.objects.get(ticket=ticket, type="status_changed")
    assert (row.actor_kind, row.actor_ref, row.payload["reason"]) == ("customer", customer_ref, "customer_message")
    [changed] = of_type(published, TicketStatusChanged)
    assert (changed.old_status, changed.new_status, changed.reason) == ("pending_customer", "open", "customer_message")
    assert changed.actor.kind == ActorKind.CUSTOMER and changed.actor.id == customer_ref


def test_merge_closes_the_source_as_the_user(world, published):
    a = world.ticket()
    b = world.ticket(customer=a.customer)
    ticket_merge(source=b, target=a, actor=world.agent)
    b.refresh_from_db()
    assert b.status == "closed" and b.closed_at and b.resolved_at
    row = TicketEvent.objects.get(ticket=b, type="status_changed")
    assert (row.actor_kind, row.actor_id, row.payload["reason"]) == ("user", world.agent.pk, "merged")
    [changed] = of_type(published, TicketStatusChanged)
    assert (changed.ticket_id, changed.new_status, changed.reason) == (b.pk, "closed", "merged")
    assert changed.actor == Actor.user(world.agent)
    [merged] = of_type(published, TicketsMerged)
    assert (merged.source_id, merged.target_id, merged.actor.user_id) == (b.pk, a.pk, world.agent.pk)


# --- merge: organizations, differences, idempotency keys -----------------------------------------


def test_merge_across_organizations_is_not_found(world):
    mine = world.ticket()
    foreign = world.foreign_ticket()
    with pytest.raises(NotFound):
        ticket_merge(source=mine, target=foreign, actor=world.admin)
    with pytest.raises(NotFound):
        ticket_merge(source=mine, target=foreign, actor=world.admin, confirm_differences=True)
    with pytest.raises(NotFound):
        ticket_merge(source=foreign, target=mine, actor=world.foreign_user, confirm_differences=True)
    assert not Ticket.objects.filter(merged_into__isnull=False).exists()


def test_merge_of_different_buyers_and_stores_needs_confirmation(world):
    sg = StoreFactory(organization=world.org, name="Shopee SG", platform=Platform.SHOPEE)
    br = StoreFactory(organization=world.org, name="Shopee BR", platform=Platform.SHOPEE)
    source = world.ticket(store=sg)
    target = world.ticket(store=br)
    with pytest.raises(Conflict) as exc:
        ticket_merge(source=source, target=target, actor=world.admin)
    assert exc.value.field == "confirm_differences" and exc.value.code == "merge_differences"
    assert "Shopee SG" in exc.value.message and "Shopee BR" in exc.value.message
    assert source.customer.name in exc.value.message and target.customer.name in exc.value.message
    source.refresh_from_db()
    assert source.merged_into_id is None and source.status == "open"
    ticket_merge(source=source, target=target, actor=world.admin, confirm_differences=True)
    source.refresh_from_db()
    assert source.merged_into_id == target.pk
    merged = TicketEvent.objects.get(ticket=source, type="merged")
    assert len(merged.payload["differences_confirmed"]) == 2


def test_merge_of_the_same_buyer_on_the_same_store_needs_no_confirmation(world):
    a = world.ticket()
    b = world.ticket(customer=a.customer)
    assert ticket_merge(source=b, target=a, actor=world.agent).pk == a.pk


def test_tickets_with_the_same_reply_idempotency_key_merge(world):
    a = world.ticket()
    b = world.ticket(customer=a.customer)
    first = ticket_reply(ticket=a, author=world.agent, body="On its way", idempotency_key="dup-key")
    second = ticket_reply(ticket=b, author=world.agent, body="On its way", idempotency_key="dup-key")
    ticket_merge(source=b, target=a, actor=world.agent)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.ticket_id == second.ticket_id == a.pk
    assert first.idempotency_key == "dup-key"
    assert second.idempotency_key.startswith(f"merged-{b.pk}:") and len(second.idempotency_key) <= 120
    assert TicketEvent.objects.get(ticket=b, type="merged").payload["idempotency_keys_rescoped"] == 1
    # the key still replays the target's own reply
    again = ticket_reply(ticket=a, author=world.agent, body="On its way", idempotency_key="dup-key")
    assert again.pk == first.pk


# --- delivery: an undeliverable reply does not look sent ---------------------------------------


def test_undeliverable_reply_keeps_status_and_unreplied_mark(world, published, django_capture_on_commit_callbacks):
    ticket = world.ticket(status="open", is_unreplied=True)
    with django_capture_on_commit_callbacks(execute=True):
        message = ticket_reply(ticket=ticket, author=world.agent, body="We refund you today.", status="solved")
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.FAILED  # no Amazon connector installed
    ticket.refresh_from_db()
    assert ticket.status == "open" and ticket.is_unreplied and ticket.first_response_at is None
    assert not of_type(published, TicketStatusChanged)
    [failed] = of_type(published, ReplyDeliveryFailed)
    assert failed.actor == Actor.connector(store_id=world.store_us.pk, platform="amazon")
    row = TicketEvent.objects.get(ticket=ticket, type="reply_failed")
    assert (row.actor_kind, row.actor_ref) == ("connector", str(world.store_us.pk))


def test_delivered_reply_applies_the_status_as_its_author(
    world, published, amazon_connector, django_capture_on_commit_callbacks
):
    ticket = world.ticket(status="open", is_unreplied=True)
    with django_capture_on_commit_callbacks(execute=True):
        message = ticket_reply(ticket=ticket, author=world.agent, body="Refunded.", status="solved")
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.SENT and amazon_connector.sent == [message.pk]
    ticket.refresh_from_db()
    assert ticket.status == "solved" and not ticket.is_unreplied and ticket.first_response_at
    [changed] = of_type(published, TicketStatusChanged)
    assert (changed.new_status, changed.reason, changed.actor.user_id) == ("solved", "replied", world.agent.pk)
    assert of_type(published, ReplyDelivered)[0].actor.kind == ActorKind.CONNECTOR


def test_delivered_reply_without_a_chosen_status_follows_the_table(
    world, amazon_connector, django_capture_on_commit_callbacks
):
    ticket = world.ticket(status="open")
    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(ticket=ticket, author=world.agent, body="Checking with the warehouse.")
    ticket.refresh_from_db()
    assert ticket.status == "pending_customer" and not ticket.is_unreplied


def test_customer_writing_before_delivery_keeps_the_ticket_unreplied(
    world, amazon_connector, django_capture_on_commit_callbacks
):
    ticket = world.ticket(status="open")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ticket_reply(ticket=ticket, author=world.agent, body="Checking.")
    Ticket.objects.filter(pk=ticket.pk).update(last_customer_message_at=timezone.now() + timedelta(seconds=5))
    for callback in callbacks:
        callback()
    ticket.refresh_from_db()
    assert ticket.status == "open" and ticket.is_unreplied


def test_reply_with_a_status_the_table_refuses_is_refused_at_once(world):
    ticket = world.ticket(status="solved")
    with pytest.raises(Conflict):
        ticket_reply(ticket=ticket, author=world.agent, body="Hello", status="pending_customer")
    assert not Message.objects.filter(ticket=ticket).exists()


def test_delivery_failed_filter_and_badge_data(world, django_capture_on_commit_callbacks):
    from aftersales.inbox.selectors import parse_ticket_filters, ticket_queryset

    failed = world.ticket()
    fine = world.ticket()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(ticket=failed, author=world.agent, body="Sorry.")
    filters = parse_ticket_filters({"delivery": "failed"})
    ids = set(ticket_queryset(world.admin, filters).values_list("pk", flat=True))
    assert failed.pk in ids and fine.pk not in ids
    unreplied = parse_ticket_filters({"delivery": "failed", "unreplied": "1"})
    assert failed.pk in set(ticket_queryset(world.admin, unreplied).values_list("pk", flat=True))
    with pytest.raises(ValidationFailed) as exc:
        parse_ticket_filters({"delivery": "lost"})
    assert exc.value.field == "delivery"


# --- retry of a failed delivery --------------------------------------------------------------


def _failed_reply(world, ticket=None):  # type: ignore[no-untyped-def]
    ticket = ticket or world.ticket()
    return Message.objects.create(
        ticket=ticket,
        store=ticket.store,
        direction="outbound",
        channel=ticket.platform,
        author=world.agent,
        body="Sorry",
        delivery_status=DeliveryStatus.FAILED,
        delivery_error="no connector",
    )


def test_retry_needs_reply_permission_and_visibility(world):
    message = _failed_reply(world)
    with pytest.raises(PermissionDenied):
        message_retry_delivery(message=message, actor=world.viewer)
    with pytest.raises(NotFound):
        message_retry_delivery(message=message, actor=world.outsider)
    with pytest.raises(NotFound):
        message_retry_delivery(message=message, actor=world.foreign_user)
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.FAILED
    assert not TicketEvent.objects.filter(type="reply_retried").exists()


def test_retry_is_audited_with_its_actor(world, published, django_capture_on_commit_callbacks):
    message = _failed_reply(world)
    with django_capture_on_commit_callbacks(execute=False):
        message_retry_delivery(message=message, actor=world.teammate)
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.QUEUED
    row = TicketEvent.objects.get(ticket=message.ticket, type="reply_retried")
    assert (row.actor_kind, row.actor_id, row.payload) == ("user", world.teammate.pk, {"message_id": message.pk})
    [queued] = of_type(published, ReplyQueued)
    assert queued.actor == Actor.user(world.teammate)
    with pytest.raises(Conflict):
        message_retry_delivery(message=message, actor=world.teammate)  # no longer failed
