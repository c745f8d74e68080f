"""An RMA follows its marketplace request when the buyer cancels it or the marketplace closes it
(returns.rma_platform): cancelled through the one transition by the connector, once; kept open with
a note on its timeline and in the exceptions list when the goods or the money have moved."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from aftersales.channels.base import ReturnState
from aftersales.core import events as core_events
from aftersales.core.actors import Actor
from aftersales.core.errors import ValidationFailed
from aftersales.returns.events import RmaPlatformClosed, RmaStatusChanged
from aftersales.returns.models import PlatformReturnState, Refund, ReturnRequest, Rma, RmaEvent, RmaStatus
from aftersales.returns.notify import step_for_status
from aftersales.returns.rma import rma_create_from_return_request
from aftersales.returns.rma_platform import CANCEL, NOTE, NOTHING, platform_close_decision
from aftersales.returns.selectors import rma_exceptions
from aftersales.returns.services import ReturnLineData, ReturnRequestData, return_request_upsert

from .rma_fixtures import delivered_order, first_line

S = RmaStatus
T0 = timezone.now() - timedelta(days=2)


@pytest.mark.parametrize(
    ("status", "state", "refund", "expected"),
    [
        (S.REQUESTED, "cancelled", False, CANCEL),
        (S.UNDER_REVIEW, "closed", False, CANCEL),
        (S.NEEDS_EVIDENCE, "cancelled", False, CANCEL),
        (S.PARTIAL_OFFERED, "closed", False, CANCEL),
        (S.APPROVED, "cancelled", False, CANCEL),
        (S.LABEL_ISSUED, "closed", False, CANCEL),
        (S.APPROVED, "cancelled", True, NOTE),  # a refund is on its way: the agent decides
        (S.IN_TRANSIT, "cancelled", False, NOTE),
        (S.RECEIVED, "closed", False, NOTE),
        (S.INSPECTED, "cancelled", False, NOTE),
        (S.RESOLVED, "cancelled", True, NOTE),  # refunded, and the buyer says they cancelled
        (S.RESOLVED, "closed", True, NOTHING),  # the marketplace's normal end
        (S.REJECTED, "closed", False, NOTHING),
        (S.CANCELLED, "cancelled", False, NOTHING),
    ],
)
def test_what_an_rma_does_when_its_request_ends_on_the_marketplace(status, state, refund, expected) -> None:
    assert platform_close_decision(status, state, refund_committed=refund) == expected


def test_every_connector_maps_its_whole_return_vocabulary() -> None:
    from aftersales.channels.connectors.aliexpress import mapping as ali
    from aftersales.channels.connectors.ebay import mapping as eb
    from aftersales.channels.connectors.shopee import mapping as sp
    from aftersales.channels.connectors.shopify import mapping as sf
    from aftersales.channels.connectors.tiktok import mapping as tt
    from aftersales.channels.connectors.wish import mapping as wi

    vocabularies = {
        ali: ali.ISSUE_STATUSES,
        eb: eb.RETURN_STATES | eb.INQUIRY_STATUSES | eb.CASE_STATUSES,
        sp: sp.RETURN_STATUSES,
        sf: sf.RETURN_STATUSES,
        tt: tt.RETURN_STATUSES | tt.CANCEL_STATUSES,
        wi: wi.TICKET_STATES,
    }
    for module, words in vocabularies.items():
        assert set(words) <= set(module.RETURN_STATE_OF), module.__name__
        assert all(isinstance(module.return_state(w), ReturnState) for w in words)
    # the ones that cancel an RMA, per platform (Shopify's CLOSED is "completed", not a cancellation)
    assert sf.return_state("CANCELED") == ReturnState.CANCELLED and sf.return_state("CLOSED") == ReturnState.COMPLETED
    assert sp.return_state("CANCELLED") == ReturnState.CANCELLED and sp.return_state("CLOSED") == ReturnState.CLOSED
    assert tt.return_state("RETURN_OR_REFUND_REQUEST_CANCEL") == ReturnState.CANCELLED
    assert ali.return_state("canceled") == ReturnState.CANCELLED
    assert eb.return_state("CLOSED") == ReturnState.CLOSED and wi.return_state("CLOSED") == ReturnState.CLOSED
    from aftersales.channels.connectors.amazon import mapping as am

    assert am.return_state(" Closed ") == ReturnState.CLOSED and am.return_state("Pending Approval") == ReturnState.OPEN
    assert am.return_state("Something new") == ReturnState.UNKNOWN
    assert set(ReturnState) == set(PlatformReturnState.values)


def _data(order: Any, status: str, state: str, *, minutes: int) -> ReturnRequestData:
    line = first_line(order)
    return ReturnRequestData(
        external_id="RR-1",
        kind="return",
        status=status,
        platform_state=state,
        created_at=T0,
        updated_at=T0 + timedelta(minutes=minutes),
        order_external_id=order.external_id,
        buyer_external_id="buyer-1",
        reason="changed_mind",
        lines=[ReturnLineData(line.sku, 1, line.external_line_id)],
    )


def _opened(world: Any) -> tuple[Any, Rma, Actor]:
    store = world.store_us
    order = delivered_order(world, store=store, lines=(("home", "40.00", 1, "USD"),))
    actor = Actor.connector(store_id=store.pk, platform=store.platform)
    result = return_request_upsert(store=store, data=_data(order, "Pending", "open", minutes=0), actor=actor)
    rma = rma_create_from_return_request(return_request_id=result.return_request.pk, actor=actor)
    return order, rma, actor


def _upsert(world: Any, order: Any, status: str, state: str, minutes: int, actor: Actor) -> list[object]:
    published: list[object] = []
    original = core_events.publish_many

    def spy(batch: Any) -> None:
        published.extend(batch)
        original(batch)

    with mock.patch.object(core_events, "publish_many", spy):
        return_request_upsert(store=world.store_us, data=_data(order, status, state, minutes=minutes), actor=actor)
    return published


@pytest.mark.django_db
def test_the_buyer_cancelling_on_the_marketplace_cancels_the_rma_once(world, client) -> None:
    order, rma, actor = _opened(world)
    published = _upsert(world, order, "Cancelled", "cancelled", 5, actor)
    rma.refresh_from_db()
    assert rma.status == S.CANCELLED
    row = rma.events.get(type="status_changed", payload__new="cancelled")
    assert (row.actor_kind, row.actor_ref, row.payload["reason"]) == (
        "connector",
        str(world.store_us.pk),
        "buyer_cancelled",
    )
    assert row.payload["platform_status"] == "Cancelled" and row.payload["platform"] == "amazon"
    changed = [e for e in published if isinstance(e, RmaStatusChanged)]
    closed = [e for e in published if isinstance(e, RmaPlatformClosed)]
    assert [(e.new_status, e.reason, e.actor.kind) for e in changed] == [("cancelled", "buyer_cancelled", "connector")]
    assert [(e.reason, e.followed, e.rma_status, e.rma_event_id) for e in closed] == [
        ("buyer_cancelled", True, "cancelled", row.pk)
    ]
    assert step_for_status("cancelled", "buyer_cancelled") == "cancelled"  # the buyer hears it in their language
    assert ReturnRequest.objects.get().platform_state == PlatformReturnState.CANCELLED

    # the same payload again, and a later "closed": nothing more
    assert not [e for e in _upsert(world, order, "Cancelled", "cancelled", 5, actor) if "Rma" in type(e).__name__]
    assert not [e for e in _upsert(world, order, "Closed", "closed", 9, actor) if "Rma" in type(e).__name__]
    assert rma.events.filter(type="status_changed", payload__new="cancelled").count() == 1
    assert not rma.events.filter(type="platform_closed").exists()

    # the RMA page says who cancelled it and why
    client.force_login(world.admin)
    page = client.get(reverse("web:rma", args=[rma.pk])).content.decode()
    assert "data-platform-note" in page and "the buyer cancelled the return request" in page and "Cancelled" in page


@pytest.mark.django_db
def test_a_received_return_closed_on_the_marketplace_stays_open_with_a_note(world, client) -> None:
    order, rma, actor = _opened(world)
    Rma.objects.filter(pk=rma.pk).update(status=S.RECEIVED)
    published = _upsert(world, order, "Closed", "closed", 5, actor)
    rma.refresh_from_db()
    assert rma.status == S.RECEIVED
    note = rma.events.get(type="platform_closed")
    assert (note.actor_kind, note.payload["platform_reason"], note.payload["rma_status"]) == (
        "connector",
        "platform_closed",
        "received",
    )
    assert [(type(e).__name__, getattr(e, "followed", None)) for e in published if "Rma" in type(e).__name__] == [
        ("RmaPlatformClosed", False)
    ]
    assert [r.pk for r in rma_exceptions(world.admin).platform_closed] == [rma.pk]
    _upsert(world, order, "Closed", "closed", 5, actor)  # replayed: no second note
    assert rma.events.filter(type="platform_closed").count() == 1

    client.force_login(world.admin)
    page = client.get(reverse("web:rma", args=[rma.pk])).content.decode()
    assert "but the RMA is Received: not cancelled" in page
    exceptions = client.get(reverse("web:rma_exceptions")).content.decode()
    assert rma.number in exceptions.split('id="platform-closed"')[1].split("</section>")[0]
    api = client.get("/api/v1/rmas/exceptions")
    assert api.status_code == 200, api.content
    assert [r["number"] for r in api.json()["platform_closed"]] == [rma.number]


@pytest.mark.django_db
def test_a_refund_on_its_way_keeps_the_rma_open(world) -> None:
    order, rma, actor = _opened(world)
    Refund.objects.create(
        organization=world.org,
        store=world.store_us,
        order=order,
        rma=rma,
        kind="full",
        status="pending_approval",
        amount=Decimal("40.00"),
        currency="USD",
        idempotency_key="k-1",
    )
    _upsert(world, order, "Cancelled", "cancelled", 5, actor)
    rma.refresh_from_db()
    assert rma.status == S.REQUESTED
    note = rma.events.get(type="platform_closed")
    assert note.payload["refund_committed"] is True and note.payload["platform_reason"] == "buyer_cancelled"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "state", "words"), [("Cancelled", "cancelled", "buyer cancelled"), ("Closed", "closed", "closed")]
)
def test_no_rma_opens_for_a_request_already_ended_on_the_marketplace(world, status, state, words) -> None:
    store = world.store_us
    order = delivered_order(world, store=store, lines=(("home", "40.00", 1, "USD"),))
    actor = Actor.connector(store_id=store.pk, platform=store.platform)
    request = return_request_upsert(
        store=store, data=_data(order, status, state, minutes=0), actor=actor
    ).return_request
    events_before = RmaEvent.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        rma_create_from_return_request(return_request_id=request.pk, actor=actor)
    assert caught.value.field == "return_request_id" and caught.value.status_code == 422
    assert words in str(caught.value) and "no RMA is opened" in str(caught.value)
    assert not Rma.objects.exists() and RmaEvent.objects.count() == events_before


@pytest.mark.django_db
def test_an_rma_cancelled_with_its_request_is_not_opened_again(world) -> None:
    order, rma, actor = _opened(world)
    _upsert(world, order, "Cancelled", "cancelled", 5, actor)
    with pytest.raises(ValidationFailed) as caught:
        rma_create_from_return_request(return_request_id=rma.return_request_id, actor=actor)
    assert caught.value.field == "return_request_id"
    assert list(Rma.objects.values_list("pk", "status")) == [(rma.pk, S.CANCELLED)]
