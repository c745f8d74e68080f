"""The lean bulk approval (issue 10, bench/returns.py): the approval service's batch form
(returns.rma.rma_approve_many, which `rma_approve` is with one id) approves a chunk of RMAs in a fixed
number of statements, with one event row per RMA, one notification task and one write-back task per
chunk, a result per RMA, and nothing written for the RMAs it refuses."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aftersales.core.errors import Conflict, NotFound, PermissionDenied
from aftersales.inventory.models import Warehouse
from aftersales.returns import bulk, rma_subscribers
from aftersales.returns.bulk import rma_bulk_run, rma_bulk_start
from aftersales.returns.models import RmaBulkItem, RmaEvent, RmaResolution, RmaStatus
from aftersales.returns.rma import rma_approve, rma_approve_many

from .rma_list_fixtures import make_rma

pytestmark = pytest.mark.django_db


@pytest.fixture
def hub(world):  # type: ignore[no-untyped-def]
    return Warehouse.objects.create(
        organization=world.org, code="LAX", name="LA hub", is_return_hub=True, serves_countries=["US"]
    )


def _statements(world: Any, n: int) -> int:
    ids = [make_rma(world, delivery_country="US").pk for _ in range(n)]
    job = rma_bulk_start(user=world.approver, action="approve", rma_ids=ids, params={})
    with CaptureQueriesContext(connection) as queries:
        rma_bulk_run(job.pk)
    assert RmaBulkItem.objects.filter(job=job, status="ok").count() == n
    return len(queries.captured_queries)


def test_a_chunk_costs_the_same_statements_whatever_its_size(world, hub) -> None:  # type: ignore[no-untyped-def]
    small, large = _statements(world, 3), _statements(world, 40)
    assert large == small, (small, large)  # per chunk, not per RMA
    assert large < 25


def test_each_rma_gets_its_event_and_one_task_per_chunk_goes_out(  # type: ignore[no-untyped-def]
    world, hub, django_capture_on_commit_callbacks
) -> None:
    rmas = [make_rma(world, delivery_country="US") for _ in range(7)]
    job = rma_bulk_start(user=world.approver, action="approve", rma_ids=[r.pk for r in rmas], params={})
    with (
        mock.patch.object(bulk, "CHUNK", 3),
        mock.patch.object(rma_subscribers, "rma_notify_batch_task") as notify,
        mock.patch.object(rma_subscribers, "rma_writeback_batch_task") as writeback,
        django_capture_on_commit_callbacks(execute=True),
    ):
        rma_bulk_run(job.pk)
    assert notify.call_count == 3 and writeback.call_count == 3  # chunks of 3, 3 and 1
    sent = [item for call in notify.call_args_list for item in call.args[0]]
    events = RmaEvent.objects.filter(type="status_changed", rma__in=rmas, actor_user=world.approver)
    assert sorted(sent) == sorted([e.rma_id, "approved", e.pk, world.approver.pk] for e in events)
    for rma in rmas:
        rma.refresh_from_db()
        assert (rma.status, rma.resolution, rma.return_warehouse_id) == ("approved", "return_and_refund", hub.pk)
        assert rma.events.get(type="status_changed").payload == {
            "old": "requested",
            "new": "approved",
            "reason": "",
            "resolution": "return_and_refund",
            "warehouse_id": hub.pk,
        }


def test_a_result_per_rma_and_nothing_written_for_the_refused(world, hub) -> None:  # type: ignore[no-untyped-def]
    ok = make_rma(world, delivery_country="US")
    final = make_rma(world, status=RmaStatus.REJECTED)
    other_team = make_rma(world, store=world.store_de, ticket=world.ticket(store=world.store_de))
    returnless = make_rma(world, resolution=RmaResolution.RETURNLESS_REFUND)
    foreign = make_rma(world, store=world.foreign_store)
    ids = [ok.pk, final.pk, other_team.pk, returnless.pk, foreign.pk]
    outcomes = rma_approve_many(user=world.approver, rma_ids=ids)
    assert outcomes[ok.pk].status == RmaStatus.APPROVED  # type: ignore[union-attr]
    assert isinstance(outcomes[final.pk], Conflict)
    assert isinstance(outcomes[other_team.pk], NotFound)
    assert isinstance(outcomes[foreign.pk], NotFound)
    returnless.refresh_from_db()
    assert (returnless.status, returnless.outcome) == (RmaStatus.RESOLVED, "refunded")
    assert returnless.refunds.count() == 1
    assert not RmaEvent.objects.filter(rma__in=[final, other_team]).exists()
    denied = rma_approve_many(user=world.agent, rma_ids=[ok.pk, other_team.pk])
    assert isinstance(denied[ok.pk], PermissionDenied) and isinstance(denied[other_team.pk], NotFound)


def test_the_single_approval_is_the_batch_of_one(world, hub) -> None:  # type: ignore[no-untyped-def]
    rma = make_rma(world, delivery_country="US")
    with CaptureQueriesContext(connection) as queries:
        approved = rma_approve(user=world.approver, rma_id=rma.pk, resolution="exchange")
    assert (approved.status, approved.resolution, approved.return_warehouse_id) == ("approved", "exchange", hub.pk)
    assert len(queries.captured_queries) < 15
    with pytest.raises(Conflict):
        rma_approve(user=world.approver, rma_id=rma.pk)
    with pytest.raises(NotFound):
        rma_approve(user=world.approver, rma_id="1")


def test_a_chunk_that_breaks_runs_its_items_one_by_one(world, hub) -> None:  # type: ignore[no-untyped-def]
    rmas = [make_rma(world, delivery_country="US") for _ in range(3)]
    job = rma_bulk_start(user=world.approver, action="approve", rma_ids=[r.pk for r in rmas], params={})
    real = bulk.rma_services.rma_approve_many

    def breaks_on_chunks(**kwargs):  # type: ignore[no-untyped-def]
        if len(kwargs["rma_ids"]) > 1:
            raise RuntimeError("boom")
        return real(**kwargs)

    with mock.patch.object(bulk.rma_services, "rma_approve_many", side_effect=breaks_on_chunks):
        rma_bulk_run(job.pk)  # the chunk fails; each item then goes through rma_approve (a batch of one)
    assert set(RmaBulkItem.objects.filter(job=job).values_list("status", flat=True)) == {"ok"}
    assert RmaEvent.objects.filter(rma__in=rmas, type="status_changed").count() == 3
    rma_bulk_run(job.pk)  # run again: nothing applied twice
    assert RmaEvent.objects.filter(rma__in=rmas, type="status_changed").count() == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
def test_two_workers_running_one_job_apply_each_rma_once() -> None:
    """A retried task while the first still runs: the items are locked before the chunk is applied,
    so each RMA is approved once, with one event, whoever gets there first."""
    from aftersales.testing.personas import build_world
    from aftersales.testing.threads import run_together

    world = build_world()
    Warehouse.objects.create(organization=world.org, code="LAX", name="LA hub", is_return_hub=True)
    rmas = [make_rma(world, delivery_country="US") for _ in range(12)]
    job = rma_bulk_start(user=world.approver, action="approve", rma_ids=[r.pk for r in rmas], params={})
    with mock.patch.object(bulk, "CHUNK", 4):
        results = run_together(lambda: rma_bulk_run(job.pk), lambda: rma_bulk_run(job.pk))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert set(RmaBulkItem.objects.filter(job=job).values_list("status", flat=True)) == {"ok"}
    for rma in rmas:
        assert RmaEvent.objects.filter(rma=rma, type="status_changed").count() == 1
