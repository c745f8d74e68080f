"""GET /tickets, GET /tickets/{id}, PATCH /tickets/{id}."""

from __future__ import annotations

from datetime import datetime

import pytest

from aftersales.inbox.models import Attachment, TicketEvent
from aftersales.inbox.services import saved_view_create, ticket_add_note, ticket_set_tags
from aftersales.testing.factories import CustomerFactory, TeamFactory

from .fixtures import PNG, build_scene
from .helpers import assert_error, db_state


@pytest.fixture
def scene(world):
    return build_scene(world)


def ids(response):
    assert response.status_code == 200, response.content
    return [t["id"] for t in response.json()["items"]]


def test_list_is_scoped_to_the_users_teams_and_organization(world, scene, as_user):
    assert sorted(ids(as_user(world.agent).get("/tickets"))) == sorted([scene.ticket.pk, scene.other.pk])
    assert ids(as_user(world.outsider).get("/tickets")) == [scene.de_ticket.pk]
    assert len(ids(as_user(world.admin).get("/tickets"))) == 3
    assert ids(as_user(world.foreign_user).get("/tickets")) == [scene.foreign_ticket.pk]


def test_list_row_shape(world, scene, as_user):
    row = next(t for t in as_user(world.agent).get("/tickets").json()["items"] if t["id"] == scene.ticket.pk)
    assert row["store"] == {"id": world.store_us.pk, "name": "Amazon US", "platform": "amazon"}
    assert row["customer"]["id"] == scene.ticket.customer_id
    assert row["order_id"] == scene.ticket.order_id and row["assignee"] is None
    assert datetime.fromisoformat(row["updated_at"]).utcoffset() is not None
    assert row["created_at"].endswith("+00:00")


def test_filters(world, scene, as_user):
    client = as_user(world.admin)
    ticket_set_tags(ticket=scene.other, actor=world.admin, add=["defect"])
    assert ids(client.get("/tickets", {"platform": "ebay"})) == [scene.de_ticket.pk]
    assert sorted(ids(client.get("/tickets", {"platform": "ebay,amazon", "status": "open"}))) == sorted(
        [scene.ticket.pk, scene.other.pk, scene.de_ticket.pk]
    )
    assert ids(client.get("/tickets", {"store": world.store_de.pk})) == [scene.de_ticket.pk]
    assert ids(client.get("/tickets", {"tag": "defect"})) == [scene.other.pk]
    assert ids(client.get("/tickets", {"q": "crackle"})) == [scene.ticket.pk]
    assert ids(client.get("/tickets", {"q": "earbud crackles"})) == [scene.ticket.pk]  # in a message
    assert ids(client.get("/tickets", {"language": "de"})) == [scene.de_ticket.pk]
    assert ids(client.get("/tickets", {"customer": scene.ticket.customer_id, "sort": "created_at"})) == [
        scene.ticket.pk,
        scene.other.pk,
    ]
    assert ids(client.get("/tickets", {"assignee": "me"})) == []
    assert len(ids(client.get("/tickets", {"assignee": "none", "unreplied": "true"}))) == 3
    assert ids(client.get("/tickets", {"created_after": "2099-01-01"})) == []
    assert ids(client.get("/tickets", {"team": world.team_us.pk})) == []
    repeated = client.client.get("/api/v1/tickets?platform=ebay&platform=amazon&sort=created_at")
    assert len(ids(repeated)) == 3


def test_pagination_with_cursor(world, scene, as_user):
    client = as_user(world.admin)
    seen = []
    params = {"limit": 2, "sort": "-created_at"}
    while True:
        page = client.get("/tickets", params).json()
        seen += [t["id"] for t in page["items"]]
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == sorted([scene.ticket.pk, scene.other.pk, scene.de_ticket.pk], reverse=True)


