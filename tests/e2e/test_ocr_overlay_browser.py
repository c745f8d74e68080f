"""The OCR overlay in a real browser (issue 14, item 3): once the image has loaded, the boxes of the
lines read are drawn over it, and a line read with low confidence is drawn differently."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from aftersales.inbox.models import Attachment, Message
from aftersales.language.tests.photos import photo, render
from aftersales.testing.personas import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_ocr_boxes_are_drawn_and_low_confidence_marked(live_server, page):
    from aftersales.language.attachments import attachment_extract_text

    world = build_world()
    ticket = world.ticket()
    message = Message.objects.create(
        ticket=ticket, store=ticket.store, direction="inbound", body="See the label", language="en", external_id="ocr-1"
    )
    data = photo(render(["Your order has been shipped", "Tracking number: RR123456735CN"], language="en"))
    attachment = Attachment.objects.create(
        message=message,
        file=ContentFile(data, name="label.jpg"),
        filename="label.jpg",
        content_type="image/jpeg",
        size=len(data),
        sha256="a" * 64,
    )
    row = attachment_extract_text(attachment=attachment, targets=[])
    assert row is not None and len(row.blocks) == 2
    row.blocks[1]["confidence"] = 0.5  # as if the tracking line had been hard to read
    row.save()

    page.goto(live_server.url + "/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "pw-correct-horse")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    boxes = page.locator("svg.ocr-boxes")
    expect(boxes).to_have_attribute("viewBox", "0 0 {} {}".format(*_size(data)))
    first = page.locator("svg.ocr-boxes polygon").first.bounding_box()
    assert first and first["width"] > 50 and first["height"] > 5  # drawn, not a 0x0 hidden SVG
    expect(page.locator("svg.ocr-boxes polygon.low")).to_have_count(1)
    expect(page.locator("[data-key-field='tracking_s10'][data-flagged]")).to_contain_text("RR123456735CN")


def _size(data: bytes) -> tuple[int, int]:
    import io

    from PIL import Image

    return Image.open(io.BytesIO(data)).size
