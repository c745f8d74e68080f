"""Issue 8 over the API: inbound messages act as the customer, retrying a failed reply needs the
reply permission and is audited, merges of different buyers or stores need `confirm_differences`."""

from __future__ import annotations

from aftersales.catalog.models import Platform
from aftersales.inbox.models import DeliveryStatus, Message, Ticket, TicketEvent
from aftersales.testing.factories import StoreFactory

from .helpers import assert_error


def test_inbound_api_acts_as_the_customer_not_the_token_admin(world, as_user):
    api = as_user(world.admin)
    body = {"store_id": world.store_us.pk, "external_id": "api-1", "body": "Hi", "customer_external_id": "B-77"}
    response = api.post("/inbound/messages", body)
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get(pk=response.json()["ticket_id"])
    rows = TicketEvent.objects.filter(ticket=ticket)
    assert {r.actor_kind for r in rows} == {"customer"}
    assert {r.actor_ref for r in rows} == {str(ticket.customer_id)}
    assert not rows.filter(actor__isnull=False).exists()
    assert rows.get(type="message_received").payload["via"] == "api"
    # the token's user still needs the administer permission
    refused = as_user(world.agent).post("/inbound/messages", {**body, "external_id": "api-2"})
    assert refused.status_code == 403


def _failed_reply(world):  # type: ignore[no-untyped-def]
    ticket = world.ticket()
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


def test_retry_needs_reply_permission_and_is_audited(world, as_user):
    message = _failed_reply(world)
    url = f"/messages/{message.pk}/retry"
    assert_error(as_user(world.viewer).post(url, {}), 403)
    assert_error(as_user(world.outsider).post(url, {}), 404, field="message_id")
    assert_error(as_user(world.foreign_user).post(url, {}), 404, field="message_id")
    assert not TicketEvent.objects.filter(type="reply_retried").exists()
    response = as_user(world.agent).post(url, {})
    assert response.status_code == 200, response.content
    row = TicketEvent.objects.get(type="reply_retried")
    assert (row.actor_kind, row.actor_id, row.payload["message_id"]) == ("user", world.agent.pk, message.pk)


def test_merge_needs_confirmation_when_stores_or_buyers_differ(world, as_user):
    sg = StoreFactory(organization=world.org, name="Shopee SG", platform=Platform.SHOPEE)
    br = StoreFactory(organization=world.org, name="Shopee BR", platform=Platform.SHOPEE)
    source, target = world.ticket(store=sg), world.ticket(store=br)
    api = as_user(world.admin)
    refused = api.post(f"/tickets/{source.pk}/merge", {"target_id": target.pk})
    assert_error(refused, 409, field="confirm_differences")
    error = refused.json()["error"]
    assert error["code"] == "merge_differences" and "Shopee SG" in error["message"] and "Shopee BR" in error["message"]
    assert Ticket.objects.get(pk=source.pk).merged_into_id is None
    done = api.post(f"/tickets/{source.pk}/merge", {"target_id": target.pk, "confirm_differences": True})
    assert done.status_code == 200, done.content
    assert Ticket.objects.get(pk=source.pk).merged_into_id == target.pk


def test_merge_into_another_organization_is_not_found(world, as_user):
    source, foreign = world.ticket(), world.foreign_ticket()
    response = as_user(world.admin).post(
        f"/tickets/{source.pk}/merge", {"target_id": foreign.pk, "confirm_differences": True}
    )
    assert_error(response, 404, field="target_id")


def test_merge_of_tickets_with_the_same_reply_idempotency_key(world, as_user):
    a = world.ticket()
    b = world.ticket(customer=a.customer)
    api = as_user(world.agent)
    for ticket in (a, b):
        sent = api.post(f"/tickets/{ticket.pk}/replies", {"body": "On its way"}, headers={"Idempotency-Key": "k-1"})
        assert sent.status_code == 201, sent.content
    response = api.post(f"/tickets/{b.pk}/merge", {"target_id": a.pk})
    assert response.status_code == 200, response.content
    assert Message.objects.filter(ticket=a, direction="outbound").count() == 2
