"""The marketplace's own return label on an RMA (returns.rma_labels): fetched from eBay's Post-Order
get_shipping_label (the fake serves the PDF; the exact request is asserted), stored through the
upload checks, the approved RMA moves to label_issued with source `platform`; none yet or not a
label file: a precise 4xx, nothing written. API and RMA page button."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.urls import reverse

from aftersales.api.tests.helpers import ApiClient
from aftersales.channels.connectors.ebay.client import forget_app_tokens
from aftersales.channels.connectors.ebay.fake import EbayFake
from aftersales.channels.connectors.ebay.webhooks import clear_key_cache
from aftersales.returns.models import LabelSource, Rma, RmaStatus
from aftersales.returns.rma import rma_approve

from .test_rma_writeback import ebay_store, marketplace_rma

pytestmark = pytest.mark.django_db


def _label_pdf() -> bytes:
    """A real one-page PDF (the upload checks parse it)."""
    import io

    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, "eBay return label JJD0099887766")
    page.save()
    return out.getvalue()


PDF = _label_pdf()
RETURN_ID = "5000123456"


@pytest.fixture
def fake() -> Iterator[EbayFake]:
    clear_key_cache()
    forget_app_tokens()
    with EbayFake().running() as server:
        assert isinstance(server, EbayFake)
        yield server


@pytest.fixture
def rma(world, fake) -> Rma:  # type: ignore[no-untyped-def]
    store = ebay_store(world, fake)
    world.team_us.stores.add(store)
    fake.add_return({"returnId": RETURN_ID, "state": "RETURN_REQUESTED"})
    made = marketplace_rma(world, store, RETURN_ID)
    rma_approve(user=world.admin, rma_id=made.pk)
    made.refresh_from_db()
    assert made.status == RmaStatus.APPROVED
    return made


def test_the_api_fetches_ebays_label_once_it_exists(world, fake, rma) -> None:  # type: ignore[no-untyped-def]
    api = ApiClient(user=world.agent)
    early = api.request("POST", f"/rmas/{rma.pk}/fetch-label")
    assert early.status_code == 409 and early.json()["error"]["field"] == "rma_id"
    assert Rma.objects.get(pk=rma.pk).status == RmaStatus.APPROVED and not Rma.objects.get(pk=rma.pk).label_file
    fake.issue_return_label(RETURN_ID, PDF, carrier="DHL", tracking_number="JJD0099887766")
    done = api.request("POST", f"/rmas/{rma.pk}/fetch-label")
    assert done.status_code == 200 and done.json()["status"] == "label_issued"
    request = fake.requests_to(f"/post-order/v2/return/{RETURN_ID}/get_shipping_label", "GET")[-1]
    assert request.path == f"/post-order/v2/return/{RETURN_ID}/get_shipping_label"
    assert request.headers["authorization"].startswith("IAF ")
    stored = Rma.objects.get(pk=rma.pk)
    assert stored.label_source == LabelSource.PLATFORM and stored.label_file.endswith(".pdf")
    assert (stored.label_carrier, stored.label_tracking_number) == ("DHL", "JJD0099887766")
    assert stored.events.filter(type="status_changed", payload__new="label_issued").exists()
    again = api.request("POST", f"/rmas/{rma.pk}/fetch-label")  # label issued: the file is refreshed
    assert again.status_code == 200 and stored.events.filter(type="platform_label_fetched").count() == 1
    assert ApiClient(user=world.viewer).request("POST", f"/rmas/{rma.pk}/fetch-label").status_code == 403


def test_a_label_that_is_not_a_pdf_or_image_is_refused(world, fake, rma) -> None:  # type: ignore[no-untyped-def]
    fake.issue_return_label(RETURN_ID, b"<html><script>alert(1)</script></html>")
    refused = ApiClient(user=world.agent).request("POST", f"/rmas/{rma.pk}/fetch-label")
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "file"
    stored = Rma.objects.get(pk=rma.pk)
    assert stored.status == RmaStatus.APPROVED and not stored.label_file


def test_the_rma_page_offers_the_button(world, fake, rma, client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world.agent)
    page = client.get(reverse("web:rma", args=[rma.pk])).content.decode()
    assert 'data-action="fetch-label"' in page
    fake.issue_return_label(RETURN_ID, PDF)
    assert client.post(reverse("web:rma_label_fetch", args=[rma.pk])).status_code == 302
    assert Rma.objects.get(pk=rma.pk).status == RmaStatus.LABEL_ISSUED


def test_the_sync_fetches_the_label_once_ebay_says_it_issued_one(
    world, fake, rma, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from aftersales.core import events
    from aftersales.core.actors import Actor
    from aftersales.returns.events import ReturnRequestStatusChanged

    fake.issue_return_label(RETURN_ID, PDF, carrier="DHL", tracking_number="JJD0099887766")

    def moved(new_status: str) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            events.publish(
                ReturnRequestStatusChanged(
                    return_request_id=rma.return_request_id,
                    organization_id=world.org.pk,
                    store_id=rma.store_id,
                    old_status="RETURN_REQUESTED",
                    new_status=new_status,
                    ticket_id=None,
                    actor=Actor.connector(store_id=rma.store_id, platform="ebay"),
                )
            )

    moved("WAITING_FOR_RMA")  # not a status with a label: nothing asked
    assert not fake.requests_to(f"/post-order/v2/return/{RETURN_ID}/get_shipping_label")
    moved("READY_FOR_SHIPPING")
    stored = Rma.objects.get(pk=rma.pk)
    assert stored.status == RmaStatus.LABEL_ISSUED and stored.label_source == LabelSource.PLATFORM
    issued = stored.events.get(type="status_changed", payload__new="label_issued")
    assert (issued.actor_kind, issued.actor_ref) == ("system", "platform-labels")
    moved("READY_FOR_SHIPPING")  # seen again: the RMA has its label, nothing fetched twice
    assert len(fake.requests_to(f"/post-order/v2/return/{RETURN_ID}/get_shipping_label")) == 1
