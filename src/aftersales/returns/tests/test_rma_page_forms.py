"""The RMA page's QC inspection and partial-refund forms (issue 10, sections 3 and 8): the same services
as the API (rma_inspect, rma_offer_partial, rma_accept_partial, rma_decline_partial) through the page's
one table-driven action view; QC photos sniffed and stored under random names, served only to who sees
the RMA."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from aftersales.inventory.models import InventoryMovement
from aftersales.returns.models import EvidenceKind, Rma, RmaStatus
from aftersales.returns.rma import rma_approve
from aftersales.returns.rma_actions import rma_mark_in_transit, rma_receive

from .rma_fixtures import delivered_order, return_hub, ticket_for
from .rma_list_fixtures import make_rma

pytestmark = pytest.mark.django_db


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 10, 10)).save(out, format="PNG")
    return out.getvalue()


def _received(world: Any, category: str = "home") -> Rma:
    order = delivered_order(world, lines=((category, "49.90", 1, "USD"),))
    ticket = ticket_for(world, order)
    return_hub(world)
    rma = make_rma(world, ticket=ticket)
    rma.order = order
    rma.save(update_fields=["order"])
    line = rma.lines.get()
    line.order_line = order.lines.get()
    line.sku = line.order_line.sku
    line.save(update_fields=["order_line", "sku"])
    rma_approve(user=world.approver, rma_id=rma.pk)
    rma_mark_in_transit(user=world.agent, rma_id=rma.pk)
    return rma_receive(user=world.agent, rma_id=rma.pk)


def test_the_qc_form_shows_the_checklist_and_records_the_inspection_with_photos(client, world) -> None:  # type: ignore[no-untyped-def]
    rma = _received(world, "phones")
    line = rma.lines.get()
    client.force_login(world.agent)
    page = client.get(reverse("web:rma", args=[rma.pk])).content.decode()
    assert 'data-action="inspect"' in page and f'name="line-{line.pk}-check-activation_lock_off"' in page
    assert f'name="line-{line.pk}-imei"' in page
    form = {
        "line_ids": [str(line.pk)],
        f"line-{line.pk}-items": ["imei_matches", "activation_lock_off", "screen_ok", "body_ok"],
        f"line-{line.pk}-check-imei_matches": "1",
        f"line-{line.pk}-check-activation_lock_off": "1",
        f"line-{line.pk}-check-body_ok": "1",  # the screen is not ticked: the line fails
        f"line-{line.pk}-disposition": "refurbish",
        f"line-{line.pk}-note": "cracked corner",
        "photos": [SimpleUploadedFile("anything.txt", _png(), content_type="text/plain")],
    }
    response = client.post(reverse("web:rma_inspect", args=[rma.pk]), form)
    assert response.status_code == 302
    rma.refresh_from_db()
    line.refresh_from_db()
    assert (rma.status, rma.inspection_result, line.inspection_result, line.disposition) == (
        RmaStatus.INSPECTED,
        "failed",
        "failed",
        "refurbish",
    )
    assert {c["code"]: c["passed"] for c in line.qc_checklist}["screen_ok"] is False
    assert InventoryMovement.objects.filter(reference=f"rma:{rma.pk}").exists()  # stock moved by the disposition
    photo = rma.evidence.get(kind=EvidenceKind.QC_PHOTO)
    assert photo.file_name.endswith(".png") and "anything" not in photo.file_name  # sniffed, random name
    url = reverse("web:rma_evidence_file", args=[rma.pk, photo.pk])
    assert url in client.get(reverse("web:rma", args=[rma.pk])).content.decode()
    served = client.get(url)
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert b"".join(served.streaming_content) == _png()
    for user in (world.foreign_user,):
        client.force_login(user)
        assert client.get(url).status_code == 404


def test_a_bad_qc_form_names_the_field_and_writes_nothing(client, world) -> None:  # type: ignore[no-untyped-def]
    rma = _received(world)
    line = rma.lines.get()
    client.force_login(world.agent)
    response = client.post(
        reverse("web:rma_inspect", args=[rma.pk]),
        {
            "line_ids": [str(line.pk)],
            f"line-{line.pk}-items": ["complete_undamaged"],
            f"line-{line.pk}-disposition": "restock",  # a failed unit is never restocked
            "photos": [SimpleUploadedFile("x.png", b"MZ\x90\x00 not an image", content_type="image/png")],
        },
    )
    assert response.status_code == 422
    assert "disposition" in response.content.decode()
    rma.refresh_from_db()
    assert rma.status == RmaStatus.RECEIVED and not rma.evidence.exists()
    assert not InventoryMovement.objects.exists()


def test_partial_refund_offer_accept_and_decline_from_the_page(client, world) -> None:  # type: ignore[no-untyped-def]
    order = delivered_order(world, lines=(("home", "40.00", 1, "USD"),))
    rma = make_rma(world, ticket=ticket_for(world, order))
    client.force_login(world.approver)
    page = client.get(reverse("web:rma", args=[rma.pk])).content.decode()
    assert 'data-action="offer_partial"' in page
    bad = client.post(reverse("web:rma_offer_partial", args=[rma.pk]), {"amount": "12.345"})
    assert bad.status_code == 422 and "amount" in bad.content.decode()
    done = client.post(reverse("web:rma_offer_partial", args=[rma.pk]), {"percent": "25", "message": "Keep it?"})
    assert done.status_code == 302
    rma.refresh_from_db()
    assert rma.status == RmaStatus.PARTIAL_OFFERED and Decimal(rma.decision["offer"]["amount"]) == Decimal("12.25")
    client.force_login(world.agent)
    page = client.get(reverse("web:rma", args=[rma.pk])).content.decode()
    assert 'data-action="accept_partial"' in page and 'data-action="decline_partial"' in page
    assert client.post(reverse("web:rma_decline_partial", args=[rma.pk]), {"note": "wants a return"}).status_code == 302
    rma.refresh_from_db()
    assert rma.status == RmaStatus.UNDER_REVIEW
    client.force_login(world.approver)
    client.post(reverse("web:rma_offer_partial", args=[rma.pk]), {"amount": "10.00"})
    client.force_login(world.agent)
    assert client.post(reverse("web:rma_accept_partial", args=[rma.pk])).status_code == 302
    rma.refresh_from_db()
    assert (rma.status, rma.outcome) == (RmaStatus.RESOLVED, "kept_partial_refund")
    assert rma.refunds.get().amount == Decimal("10.00")
    # an agent may not offer (APPROVE)
    other = make_rma(world, ticket=ticket_for(world, delivered_order(world)))
    assert client.post(reverse("web:rma_offer_partial", args=[other.pk]), {"amount": "1.00"}).status_code == 403


def test_qc_photos_through_the_api_multipart_inspection(world) -> None:  # type: ignore[no-untyped-def]
    import json

    from aftersales.api.tests.helpers import ApiClient, assert_error

    rma = _received(world)
    line = rma.lines.get()
    client = ApiClient(user=world.agent)
    lines = json.dumps([{"line_id": line.pk, "checklist": {"complete_undamaged": True}}])
    bad = SimpleUploadedFile("p.png", b"<html><script>x</script></html>", content_type="image/png")
    assert_error(client.upload(f"/rmas/{rma.pk}/inspect", {"lines": lines, "photos": bad}), 422, field="photos[0]")
    assert_error(client.upload(f"/rmas/{rma.pk}/inspect", {"lines": "{oops", "photos": bad}), 422, field="lines")
    rma.refresh_from_db()
    assert rma.status == RmaStatus.RECEIVED and not rma.evidence.exists()
    photos = [SimpleUploadedFile(f"qc{i}.png", _png(), content_type="image/png") for i in range(2)]
    response = client.upload(f"/rmas/{rma.pk}/inspect", {"lines": lines, "photos": photos})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == "inspected" and data["inspection_result"] == "passed"
    qc = [e for e in data["evidence"] if e["kind"] == "qc_photo"]
    assert len(qc) == 2 and all(e["has_file"] for e in qc)
    served = client.get(f"/rmas/{rma.pk}/evidence/{qc[0]['id']}/file")
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert_error(ApiClient(user=world.foreign_user).get(f"/rmas/{rma.pk}/evidence/{qc[0]['id']}/file"), 404)
    other = make_rma(world)
    assert_error(client.get(f"/rmas/{other.pk}/evidence/{qc[0]['id']}/file"), 404, field="evidence_id")
