"""The RMA API: POST /rmas (bad input: 422 naming the field, nothing written), GET /rmas/{id} (lines,
evidence, timeline, refunds, sync state, actions), actions, uploads, the slip PDF's text in the buyer's
language (pypdfium2), organization scoping."""

from __future__ import annotations

import io
import itertools

import pypdfium2
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from aftersales.api.tests.helpers import ApiClient, assert_error
from aftersales.returns.models import Rma, RmaEvent, RmaEvidence
from aftersales.returns.rma import rma_approve, rma_create

from .rma_fixtures import delivered_order, first_line, return_hub, ticket_for

pytestmark = pytest.mark.django_db


def body(order, **changes):  # type: ignore[no-untyped-def]
    line = {"order_line_id": first_line(order).pk, "quantity": 1}
    return {"order_id": order.pk, "lines": [line], "reason": "changed_mind", **changes}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lines": [{"order_line_id": "x", "quantity": 1}]}, "lines.0.order_line_id"),
        ({"lines": [{"quantity": 1}]}, "lines.0.order_line_id"),
        ({"lines": []}, "lines"),
        ({"reason": "bored"}, "reason"),
        ({"order_id": 999999}, "order_id"),
        ({"unknown": 1}, "unknown"),
        ({"evidence": [{"kind": "imei", "value": "123"}]}, "evidence[0].value"),
    ],
)
def test_create_refuses_bad_input_naming_the_field(world, change, field) -> None:
    order = delivered_order(world)
    response = ApiClient(user=world.agent).post("/rmas", body(order, **change))
    error = assert_error(response, 422)
    assert error["field"].replace("[", ".").replace("]", "") == field.replace("[", ".").replace("]", "")
    assert not Rma.objects.exists() and not RmaEvent.objects.exists()


def test_create_quantity_above_purchased_and_another_orders_line(world) -> None:
    order = delivered_order(world)
    other = delivered_order(world)
    client = ApiClient(user=world.agent)
    too_many = body(order, lines=[{"order_line_id": first_line(order).pk, "quantity": 3}])
    assert_error(client.post("/rmas", too_many), 422, field="lines[0].quantity")
    wrong = body(order, lines=[{"order_line_id": first_line(other).pk, "quantity": 1}])
    assert_error(client.post("/rmas", wrong), 422, field="lines[0].order_line_id")
    foreign = delivered_order(world, store=world.foreign_store)
    assert_error(client.post("/rmas", body(foreign)), 422, field="order_id")
    assert not Rma.objects.exists()


def test_create_and_read(world) -> None:
    return_hub(world)
    order = delivered_order(world)
    ticket = ticket_for(world, order)
    client = ApiClient(user=world.agent)
    response = client.post("/rmas", body(order, comment="Too big"))
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["ticket_id"] == ticket.pk and data["status"] == "requested"
    assert data["lines"][0]["quantity"] == 1 and data["decision"]["resolution"] == "return_and_refund"
    assert [e["type"] for e in data["events"]] == ["created", "checked"]
    assert data["events"][0]["actor_kind"] == "user" and data["events"][0]["actor_name"]
    assert "approve" not in data["actions"] and "request-evidence" in data["actions"]
    assert data["platform_sync"] == "not_needed"
    approver = ApiClient(user=world.approver)
    assert "approve" in approver.get(f"/rmas/{data['id']}").json()["actions"]
    approved = approver.post(f"/rmas/{data['id']}/approve", {"resolution": "exchange"}).json()
    assert approved["status"] == "approved" and approved["return_warehouse"]["code"] == "US-RET"
    assert_error(approver.post(f"/rmas/{data['id']}/approve", {}), 409)
    assert_error(approver.post(f"/rmas/{data['id']}/reject", {"reason": "x"}), 409)
    assert_error(ApiClient(user=world.foreign_user).get(f"/rmas/{data['id']}"), 404)
    assert_error(ApiClient(user=world.outsider).get(f"/rmas/{data['id']}"), 404)


