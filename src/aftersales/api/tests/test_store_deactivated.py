"""A deactivated store takes no new customer messages and sends no replies (nor retries of failed
ones); its tickets stay visible. A message already ingested before still answers as a replay."""

from __future__ import annotations

from aftersales.catalog.services import store_deactivate
from aftersales.inbox.models import Message, Ticket

from .fixtures import build_scene
from .helpers import assert_error, db_state


def _inbound(world, external_id: str) -> dict:  # type: ignore[no-untyped-def]
    return {
        "store_id": world.store_us.pk,
        "external_id": external_id,
        "body": "Where is my parcel?",
        "customer_external_id": "buyer-deact",
    }


def test_a_deactivated_store_takes_no_new_messages(world, as_user):
    admin = as_user(world.admin)
    first = admin.post("/inbound/messages", _inbound(world, "m-1"))
    assert first.status_code == 201
    store_deactivate(user=world.admin, store_id=world.store_us.pk)
    before = db_state()
    refused = admin.post("/inbound/messages", _inbound(world, "m-2"))
    assert_error(refused, 409, field="store_id")
    assert world.store_us.name in refused.json()["error"]["message"]
    assert db_state() == before
    replay = admin.post("/inbound/messages", _inbound(world, "m-1"))
    assert replay.status_code == 200 and replay.json()["ticket_id"] == first.json()["ticket_id"]
    ticket_id = first.json()["ticket_id"]
    agent = as_user(world.agent)
    assert agent.get(f"/tickets/{ticket_id}").status_code == 200
    assert ticket_id in [row["id"] for row in agent.get("/tickets", {"limit": 100}).json()["items"]]


def test_a_deactivated_store_sends_no_replies_nor_retries(world, as_user):
    scene = build_scene(world)  # scene.ticket is on store_us, with a failed reply
    store_deactivate(user=world.admin, store_id=world.store_us.pk)
    agent = as_user(world.agent)
    before = db_state()
    assert_error(agent.post(f"/tickets/{scene.ticket.pk}/replies", {"body": "Hello"}), 409, field="store")
    assert_error(agent.post(f"/messages/{scene.failed_reply.pk}/retry"), 409, field="store")
    assert db_state() == before
    assert Message.objects.get(pk=scene.failed_reply.pk).delivery_status == "failed"
    # the ticket is still worked on: a note, a status change
    assert agent.post(f"/tickets/{scene.ticket.pk}/notes", {"body": "store closed, call the buyer"}).status_code == 201
    assert Ticket.objects.filter(pk=scene.ticket.pk).exists()


def test_other_stores_are_not_affected(world, as_user):
    scene = build_scene(world)
    store_deactivate(user=world.admin, store_id=world.store_de.pk)
    response = as_user(world.agent).post(f"/tickets/{scene.ticket.pk}/replies", {"body": "Hello"})
    assert response.status_code == 201
