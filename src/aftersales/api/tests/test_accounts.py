"""/me, stores, teams, users, saved views, notifications, customers."""

from __future__ import annotations

from aftersales.inbox.models import SavedView
from aftersales.inbox.services import saved_view_create
from aftersales.notifications.models import Notification
from aftersales.testing.factories import CustomerFactory, StoreFactory

from .fixtures import build_scene
from .helpers import assert_error, db_state


def test_me(world, as_user):
    body = as_user(world.agent).get("/me").json()
    assert body["username"] == "alice" and body["display_name"] == "Alice"
    assert body["organization"]["name"] == "Shenzhen Gadgets"
    assert body["role"]["kind"] == "agent" and "reply" in body["role"]["permissions"]
    assert [t["name"] for t in body["teams"]] == ["US team"]


def test_patch_me_language(world, as_user):
    client = as_user(world.viewer)
    assert client.patch("/me", {"language": "zh-hans"}).json()["language"] == "zh-hans"
    world.viewer.refresh_from_db()
    assert world.viewer.language == "zh-hans"
    before = db_state()
    assert_error(client.patch("/me", {"language": "fr"}), 422, field="language")
    assert_error(client.patch("/me", {"language": "en", "is_staff": True}), 422, field="is_staff")
    assert db_state() == before


def test_stores_teams_users_are_of_the_own_organization(world, as_user):
    client = as_user(world.agent)
    stores = client.get("/stores").json()
    assert {s["name"] for s in stores} == {"Amazon US", "eBay DE"}
    assert "credentials" not in stores[0]
    teams = client.get("/teams").json()
    assert {t["name"]: t["store_ids"] for t in teams} == {
        "US team": [world.store_us.pk],
        "DE team": [world.store_de.pk],
    }
    users = client.get("/users").json()
    assert {u["username"] for u in users} == {"alice", "bob", "carol", "victor", "peter", "ada"}
    pickers = client.get("/users", {"can_process": "true"}).json()
    assert "victor" not in {u["username"] for u in pickers}
    assert_error(client.get("/users", {"can_process": "perhaps"}), 422, field="can_process")
    assert [s["name"] for s in as_user(world.foreign_user).get("/stores").json()] == ["Other Amazon"]


def test_saved_views_crud(world, as_user):
    client = as_user(world.agent)
    created = client.post("/views", {"name": "Open eBay", "filters": {"platform": "ebay", "status": ["open", "new"]}})
    assert created.status_code == 201, created.content
    view = created.json()
    assert view["filters"] == {"platform": "ebay", "status": "open,new"}
    assert [v["id"] for v in client.get("/views").json()] == [view["id"]]
    assert client.delete(f"/views/{view['id']}").status_code == 204
    assert client.get("/views").json() == []


def test_saved_views_bad_input_writes_nothing(world, as_user):
    client = as_user(world.agent)
    saved_view_create(user=world.agent, name="Taken", filters={})
    bobs = saved_view_create(user=world.teammate, name="Bob's", filters={})
    before = db_state()
    assert_error(client.post("/views", {"name": "x", "filters": {"stauts": "open"}}), 422, field="stauts")
    assert_error(client.post("/views", {"name": "x", "filters": {"status": "bogus"}}), 422, field="status")
    assert_error(client.post("/views", {"name": "x", "filters": {"created_after": "2026-02-31"}}), 422)
    assert_error(client.post("/views", {"name": "x", "sort": "subject"}), 422, field="sort")
    assert_error(client.post("/views", {"name": " "}), 422, field="name")
    assert_error(client.post("/views", {"name": "Taken"}), 409, field="name")
    assert_error(client.post("/views", {"name": "x", "filters": {"status": {"a": 1}}}), 422, field="filters.status")
    assert_error(client.delete(f"/views/{bobs.pk}"), 404, field="view_id")
    assert db_state() == before
    assert SavedView.objects.count() == 2


def test_notifications(world, as_user):
    ticket = world.ticket()
    mine = [
        Notification.objects.create(user=world.agent, kind="mention", text=f"n{i}", dedupe_key=f"k{i}", ticket=ticket)
        for i in range(3)
    ]
    Notification.objects.create(user=world.teammate, kind="mention", text="bob's", dedupe_key="b")
    client = as_user(world.agent)
    body = client.get("/notifications").json()
    assert body["unread_count"] == 3 and [n["id"] for n in body["items"]] == [n.pk for n in reversed(mine)]
    assert body["items"][0]["ticket_id"] == ticket.pk
    assert client.post("/notifications/read", {"ids": [mine[0].pk]}).json() == {"marked": 1}
    assert len(client.get("/notifications", {"unread_only": "true"}).json()["items"]) == 2
    assert client.post("/notifications/read").json() == {"marked": 2}
    assert client.get("/notifications").json()["unread_count"] == 0
    assert Notification.objects.get(user=world.teammate).read_at is None  # others' untouched
    before = db_state()
    assert_error(client.get("/notifications", {"limit": 101}), 422, field="limit")
    assert_error(client.post("/notifications/read", {"ids": ["x"]}), 422, field="ids[0]")
    assert_error(client.post("/notifications/read", {"ids": "all"}), 422, field="ids")
    assert db_state() == before


def test_customer_with_history(world, as_user):
    scene = build_scene(world)
    body = as_user(world.agent).get(f"/customers/{scene.ticket.customer_id}").json()
    assert body["customer"]["email"] == scene.ticket.customer.email
    assert sorted(t["id"] for t in body["tickets"]) == sorted([scene.ticket.pk, scene.other.pk])
    assert body["orders"][0]["total"] == {"amount": "59.98", "currency": "USD"}


def test_customer_out_of_scope_or_foreign_is_404(world, as_user):
    scene = build_scene(world)
    client = as_user(world.agent)
    assert_error(client.get(f"/customers/{scene.de_ticket.customer_id}"), 404, field="customer_id")
    assert_error(client.get(f"/customers/{scene.foreign_ticket.customer_id}"), 404, field="customer_id")
    lonely = CustomerFactory(organization=world.org)
    assert_error(client.get(f"/customers/{lonely.pk}"), 404, field="customer_id")
    assert as_user(world.admin).get(f"/customers/{lonely.pk}").status_code == 200
    StoreFactory(organization=world.org)  # unrelated rows change nothing
    assert as_user(world.outsider).get(f"/customers/{scene.de_ticket.customer_id}").status_code == 200
