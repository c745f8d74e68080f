"""The RMA list: one filter declaration, the scope, keyset pages, status tabs, exceptions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from aftersales.catalog.models import TrackingEvent
from aftersales.core.errors import NotFound, ValidationFailed
from aftersales.returns.filters import RMA_FILTER_NAMES, RmaFilters, parse_rma_filters
from aftersales.returns.models import PlatformSync, Refund, RefundStatus, RmaStatus
from aftersales.returns.selectors import (
    rma_detail,
    rma_exceptions,
    rma_list_query,
    rma_page,
    rma_status_counts,
    rmas_visible,
)
from aftersales.testing.factories import ShipmentFactory

from .rma_list_fixtures import days_ago, make_rma

pytestmark = pytest.mark.django_db


def numbers(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.number for r in page.rmas]


def test_parse_refuses_bad_values_naming_the_filter() -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_rma_filters({"status": "requested,flying"})
    assert exc.value.field == "status"
    with pytest.raises(ValidationFailed) as exc:
        parse_rma_filters({"colour": "red"})
    assert exc.value.field == "colour"
    with pytest.raises(ValidationFailed) as exc:
        parse_rma_filters({"created_after": "2026-13-45"})
    assert exc.value.field == "created_after"
    with pytest.raises(ValidationFailed) as exc:
        parse_rma_filters({"has_discrepancies": "maybe"})
    assert exc.value.field == "has_discrepancies"
    filters = parse_rma_filters({"status": ["requested", "approved"], "store": "3,4", "has_discrepancies": "true"})
    assert filters == RmaFilters(status=("requested", "approved"), store=(3, 4), has_discrepancies=True)
    assert parse_rma_filters(filters.as_query()) == filters
    assert set(RMA_FILTER_NAMES) >= {"q", "status", "resolution", "store", "platform", "platform_sync", "reason"}


def test_filters_and_search(world) -> None:  # type: ignore[no-untyped-def]
    a = make_rma(world, customer_name="Olivia Martins", order_number="111-222", reason="defective")
    b = make_rma(
        world,
        store=world.store_de,
        status=RmaStatus.APPROVED,
        resolution="exchange",
        reason="changed_mind",
        discrepancies=[{"code": "qty", "field": "lines", "message": "too many"}],
        platform_sync=PlatformSync.PENDING_SYNC,
        label_tracking_number="1Z999",
    )
    admin = world.admin

    def listed(**params: str) -> list[str]:
        read = rma_list_query(admin, params)
        return numbers(rma_page(admin, read.filters, limit=read.limit, sort=read.sort))

    assert listed() == [b.number, a.number]
    assert listed(status="approved") == [b.number]
    assert listed(resolution="exchange") == [b.number]
    assert listed(platform="ebay") == [b.number]
    assert listed(store=str(world.store_us.pk)) == [a.number]
    assert listed(platform_sync="pending_sync") == [b.number]
    assert listed(has_discrepancies="true") == [b.number]
    assert listed(has_discrepancies="false") == [a.number]
    assert listed(reason="defective") == [a.number]
    assert listed(q="olivia") == [a.number]
    assert listed(q="111-222") == [a.number]
    assert listed(q="1Z999") == [b.number]
    assert listed(q=b.number) == [b.number]
    assert listed(sort="created_at") == [a.number, b.number]
    with pytest.raises(NotFound) as missing:
        rma_list_query(admin, {"store": str(world.foreign_store.pk)})
    assert missing.value.field == "store"
    with pytest.raises(ValidationFailed) as exc:
        rma_list_query(admin, {"limit": "500"})
    assert exc.value.field == "limit"


def test_scope_follows_the_ticket(world) -> None:  # type: ignore[no-untyped-def]
    us = make_rma(world, ticket=world.ticket(store=world.store_us))
    de = make_rma(world, store=world.store_de, ticket=world.ticket(store=world.store_de))
    loose = make_rma(world)
    make_rma(world, store=world.foreign_store)
    assert set(rmas_visible(world.agent)) == {us, loose}
    assert set(rmas_visible(world.outsider)) == {de, loose}
    assert set(rmas_visible(world.admin)) == {us, de, loose}
    assert set(rmas_visible(world.foreign_user)) != {us}
    with pytest.raises(NotFound):
        rma_detail(world.agent, de.pk)
    with pytest.raises(NotFound):
        rma_detail(world.foreign_user, us.pk)


def test_assignee_filter_reads_the_ticket(world) -> None:  # type: ignore[no-untyped-def]
    mine = make_rma(world, ticket=world.ticket(store=world.store_us, assignee=world.agent))
    other = make_rma(world, ticket=world.ticket(store=world.store_us, assignee=world.teammate))
    loose = make_rma(world)
    read = rma_list_query(world.agent, {"assignee": "me"})
    assert numbers(rma_page(world.agent, read.filters)) == [mine.number]
    read = rma_list_query(world.agent, {"assignee": "none"})
    assert numbers(rma_page(world.agent, read.filters)) == [loose.number]
    read = rma_list_query(world.agent, {"assignee": str(world.teammate.pk)})
    assert numbers(rma_page(world.agent, read.filters)) == [other.number]


def test_keyset_pages_are_stable_and_complete(world) -> None:  # type: ignore[no-untyped-def]
    same = timezone.now() - timedelta(hours=1)
    made = [make_rma(world, created_at=same if i % 2 else same - timedelta(minutes=i)) for i in range(7)]
    seen: list[str] = []
    cursor = None
    while True:
        page = rma_page(world.admin, RmaFilters(), limit=3, cursor=cursor)
        seen += numbers(page)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(r.number for r in made)
    assert len(seen) == len(set(seen)) == 7
    with pytest.raises(ValidationFailed) as exc:
        rma_page(world.admin, RmaFilters(), cursor="garbage")
    assert exc.value.field == "cursor"
    first = rma_page(world.admin, RmaFilters(), limit=3)
    with pytest.raises(ValidationFailed):
        rma_page(world.admin, RmaFilters(), limit=3, sort="created_at", cursor=first.next_cursor)


def test_status_tabs_count_the_other_filters(world) -> None:  # type: ignore[no-untyped-def]
    make_rma(world)
    make_rma(world, status=RmaStatus.APPROVED)
    make_rma(world, store=world.store_de, status=RmaStatus.APPROVED)
    tabs = {t.status: t.count for t in rma_status_counts(world.admin, RmaFilters(status=("requested",)))}
    assert tabs[""] == 3 and tabs["requested"] == 1 and tabs["approved"] == 2 and tabs["rejected"] == 0
    tabs = {t.status: t.count for t in rma_status_counts(world.admin, RmaFilters(store=(world.store_de.pk,)))}
    assert tabs[""] == 1 and tabs["approved"] == 1


def test_exceptions(world) -> None:  # type: ignore[no-untyped-def]
    stale = make_rma(
        world, status=RmaStatus.LABEL_ISSUED, label_issued_at=days_ago(10), label_tracking_number="RET-STALE"
    )
    no_number = make_rma(world, status=RmaStatus.LABEL_ISSUED, label_issued_at=days_ago(9))
    moving = make_rma(
        world, status=RmaStatus.LABEL_ISSUED, label_issued_at=days_ago(10), label_tracking_number="RET-MOVING"
    )
    shipment: Any = ShipmentFactory(order=moving.order, tracking_number="RET-MOVING")
    TrackingEvent.objects.create(shipment=shipment, at=days_ago(8), status="in_transit")
    make_rma(world, status=RmaStatus.LABEL_ISSUED, label_issued_at=days_ago(2), label_tracking_number="RET-NEW")
    mismatch = make_rma(world, discrepancies=[{"code": "sku", "field": "lines", "message": "not in the order"}])
    make_rma(world, status=RmaStatus.REJECTED, discrepancies=[{"code": "sku", "field": "lines", "message": "x"}])
    failed = Refund.objects.create(
        organization=world.org,
        store=world.store_us,
        order=mismatch.order,
        rma=mismatch,
        kind="full",
        status=RefundStatus.FAILED,
        amount="49.00",
        currency="USD",
        idempotency_key="k-failed",
    )
    Refund.objects.create(
        organization=world.org,
        store=world.store_us,
        order=mismatch.order,
        rma=mismatch,
        kind="shipping",
        status=RefundStatus.SUCCEEDED,
        amount="5.00",
        currency="USD",
        idempotency_key="k-ok",
    )
    found = rma_exceptions(world.admin)
    assert {r.pk for r in found.stale_labels} == {stale.pk, no_number.pk}
    assert [r.pk for r in found.discrepancies] == [mismatch.pk]
    assert [r.pk for r in found.refunds_failed] == [failed.pk]
    assert found.writebacks_unknown == []
    assert {r.pk for r in rma_exceptions(world.admin, stale_days=1).stale_labels} >= {stale.pk}
    with pytest.raises(ValidationFailed):
        rma_exceptions(world.admin, stale_days=0)
    assert rma_exceptions(world.foreign_user).total == 0


def test_detail_offers_refund_by_role(world) -> None:  # type: ignore[no-untyped-def]
    rma = make_rma(world)
    assert rma_detail(world.agent, rma.pk).can_refund
    assert not rma_detail(world.viewer, rma.pk).can_refund
    detail = rma_detail(world.admin, rma.pk)
    assert [line.sku for line in detail.lines] == [rma.lines.get().sku]
