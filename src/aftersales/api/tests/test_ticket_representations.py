"""What the ticket representations tell a client: the failed-delivery mark on rows and tickets (the
inbox badge), who acted on every event (user, customer, connector, rule, system), and where an
attachment's bytes are."""

from __future__ import annotations

import base64

from aftersales.api.tests.fixtures import PNG_B64, build_scene


def _timeline_events(detail: dict) -> list[dict]:
    return [entry["event"] for entry in detail["timeline"] if entry["kind"] == "event"]


def test_rows_and_tickets_say_whether_a_reply_failed(world, as_user):
    scene = build_scene(world)  # scene.ticket has a failed reply, scene.other none
    client = as_user(world.agent)
    rows = {row["id"]: row for row in client.get("/tickets", {"limit": 100}).json()["items"]}
    assert rows[scene.ticket.pk]["delivery_failed"] is True
    assert rows[scene.other.pk]["delivery_failed"] is False
    assert client.get(f"/tickets/{scene.ticket.pk}").json()["ticket"]["delivery_failed"] is True
    assert client.get(f"/tickets/{scene.other.pk}").json()["ticket"]["delivery_failed"] is False
    searched = client.get("/tickets", {"q": "Earbuds"}).json()["items"]
    assert [row["delivery_failed"] for row in searched if row["id"] == scene.ticket.pk] == [True]


def test_events_name_their_actor_of_every_kind(world, as_user):
    admin = as_user(world.admin)
    inbound = admin.post(
        "/inbound/messages",
        {
            "store_id": world.store_us.pk,
            "external_id": "actor-1",
            "body": "Where is my parcel?",
            "customer_external_id": "buyer-actor",
            "customer_name": "Ana Souza",
        },
    )
    assert inbound.status_code in (200, 201), inbound.content[:300]
    ticket_id = inbound.json()["ticket_id"]
    agent = as_user(world.agent)
    assert agent.post(f"/tickets/{ticket_id}/replies", {"body": "It is on its way"}).status_code == 201
    events = _timeline_events(agent.get(f"/tickets/{ticket_id}").json())
    created = next(e for e in events if e["type"] == "created")
    assert created["actor"] is None
    assert created["actor_kind"] == "customer"
    assert created["actor_id"] != ""
    assert created["actor_label"] == "Customer"
    replied = next(e for e in events if e["type"] == "replied")
    assert replied["actor_kind"] == "user"
    assert replied["actor_id"] == str(world.agent.pk)
    assert replied["actor"]["id"] == world.agent.pk
    assert replied["actor_label"] == str(world.agent)


def test_attachments_carry_their_download_address(world, as_user):
    scene = build_scene(world)
    client = as_user(world.agent)
    sent = client.post(
        f"/tickets/{scene.ticket.pk}/replies",
        {"body": "Your label", "attachments": [{"filename": "label.png", "content_base64": PNG_B64}]},
    )
    assert sent.status_code == 201, sent.content[:300]
    attachment = sent.json()["attachments"][0]
    assert attachment["content_url"] == f"/api/v1/attachments/{attachment['id']}/content"
    detail = client.get(f"/tickets/{scene.ticket.pk}").json()
    urls = [a["content_url"] for e in detail["timeline"] if e["message"] for a in e["message"]["attachments"]]
    assert attachment["content_url"] in urls
    response = client.get(attachment["content_url"])
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == base64.b64decode(PNG_B64)