def test_actions_refuse_bad_input(world) -> None:
    order = delivered_order(world)
    rma = rma_create(user=world.agent, order_id=order.pk, lines=body(order)["lines"], reason="changed_mind")
    approver = ApiClient(user=world.approver)
    assert_error(approver.post(f"/rmas/{rma.pk}/approve", {"resolution": "teleport"}), 422, field="resolution")
    assert_error(approver.post(f"/rmas/{rma.pk}/reject", {"reason": ""}), 422, field="reason")
    assert_error(approver.post(f"/rmas/{rma.pk}/request-evidence", {"kinds": ["selfie"]}), 422, field="kinds[0]")
    assert_error(approver.post(f"/rmas/{rma.pk}/offer-partial", {"amount": "1.234"}), 422, field="amount")
    assert_error(approver.post(f"/rmas/{rma.pk}/offer-partial", {"amount": "-1"}), 422, field="amount")
    assert_error(approver.post(f"/rmas/{rma.pk}/resolve", {"outcome": "vanished"}), 422, field="outcome")
    assert_error(approver.post(f"/rmas/{rma.pk}/add-evidence", {"kind": "imei", "value": "1"}), 422, field="value")
    assert_error(approver.post(f"/rmas/{rma.pk}/issue-label", {"source": "pigeon"}), 422, field="source")
    assert Rma.objects.get(pk=rma.pk).status == "requested"
    assert not RmaEvidence.objects.exists()
    assert list(Rma.objects.get(pk=rma.pk).events.values_list("type", flat=True)) == ["created", "checked"]


def test_photo_upload_and_uploaded_label(world) -> None:
    return_hub(world)
    order = delivered_order(world)
    rma = rma_create(user=world.agent, order_id=order.pk, lines=body(order)["lines"], reason="changed_mind")
    client = ApiClient(user=world.agent)
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "blue").save(buffer, "JPEG")
    photo = SimpleUploadedFile("photo.exe", buffer.getvalue(), content_type="application/octet-stream")
    response = client.upload(f"/rmas/{rma.pk}/add-evidence", {"kind": "photo", "file": photo})
    assert response.status_code == 201, response.content
    evidence = RmaEvidence.objects.get()
    assert evidence.file_name.endswith(".jpg") and "photo" not in evidence.file_name
    bad = SimpleUploadedFile("x.jpg", b"<svg onload=alert(1)>", content_type="image/jpeg")
    assert_error(client.upload(f"/rmas/{rma.pk}/add-evidence", {"kind": "photo", "file": bad}), 422, field="file")
    rma_approve(user=world.approver, rma_id=rma.pk)
    pdf = pypdfium2.PdfDocument.new()
    pdf.new_page(200, 200)
    out = io.BytesIO()
    pdf.save(out)
    label = SimpleUploadedFile("label.pdf", out.getvalue(), content_type="application/pdf")
    response = client.upload(f"/rmas/{rma.pk}/issue-label", {"source": "uploaded", "file": label})
    assert response.status_code == 200, response.content
    assert response.json()["label_has_file"] is True and response.json()["status"] == "label_issued"


def slip_text(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    document = pypdfium2.PdfDocument(response.content)
    return "".join(page.get_textpage().get_text_range() for page in document)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Put this slip in the parcel"),
        ("zh-hans", "退货"),
        ("de", "Rücksende"),
        ("es", "devolución"),
        ("fr", "retour"),
    ],
)
def test_the_slip_in_the_buyers_language(world, language, expected) -> None:
    return_hub(world)
    order = delivered_order(world)
    ticket_for(world, order, language=language.split("-")[0])
    rma = rma_create(user=world.agent, order_id=order.pk, lines=body(order)["lines"], reason="changed_mind")
    rma_approve(user=world.approver, rma_id=rma.pk)
    text = slip_text(ApiClient(user=world.viewer).get(f"/rmas/{rma.pk}/slip.pdf"))
    assert rma.number in text and first_line(order).sku in text and "1 Return Way" in text
    assert expected in text, text
    assert_error(ApiClient(user=world.foreign_user).get(f"/rmas/{rma.pk}/slip.pdf"), 404)


def test_the_slip_has_a_code128_barcode_of_the_number(world) -> None:
    order = delivered_order(world)
    rma = rma_create(user=world.agent, order_id=order.pk, lines=body(order)["lines"], reason="changed_mind")
    response = ApiClient(user=world.agent).get(f"/rmas/{rma.pk}/slip.pdf")
    document = pypdfium2.PdfDocument(response.content)
    page = document[0]
    bitmap = page.render(scale=2).to_pil().convert("L")
    # a barcode is a row of many dark/light transitions under the number
    width, height = bitmap.size
    best = 0
    for y in range(0, height // 3):
        row = [bitmap.getpixel((x, y)) < 128 for x in range(width)]
        best = max(best, sum(1 for a, b in itertools.pairwise(row) if a != b))
    assert best > 40, best
