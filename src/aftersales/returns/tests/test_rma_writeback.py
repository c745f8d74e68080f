"""The marketplace hears the RMA's decisions (issue 10 §3, §8): an RMA opened from an eBay return is
approved / offered a partial refund and the eBay fake receives exactly those decisions through the
write-back ledger (key stored first, once); a store whose connector cannot decide returns records
pending_sync with what to do by hand, never pretended."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from aftersales.channels.connectors.ebay.client import forget_app_tokens
from aftersales.channels.connectors.ebay.fake import EbayFake
from aftersales.channels.connectors.ebay.webhooks import clear_key_cache
from aftersales.channels.models import WriteBack, WriteBackStatus
from aftersales.core.actors import Actor
from aftersales.returns.models import ReturnRequest, ReturnRequestLine, Rma, RmaStatus
from aftersales.returns.rma import rma_approve, rma_create_from_return_request, rma_reject
from aftersales.returns.rma_actions import rma_offer_partial
from aftersales.returns.rma_sync import rma_writeback
from aftersales.testing.connectors import unplugged
from aftersales.testing.factories import StoreFactory

from .rma_fixtures import delivered_order, first_line

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake() -> Iterator[EbayFake]:
    clear_key_cache()
    forget_app_tokens()
    with EbayFake().running() as server:
        assert isinstance(server, EbayFake)
        yield server


def ebay_store(world: Any, fake: EbayFake) -> Any:
    """An eBay.de store of the world's organization pointed at the fake (decisions are signed)."""
    return StoreFactory(
        organization=world.org,
        platform="ebay",
        site="ebay.de",
        currency="EUR",
        external_id=fake.seller,
        endpoint_url=fake.url,
        credentials=fake.credentials(signing_key=fake.new_signing_key()),
    )


def marketplace_rma(
    world: Any, store: Any, external_id: str, *, reason: str = "changed_mind", sku: str | None = None
) -> Rma:
    order = delivered_order(world, store=store, lines=(("home", "40.00", 1, "USD"),))
    line = first_line(order)
    request = ReturnRequest.objects.create(
        organization=world.org,
        store=store,
        external_id=external_id,
        kind="return",
        platform_status="RETURN_REQUESTED",
        order=order,
        order_external_id=order.external_id,
        reason=reason,
        created_on_platform=timezone.now(),
    )
    ReturnRequestLine.objects.create(return_request=request, sku=sku or line.sku, quantity=1, order_line=line)
    actor = Actor.connector(store_id=store.pk, platform=store.platform)
    rma = rma_create_from_return_request(return_request_id=request.pk, actor=actor)
    assert rma_create_from_return_request(return_request_id=request.pk, actor=actor).pk == rma.pk  # idempotent
    return rma


def test_decisions_reach_ebay_once(world, fake, django_capture_on_commit_callbacks) -> None:
    store = ebay_store(world, fake)
    fake.add_return({"returnId": "5000123456", "state": "RETURN_REQUESTED"})
    fake.add_return({"returnId": "5000123457", "state": "RETURN_REQUESTED"})
    rma = marketplace_rma(world, store, "5000123456")
    assert rma.status == RmaStatus.REQUESTED and rma.events.first().actor_kind == "connector"  # type: ignore[union-attr]
    with django_capture_on_commit_callbacks(execute=True):
        rma_approve(user=world.admin, rma_id=rma.pk)
    rma.refresh_from_db()
    assert rma.platform_sync == "synced", rma.platform_sync_detail
    decided = fake.requests_to(r"/post-order/v2/return/5000123456/decide")
    assert [r.json() for r in decided] == [{"decision": "APPROVE", "RMANumber": rma.number}]
    event = rma.events.get(type="status_changed", payload__new="approved")
    row = WriteBack.objects.get(idempotency_key=f"rma:{rma.pk}:decide:{event.pk}")
    assert row.status == WriteBackStatus.SUCCEEDED and row.kind == "decide_return"
    # the task again (a retry): the ledger answers, eBay is not called twice
    assert rma_writeback(rma_id=rma.pk, rma_event_id=event.pk) == "synced"
    assert len(fake.requests_to(r"/post-order/v2/return/5000123456/decide")) == 1

    other = marketplace_rma(world, store, "5000123457")
    with django_capture_on_commit_callbacks(execute=True):
        rma_offer_partial(user=world.admin, rma_id=other.pk, amount="8.00", message="Keep it for 8 EUR?")
    body = fake.requests_to(r"/post-order/v2/return/5000123457/decide")[0].json()
    assert body["decision"] == "OFFER_PARTIAL_REFUND"
    assert body["partialRefundAmount"] == {"value": "8.00", "currency": "USD"}
    assert Rma.objects.get(pk=other.pk).platform_sync == "synced"


def test_a_refused_decision_is_failed_with_the_platforms_words(world, fake, django_capture_on_commit_callbacks) -> None:
    store = ebay_store(world, fake)
    fake.add_return({"returnId": "5000123458", "state": "CLOSED"})
    rma = marketplace_rma(world, store, "5000123458")
    with django_capture_on_commit_callbacks(execute=True):
        rma_reject(user=world.admin, rma_id=rma.pk, reason="Used")
    rma.refresh_from_db()
    assert rma.status == RmaStatus.REJECTED
    assert rma.platform_sync == "failed" and "closed" in rma.platform_sync_detail.lower()


def test_a_connector_that_cannot_decide_leaves_it_pending_sync(world, django_capture_on_commit_callbacks) -> None:
    # Wish: no connector deciding returns (AliExpress now answers its issues through its connector).
    store = StoreFactory(organization=world.org, platform="wish", site="wish.com")
    rma = marketplace_rma(world, store, "AE-77", reason="not_in_the_policy", sku="OTHER-SKU")
    assert rma.status == RmaStatus.UNDER_REVIEW
    assert {d["code"] for d in rma.discrepancies} == {"reason_unknown", "sku_mismatch"}
    with django_capture_on_commit_callbacks(execute=True):
        rma_approve(user=world.admin, rma_id=rma.pk)
    rma.refresh_from_db()
    assert rma.platform_sync == "pending_sync"
    assert "AE-77" in rma.platform_sync_detail and "by hand" in rma.platform_sync_detail
    assert not WriteBack.objects.exists()
    assert rma.events.filter(type="platform_sync", payload__state="pending_sync").exists()
    assert Decimal(rma.decision["lines"][0]["restocking_fee_percent"]) == 0


# Wish is this module's example of a platform without a connector: unplugged for its tests.
_no_wish_connector = unplugged("wish")
