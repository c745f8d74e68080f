"""Shopify's return label on an RMA (Capability.FETCH_RETURN_LABEL through returns.rma_labels), over
real HTTP against the Shopify fake, which executes every request against the published Admin
schema (2025-01): the return's reverseFulfillmentOrders -> reverseDeliveries -> deliverable
(ReverseDeliveryShippingDeliverable) label { publicFileUrl } and tracking; the PDF downloaded from
the label's URL, sniffed through the upload checks. By the API / the RMA page and by the returns
sync when it sees the label appear (fetched once)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from aftersales.api.tests.helpers import ApiClient
from aftersales.catalog.models import Shipment
from aftersales.channels.base import ConnectorError, Stream
from aftersales.channels.connectors.shopify import labels, operations
from aftersales.channels.connectors.shopify.fake import ShopifyFake
from aftersales.channels.connectors.shopify.schema import validation_errors
from aftersales.channels.sync import sync_stream
from aftersales.core.actors import Actor
from aftersales.returns.models import LabelSource, ReturnRequest, Rma, RmaStatus
from aftersales.returns.rma import rma_approve, rma_create_from_return_request
from aftersales.testing.shopify import shopify_store_for

from .test_rma_label_fetch import PDF

pytestmark = pytest.mark.django_db

GRAPHQL = "/admin/api/2026-04/graphql.json"
SINCE = datetime.now(UTC) - timedelta(days=2)
LABEL_FILES = r"/cdn/reverse-delivery-labels/[0-9a-f]{32}\.pdf"


def _sync_returns(store, recorded_waits, capture) -> None:  # type: ignore[no-untyped-def]
    with capture(execute=True):
        sync_stream(store_id=store.pk, stream=Stream.RETURNS, since=SINCE, sleep=recorded_waits.append)


@pytest.fixture
def shop(world, shopify_fake, recorded_waits, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """A Shopify store with an order and its return request, pulled, its RMA approved (written back:
    the fake's return is OPEN with a reverse fulfillment order and no delivery yet)."""
    store = shopify_store_for(shopify_fake, organization=world.org)
    world.team_us.stores.add(store)
    order = shopify_fake.add_order(
        lines=[("MUG-BLUE", 1, "12.50")], email="lena@example.de", customer_name="Lena Fischer"
    )
    with django_capture_on_commit_callbacks(execute=True):
        sync_stream(store_id=store.pk, stream=Stream.ORDERS, since=SINCE, sleep=recorded_waits.append)
    ret = shopify_fake.add_return(order["legacyResourceId"])
    _sync_returns(store, recorded_waits, django_capture_on_commit_callbacks)
    request = ReturnRequest.objects.get(store=store, external_id=ret["legacyResourceId"])
    rma = rma_create_from_return_request(
        return_request_id=request.pk, actor=Actor.connector(store_id=store.pk, platform="shopify")
    )
    with django_capture_on_commit_callbacks(execute=True):
        rma_approve(user=world.admin, rma_id=rma.pk)
    assert shopify_fake.find_return(ret["legacyResourceId"])[1]["status"] == "OPEN"  # written back
    assert Rma.objects.get(pk=rma.pk).status == RmaStatus.APPROVED
    return store, ret["legacyResourceId"], Rma.objects.get(pk=rma.pk)


def _label_queries(shopify_fake: ShopifyFake) -> list[dict]:
    bodies = [json.loads(r.body) for r in shopify_fake.requests_to(GRAPHQL, "POST")]
    return [b for b in bodies if "AftersalesReturnLabel" in b["query"]]


def test_the_documents_match_the_admin_schema() -> None:
    assert validation_errors(operations.RETURN_LABEL_QUERY) == []
    assert validation_errors(operations.ORDERS_WITH_RETURNS_QUERY) == []


def test_the_api_fetches_shopifys_label_once_it_exists(world, shopify_fake, shop) -> None:  # type: ignore[no-untyped-def]
    _store, return_id, rma = shop
    api = ApiClient(user=world.agent)
    early = api.request("POST", f"/rmas/{rma.pk}/fetch-label")
    assert early.status_code == 409
    assert early.json()["error"]["field"] == "rma_id"
    assert "no label for this return yet" in early.json()["error"]["message"]
    assert Rma.objects.get(pk=rma.pk).status == RmaStatus.APPROVED
    shopify_fake.issue_return_label(return_id, PDF, carrier="DHL Express", tracking_number="JJD0099887766")
    done = api.request("POST", f"/rmas/{rma.pk}/fetch-label")
    assert done.status_code == 200 and done.json()["status"] == "label_issued"
    query = _label_queries(shopify_fake)[-1]
    assert query["variables"] == {"id": f"gid://shopify/Return/{return_id}"}
    downloads = shopify_fake.requests_to(LABEL_FILES, "GET")
    assert len(downloads) == 1 and "x-shopify-access-token" not in downloads[0].headers  # a public URL
    stored = Rma.objects.get(pk=rma.pk)
    assert stored.label_source == LabelSource.PLATFORM and stored.label_file.endswith(".pdf")
    assert return_id not in stored.label_file  # stored under a random name
    assert (stored.label_carrier, stored.label_tracking_number) == ("DHL Express", "JJD0099887766")
    assert Shipment.objects.filter(order_id=stored.order_id, tracking_number="JJD0099887766").exists()
    assert stored.events.filter(type="status_changed", payload__new="label_issued").exists()
    assert ApiClient(user=world.viewer).request("POST", f"/rmas/{rma.pk}/fetch-label").status_code == 403


def test_the_sync_fetches_the_label_once_when_it_appears(  # type: ignore[no-untyped-def]
    world, shopify_fake, shop, recorded_waits, django_capture_on_commit_callbacks
) -> None:
    store, return_id, rma = shop
    _sync_returns(store, recorded_waits, django_capture_on_commit_callbacks)  # approved, no label yet: nothing asked
    assert not _label_queries(shopify_fake)
    shopify_fake.issue_return_label(return_id, PDF)
    _sync_returns(store, recorded_waits, django_capture_on_commit_callbacks)
    stored = Rma.objects.get(pk=rma.pk)
    assert stored.status == RmaStatus.LABEL_ISSUED and stored.label_source == LabelSource.PLATFORM
    issued = stored.events.get(type="status_changed", payload__new="label_issued")
    assert (issued.actor_kind, issued.actor_ref) == ("system", "platform-labels")
    order_id = shopify_fake.find_return(return_id)[0]["legacyResourceId"]
    shopify_fake.touch(order_id)  # seen again: the RMA has its label, nothing fetched twice
    _sync_returns(store, recorded_waits, django_capture_on_commit_callbacks)
    assert len(_label_queries(shopify_fake)) == 1 and len(shopify_fake.requests_to(LABEL_FILES, "GET")) == 1


def test_a_label_that_is_not_a_pdf_is_refused(world, shopify_fake, shop) -> None:  # type: ignore[no-untyped-def]
    _store, return_id, rma = shop
    shopify_fake.issue_return_label(return_id, b"<html><script>alert(1)</script></html>", content_type="text/html")
    refused = ApiClient(user=world.agent).request("POST", f"/rmas/{rma.pk}/fetch-label")
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "file"
    stored = Rma.objects.get(pk=rma.pk)
    assert stored.status == RmaStatus.APPROVED and not stored.label_file


def test_shopifys_refusal_is_shown_on_the_rma_page(world, shopify_fake, shop, client) -> None:  # type: ignore[no-untyped-def]
    _store, return_id, rma = shop
    shopify_fake.issue_return_label(return_id, PDF)
    denied = {
        "errors": [
            {
                "message": "Access denied for reverseFulfillmentOrders field. Required access: `read_returns`.",
                "extensions": {"code": "ACCESS_DENIED"},
            }
        ]
    }
    shopify_fake.fail_next(GRAPHQL, status=200, body=denied)
    client.force_login(world.agent)
    page = client.get(reverse("web:rma", args=[rma.pk])).content.decode()
    assert 'data-action="fetch-label"' in page
    answer = client.post(reverse("web:rma_label_fetch", args=[rma.pk]), follow=True)
    assert "Access denied for reverseFulfillmentOrders" in answer.content.decode()
    stored = Rma.objects.get(pk=rma.pk)
    assert stored.status == RmaStatus.APPROVED and not stored.label_file
    assert client.post(reverse("web:rma_label_fetch", args=[rma.pk])).status_code == 302  # the next try works
    assert Rma.objects.get(pk=rma.pk).status == RmaStatus.LABEL_ISSUED


def test_the_label_download_is_https_or_the_stores_endpoint_and_bounded(shopify_fake, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    fake_origin = labels._origin(shopify_fake.url)
    with pytest.raises(ConnectorError, match="not https"):
        labels.download("http://cdn.example.com/label.pdf", allowed_origin=fake_origin)
    with pytest.raises(ConnectorError, match="not https"):
        labels.download("file:///etc/passwd", allowed_origin=fake_origin)
    shopify_fake.orders.clear()
    order = shopify_fake.add_order()
    ret = shopify_fake.add_return(order["legacyResourceId"], status="OPEN")
    path = shopify_fake.issue_return_label(ret["legacyResourceId"], PDF)
    assert labels.download(f"{shopify_fake.url}{path}", allowed_origin=fake_origin) == PDF
    monkeypatch.setattr(labels, "LABEL_MAX_BYTES", 100)
    with pytest.raises(ConnectorError, match="larger than"):
        labels.download(f"{shopify_fake.url}{path}", allowed_origin=fake_origin)
    with pytest.raises(ConnectorError, match="answered 404"):
        labels.download(f"{shopify_fake.url}/cdn/reverse-delivery-labels/{'0' * 32}.pdf", allowed_origin=fake_origin)