def test_saved_view_filters_apply(world, scene, as_user):
    view = saved_view_create(user=world.admin, name="eBay", filters={"platform": "ebay"}, sort="created_at")
    client = as_user(world.admin)
    assert ids(client.get("/tickets", {"view": view.pk})) == [scene.de_ticket.pk]
    # explicit filters override the view's
    assert len(ids(client.get("/tickets", {"view": view.pk, "platform": "amazon"}))) == 2
    mine = saved_view_create(user=world.agent, name="Mine", filters={})
    assert_error(client.get("/tickets", {"view": mine.pk}), 404, field="view")  # another user's view


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"stauts": "open"}, "stauts"),
        ({"status": "bogus"}, "status"),
        ({"platform": "amazon,myspace"}, "platform"),
        ({"urgency": "urgent"}, "urgency"),
        ({"limit": 101}, "limit"),
        ({"limit": 0}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"sort": "subject"}, "sort"),
        ({"cursor": "garbage"}, "cursor"),
        ({"unreplied": "maybe"}, "unreplied"),
        ({"created_after": "2026-13-45"}, "created_after"),
        ({"updated_before": "2026-01-01T00:00:00"}, "updated_before"),
        ({"store": "abc"}, "store"),
        ({"assignee": "someone"}, "assignee"),
        ({"view": "x"}, "view"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_list_bad_input_is_422_naming_the_parameter(world, as_user, params, field):
    assert_error(as_user(world.agent).get("/tickets", params), 422, field=field)


def test_list_ids_of_another_organization_are_404(world, scene, as_user):
    client = as_user(world.agent)
    foreign_team = TeamFactory(organization=world.foreign_org)
    foreign_customer = CustomerFactory(organization=world.foreign_org)
    assert_error(client.get("/tickets", {"store": world.foreign_store.pk}), 404, field="store")
    assert_error(client.get("/tickets", {"store": f"{world.store_us.pk},{world.foreign_store.pk}"}), 404, field="store")
    assert_error(client.get("/tickets", {"team": foreign_team.pk}), 404, field="team")
    assert_error(client.get("/tickets", {"customer": foreign_customer.pk}), 404, field="customer")
    assert_error(client.get("/tickets", {"assignee": world.foreign_user.pk}), 404, field="assignee")


def test_detail_timeline_order_and_customer_panels(world, scene, as_user):
    Attachment.objects.create(
        message=scene.inbound,
        file="attachments/x.png",
        filename="x.png",
        content_type="image/png",
        size=len(PNG),
        sha256="0" * 64,
    )
    ticket_add_note(ticket=scene.ticket, author=world.agent, body="@bob can you check?")
    TicketEvent.objects.create(ticket=scene.ticket, type="created", at=scene.inbound.created_at, payload={})
    response = as_user(world.agent).get(f"/tickets/{scene.ticket.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["ticket"]["id"] == scene.ticket.pk and body["ticket"]["tags"] == []
    timeline = body["timeline"]
    assert [e["at"] for e in timeline] == sorted(e["at"] for e in timeline)
    kinds = [(e["kind"], (e["message"] or {}).get("direction") or e["event"]["type"]) for e in timeline]
    assert ("message", "inbound") in kinds and ("message", "outbound") in kinds and ("message", "note") in kinds
    assert ("event", "note_added") in kinds
    inbound = next(e["message"] for e in timeline if e["kind"] == "message" and e["message"]["direction"] == "inbound")
    assert inbound["attachments"] == [
        {
            "id": inbound["attachments"][0]["id"],
            "filename": "x.png",
            "content_type": "image/png",
            "size": len(PNG),
            "sha256": "0" * 64,
            "content_url": f"/api/v1/attachments/{inbound['attachments'][0]['id']}/content",
        }
    ]
    note = next(e["message"] for e in timeline if e["kind"] == "message" and e["message"]["direction"] == "note")
    assert [u["username"] for u in note["mentions"]] == ["bob"]
    order = body["order"]
    assert order["total"] == {"amount": "59.98", "currency": "USD"}
    assert order["lines"][0]["quantity"] == 2
    assert order["lines"][0]["unit_price"] == {"amount": "29.99", "currency": "USD"}
    assert order["lines"][0]["line_total"] == {"amount": "59.98", "currency": "USD"}
    assert order["shipments"][0]["events"][0]["location"] == "Shenzhen"
    customer = body["customer"]
    assert customer["customer"]["id"] == scene.ticket.customer_id
    assert customer["order_count"] == 1 and customer["lifetime_value"] == [{"amount": "59.98", "currency": "USD"}]
    assert [t["id"] for t in customer["tickets"]] == [scene.other.pk]
    assert [o["external_id"] for o in customer["orders"]] == [scene.ticket.order.external_id]


def test_detail_out_of_scope_and_foreign_are_404(world, scene, as_user):
    assert_error(as_user(world.agent).get(f"/tickets/{scene.de_ticket.pk}"), 404, field="ticket_id")
    assert_error(as_user(world.agent).get(f"/tickets/{scene.foreign_ticket.pk}"), 404, field="ticket_id")


def test_patch_changes_only_the_fields_sent(world, scene, as_user):
    client = as_user(world.agent)
    response = client.patch(f"/tickets/{scene.ticket.pk}", {"urgency": "high", "team_id": world.team_us.pk})
    assert response.status_code == 200
    body = response.json()
    assert body["urgency"] == "high" and body["team_id"] == world.team_us.pk and body["category"] == "other"
    body = client.patch(f"/tickets/{scene.ticket.pk}", {"team_id": None, "subject": " New subject "}).json()
    assert body["team_id"] is None and body["subject"] == "New subject" and body["urgency"] == "high"
    assert client.patch(f"/tickets/{scene.ticket.pk}", {}).status_code == 200


def test_patch_bad_input_writes_nothing(world, scene, as_user):
    client = as_user(world.agent)
    foreign_team = TeamFactory(organization=world.foreign_org)
    before = db_state()
    url = f"/tickets/{scene.ticket.pk}"
    assert_error(client.patch(url, {"category": "broken"}), 422, field="category")
    assert_error(client.patch(url, {"urgency": "high", "team_id": foreign_team.pk}), 404, field="team_id")
    assert_error(client.patch(url, {"urgency": "high", "subject": "   "}), 422, field="subject")
    assert_error(client.patch(url, {"subject": "x" * 301}), 422, field="subject")
    assert_error(client.patch(url, {"is_high_priority": "perhaps"}), 422, field="is_high_priority")
    assert_error(client.patch(url, raw="{"), 400, field="body")
    assert_error(client.patch(f"/tickets/{scene.foreign_ticket.pk}", {"urgency": "high"}), 404, field="ticket_id")
    assert_error(as_user(world.viewer).patch(url, {"urgency": "high"}), 403, code="permission_denied")
    assert db_state() == before
