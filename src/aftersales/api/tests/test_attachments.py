"""Attachments through the API (finding 5): files of the documented size fit in a request, and the
content route answers like the web view (same selector, same headers, same 404s)."""

from __future__ import annotations

import base64

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import override_settings

from aftersales.inbox.models import Attachment, Message

from .fixtures import PNG, PNG_B64, build_scene
from .helpers import assert_error, db_state

TEN_MIB_TEXT = (b"Order 123: the left earbud crackles.\n" * 300_000)[: 10 * 1024 * 1024]


def test_a_10_mib_attachment_fits_in_a_reply(world, as_user):
    scene = build_scene(world)
    body = {
        "body": "Here is the return label",
        "attachments": [{"filename": "label.txt", "content_base64": base64.b64encode(TEN_MIB_TEXT).decode()}],
    }
    response = as_user(world.agent).post(f"/tickets/{scene.ticket.pk}/replies", body)
    assert response.status_code == 201, response.content[:300]
    stored = Attachment.objects.get(message_id=response.json()["id"])
    assert stored.size == len(TEN_MIB_TEXT) and stored.content_type == "text/plain"
    assert response.json()["attachments"][0]["size"] == len(TEN_MIB_TEXT)


def test_a_10_mib_attachment_fits_in_an_inbound_message(world, as_user):
    body = {
        "store_id": world.store_us.pk,
        "external_id": "big-1",
        "body": "see the file",
        "customer_external_id": "buyer-1",
        "attachments": [{"filename": "log.txt", "content_base64": base64.b64encode(TEN_MIB_TEXT).decode()}],
    }
    response = as_user(world.admin).post("/inbound/messages", body)
    assert response.status_code == 201, response.content[:300]


@override_settings(ATTACHMENT_MAX_TOTAL_BYTES=100)
def test_attachments_over_the_message_total_are_refused_naming_the_list(world, as_user):
    scene = build_scene(world)
    before = db_state()
    files = [{"filename": f"p{i}.png", "content_base64": PNG_B64} for i in range(3)]
    response = as_user(world.agent).post(f"/tickets/{scene.ticket.pk}/replies", {"body": "hi", "attachments": files})
    assert_error(response, 422, field="attachments")
    assert db_state() == before


def test_html_and_polyglots_are_refused_with_the_attachment_named(world, as_user):
    scene = build_scene(world)
    url = f"/tickets/{scene.ticket.pk}/replies"
    for content in (b"<html><script>alert(1)</script></html>", PNG + b"<script>alert(1)</script>"):
        files = [{"filename": "x.png", "content_base64": base64.b64encode(content).decode()}]
        assert_error(as_user(world.agent).post(url, {"body": "hi", "attachments": files}), 422, field="attachments[0]")
    files = [{"filename": "..", "content_base64": PNG_B64}]
    assert_error(
        as_user(world.agent).post(url, {"body": "hi", "attachments": files}), 422, field="attachments[0].filename"
    )
    assert not Attachment.objects.exists()


def _attached(scene) -> Attachment:  # type: ignore[no-untyped-def]
    reply = Message.objects.get(pk=scene.inbound.pk)
    attachment = Attachment(message=reply, filename="photo.png", content_type="image/png", size=len(PNG), sha256="0")
    attachment.file.save("x.png", ContentFile(PNG))
    return attachment


def test_content_route_serves_the_file_safely_to_viewers_of_the_ticket(world, as_user):
    scene = build_scene(world)
    attachment = _attached(scene)
    url = f"/attachments/{attachment.pk}/content"
    response = as_user(world.viewer).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith('inline; filename="photo.png"')
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox;")
    for user in (world.outsider, world.foreign_user):
        assert_error(as_user(user).get(url), 404, field="attachment_id")
    default_storage.delete(str(attachment.file.name))  # the row outlived its file: 404, not 500
    assert_error(as_user(world.agent).get(url), 404)
