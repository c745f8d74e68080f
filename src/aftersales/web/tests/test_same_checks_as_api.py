"""The agent UI refuses what the API refuses, through the same service code: control characters in
notes and tags, ids out of range when marking notifications read (schemathesis finding 7)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from aftersales.api.tests.helpers import ApiClient, assert_error, db_state
from aftersales.inbox.models import Message, MessageDirection, Tag
from aftersales.notifications.models import Notification

from .conftest import htmx_headers

BAD_NOTES = ["before\x00after", "bell\x07", "escape \x1b[2J"]
BAD_TAGS = ["nul\x00tag", "bell\x07"]
BAD_IDS = ["99999999999999999999999", str(2**63), "0", "-3", "²", "1e3"]


def url(name, ticket):  # type: ignore[no-untyped-def]
    return reverse(f"web:{name}", args=[ticket.pk])


@pytest.mark.parametrize("body", BAD_NOTES)
def test_note_with_control_characters_is_refused_by_the_ui_and_the_api(world, login, body):
    ticket = world.ticket()
    before = db_state()
    web = login(world.agent).post(url("ticket_note", ticket), {"body": body}, **htmx_headers())
    assert web.status_code == 422
    assert "control characters" in web.content.decode() or "NUL" in web.content.decode()
    assert_error(ApiClient(user=world.agent).post(f"/tickets/{ticket.pk}/notes", {"body": body}), 422, field="body")
    assert db_state() == before
    assert not Message.objects.filter(direction=MessageDirection.NOTE).exists()


def test_a_note_keeps_its_line_breaks_and_tabs(world, login):
    ticket = world.ticket()
    response = login(world.agent).post(url("ticket_note", ticket), {"body": "line 1\r\n\tline 2"}, **htmx_headers())
    assert response.status_code == 200
    assert Message.objects.get(direction=MessageDirection.NOTE).body == "line 1\r\n\tline 2"


@pytest.mark.parametrize("tag", BAD_TAGS)
def test_tag_with_control_characters_is_refused_by_the_ui_and_the_api(world, login, tag):
    ticket = world.ticket()
    before = db_state()
    web = login(world.agent).post(url("ticket_tags", ticket), {"add": tag}, **htmx_headers())
    assert web.status_code == 422
    api = ApiClient(user=world.agent)
    error = assert_error(api.post(f"/tickets/{ticket.pk}/tags", {"add": ["fine", tag]}), 422)
    assert error["field"] in {"add", "add[1]"}
    assert db_state() == before
    assert not Tag.objects.exists()
    # removing such a name is refused as well (PostgreSQL cannot even compare it)
    assert login(world.agent).post(url("ticket_tags", ticket), {"remove": tag}).status_code == 422


def test_too_many_tags_at_once(world, login):
    ticket = world.ticket()
    response = login(world.agent).post(url("ticket_tags", ticket), {"add": ",".join(f"t{i}" for i in range(51))})
    assert response.status_code == 422
    assert not Tag.objects.exists()


@pytest.mark.parametrize("raw", BAD_IDS)
def test_mark_read_with_ids_out_of_range_is_a_422_in_the_ui(world, login, raw):
    Notification.objects.create(user=world.agent, kind="mention", text="x", dedupe_key="k")
    response = login(world.agent).post(reverse("web:notifications_read"), {"ids": [raw]}, **htmx_headers())
    assert response.status_code == 422
    assert Notification.objects.filter(read_at__isnull=True).count() == 1


@pytest.mark.parametrize("raw", [99999999999999999999999, 2**63, 0, -3])
def test_mark_read_with_ids_out_of_range_is_a_422_in_the_api(world, raw):
    response = ApiClient(user=world.agent).post("/notifications/read", {"ids": [raw]})
    assert_error(response, 422, field="ids[0]")


def test_mark_read_with_good_ids_from_the_ui(world, login):
    a = Notification.objects.create(user=world.agent, kind="mention", text="x", dedupe_key="a")
    Notification.objects.create(user=world.agent, kind="mention", text="y", dedupe_key="b")
    response = login(world.agent).post(reverse("web:notifications_read"), {"ids": [f" {a.pk} "]})
    assert response.status_code == 302
    assert list(Notification.objects.filter(read_at__isnull=False).values_list("pk", flat=True)) == [a.pk]
