"""Buyers' files and buyers' HTML on the ticket page (findings 5 and 6): files only through a view
that checks the ticket, never from /media/; remote images not loaded until an agent asks."""

from __future__ import annotations

import importlib
import io

from django.test import override_settings
from django.urls import reverse
from PIL import Image

from aftersales.inbox.models import Attachment
from aftersales.inbox.services import AttachmentInput, InboundMessage, message_ingest

from .conftest import htmx_headers


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (3, 2), (0, 128, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


TRACKER = "https://tracker.example/pixel.gif?buyer=42"
EMAIL_HTML = (
    '<p>My parcel is late.</p><img src="https://tracker.example/pixel.gif?buyer=42" width="1" height="1">'
    '<p><img src="//cdn.shop.example/logo.png" alt="Shop logo"> <a href="https://shop.example/">shop</a></p>'
)


def ingest(world, **kw):  # type: ignore[no-untyped-def]
    defaults = {
        "store": world.store_us,
        "external_id": "mail-1",
        "body": "My parcel is late.",
        "customer_external_id": "B1",
        "attachments": [],
    }
    return message_ingest(inbound=InboundMessage(**{**defaults, **kw}))


def test_attachments_are_served_by_a_view_that_checks_the_ticket(world, login):
    photo = png()
    result = ingest(
        world,
        attachments=[
            AttachmentInput("photo.png", photo, "image/png"),
            AttachmentInput("notes.txt", b"size M, colour blue\n", "text/plain"),
            AttachmentInput('发票 "March".txt', "发票\n".encode(), "text/plain"),
        ],
    )
    image, text, invoice = result.message.attachments.order_by("pk")
    agent = login(world.agent)

    response = agent.get(reverse("web:attachment", args=[image.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == photo
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith('inline; filename="photo.png"')
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox;")
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert response["Cache-Control"].startswith("private")

    response = agent.get(reverse("web:attachment", args=[text.pk]))
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="notes.txt"')

    response = agent.get(reverse("web:attachment", args=[invoice.pk]))
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="_March_.txt"'), disposition
    assert "filename*=UTF-8''%E5%8F%91%E7%A5%A8%20%22March%22.txt" in disposition

    for user in (world.outsider, world.foreign_user):  # out of scope, another seller: as if it did not exist
        assert login(user).get(reverse("web:attachment", args=[image.pk])).status_code == 404


def test_the_ticket_page_links_attachments_to_the_view_not_to_media(world, login):
    result = ingest(world, attachments=[AttachmentInput("photo.png", png(), "image/png")])
    attachment = result.message.attachments.get()
    page = login(world.agent).get(reverse("web:ticket", args=[result.ticket.pk])).content.decode()
    assert f'href="{reverse("web:attachment", args=[attachment.pk])}"' in page
    assert "/media/" not in page and attachment.file.name not in page


def test_stored_files_have_no_public_url_even_in_debug(world, client, settings):
    result = ingest(world, attachments=[AttachmentInput("photo.png", png(), "image/png")])
    name = result.message.attachments.get().file.name
    import aftersales.urls

    try:
        with override_settings(DEBUG=True):
            importlib.reload(aftersales.urls)
            patterns = [str(getattr(p, "pattern", "")) for p in aftersales.urls.urlpatterns]
        assert not any("media" in p for p in patterns), patterns
    finally:
        importlib.reload(aftersales.urls)
    client.force_login(world.agent)
    assert client.get(settings.MEDIA_URL + name).status_code == 404


def test_remote_images_are_not_in_the_ticket_page(world, login):
    result = ingest(world, body_html=EMAIL_HTML)
    stored = result.message.body_html
    assert " src=" not in stored and 'data-remote-src="https://tracker.example/pixel.gif?buyer=42"' in stored
    page = login(world.agent).get(reverse("web:ticket", args=[result.ticket.pk])).content.decode()
    assert "tracker.example" not in page and "cdn.shop.example" not in page
    assert "My parcel is late." in page and 'rel="noopener noreferrer nofollow"' in page
    assert 'data-remote-images="2"' in page
    assert reverse("web:message_images", args=[result.ticket.pk, result.message.pk]) in page


def test_messages_stored_before_the_fix_do_not_load_remote_images_either(world, login):
    result = ingest(world, body_html="<p>Hi</p>")
    type(result.message).objects.filter(pk=result.message.pk).update(
        body_html=f'<p>Hi</p><img src="{TRACKER.replace("&", "&amp;")}">'
    )
    page = login(world.agent).get(reverse("web:ticket", args=[result.ticket.pk])).content.decode()
    assert "tracker.example" not in page and 'data-remote-images="1"' in page


def test_load_images_shows_them_in_a_sandboxed_frame_to_viewers_of_the_ticket(world, login):
    result = ingest(world, body_html=EMAIL_HTML)
    url = reverse("web:message_images", args=[result.ticket.pk, result.message.pk])
    agent = login(world.agent)

    fragment = agent.get(url, **htmx_headers()).content.decode()
    assert "<iframe" in fragment and f'src="{url}"' in fragment and 'sandbox="' in fragment
    assert "allow-scripts" not in fragment and "allow-same-origin" not in fragment

    response = agent.get(url)
    document = response.content.decode()
    assert 'src="https://tracker.example/pixel.gif?buyer=42"' in document
    assert 'src="https://cdn.shop.example/logo.png"' in document
    policy = response["Content-Security-Policy"]
    assert policy.startswith("sandbox ") and "allow-scripts" not in policy and "allow-same-origin" not in policy
    assert "img-src https: http: data:" in policy and "default-src 'none'" in policy
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Frame-Options"] == "SAMEORIGIN"

    assert login(world.viewer).get(url).status_code == 200  # looking is all it does
    for user in (world.outsider, world.foreign_user):
        assert login(user).get(url).status_code == 404
    other = world.ticket()
    assert agent.get(reverse("web:message_images", args=[other.pk, result.message.pk])).status_code == 404


def test_an_attachment_of_a_deleted_file_row_is_not_found(world, login):
    result = ingest(world, attachments=[AttachmentInput("photo.png", png(), "image/png")])
    attachment = result.message.attachments.get()
    Attachment.objects.filter(pk=attachment.pk).delete()
    assert login(world.agent).get(reverse("web:attachment", args=[attachment.pk])).status_code == 404
