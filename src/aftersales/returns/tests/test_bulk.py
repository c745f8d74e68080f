"""Bulk approve / reject / request evidence (returns/bulk.py): a job with one item per RMA, each
through the RMA service in its own transaction, a result per item, safe to run twice."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

from aftersales.core.errors import NotFound, PermissionDenied, ValidationFailed
from aftersales.returns import bulk
from aftersales.returns.bulk import rma_bulk_run, rma_bulk_start
from aftersales.returns.models import RmaBulkItem, RmaBulkJob, RmaEvent, RmaStatus
from aftersales.returns.selectors import rma_bulk_job_progress

from .rma_list_fixtures import make_rma

pytestmark = pytest.mark.django_db


def test_bulk_approve_runs_after_commit_with_a_result_per_item(world, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    ok = [make_rma(world), make_rma(world)]
    done = make_rma(world, status=RmaStatus.REJECTED)  # a final status: the table refuses approval
    with django_capture_on_commit_callbacks(execute=True):
        job = rma_bulk_start(
            user=world.approver, action="approve", rma_ids=[ok[0].pk, done.pk, ok[1].pk, ok[0].pk], params={}
        )
    progress = rma_bulk_job_progress(world.approver, job.pk)
    assert (progress.status, progress.total, progress.ok, progress.failed, progress.percent) == ("done", 3, 2, 1, 100)
    assert [(i.rma_id, i.status) for i in progress.items] == [(ok[0].pk, "ok"), (done.pk, "error"), (ok[1].pk, "ok")]
    assert progress.items[1].message  # why it failed, in words
    for rma in ok:
        rma.refresh_from_db()
        assert rma.status == RmaStatus.APPROVED
        assert RmaEvent.objects.filter(rma=rma, type="status_changed", actor_user=world.approver).exists()


def test_one_failure_never_stops_the_others(world) -> None:  # type: ignore[no-untyped-def]
    rmas = [make_rma(world) for _ in range(3)]
    job = rma_bulk_start(user=world.approver, action="reject", rma_ids=[r.pk for r in rmas], params={"reason": "late"})
    real = bulk.rma_services.rma_reject

    def flaky(**kwargs):  # type: ignore[no-untyped-def]
        if kwargs["rma_id"] == rmas[1].pk:
            raise RuntimeError("boom")
        return real(**kwargs)

    with mock.patch.object(bulk.rma_services, "rma_reject", side_effect=flaky):
        rma_bulk_run(job.pk)
    statuses = dict(RmaBulkItem.objects.filter(job=job).values_list("rma_id", "status"))
    assert statuses == {rmas[0].pk: "ok", rmas[1].pk: "error", rmas[2].pk: "ok"}
    rmas[1].refresh_from_db()
    assert rmas[1].status == RmaStatus.REQUESTED  # its savepoint rolled back


def test_running_twice_applies_each_item_once(world) -> None:  # type: ignore[no-untyped-def]
    rmas = [make_rma(world) for _ in range(2)]
    job = rma_bulk_start(
        user=world.agent, action="request_evidence", rma_ids=[r.pk for r in rmas], params={"kinds": ["photo"]}
    )
    rma_bulk_run(job.pk)
    events = RmaEvent.objects.filter(rma__in=rmas).count()
    RmaBulkJob.objects.filter(pk=job.pk).update(status="running")  # a retried task after a crash
    rma_bulk_run(job.pk)
    assert RmaEvent.objects.filter(rma__in=rmas).count() == events
    assert rma_bulk_job_progress(world.agent, job.pk).ok == 2


def test_bad_requests_write_nothing(world) -> None:  # type: ignore[no-untyped-def]
    rma = make_rma(world)
    de = make_rma(world, store=world.store_de, ticket=world.ticket(store=world.store_de))
    cases: list[tuple[Any, str, list[int], dict[str, Any], type[Exception], str | None]] = [
        (world.approver, "launch", [rma.pk], {}, ValidationFailed, "action"),
        (world.agent, "approve", [rma.pk], {}, PermissionDenied, None),
        (world.viewer, "request_evidence", [rma.pk], {"kinds": ["photo"]}, PermissionDenied, None),
        (world.approver, "approve", [], {}, ValidationFailed, "rma_ids"),
        (world.approver, "approve", [de.pk], {}, NotFound, "rma_ids"),
        (world.foreign_user, "approve", [rma.pk], {}, NotFound, "rma_ids"),
        (world.approver, "reject", [rma.pk], {}, ValidationFailed, "params.reason"),
        (world.approver, "approve", [rma.pk], {"resolution": "teleport"}, ValidationFailed, "params.resolution"),
        (world.approver, "approve", [rma.pk], {"reason": "x"}, ValidationFailed, "params.reason"),
        (world.agent, "request_evidence", [rma.pk], {"kinds": ["qc_photo"]}, ValidationFailed, "params.kinds"),
        (world.agent, "request_evidence", [rma.pk], {}, ValidationFailed, "params.kinds"),
    ]
    for user, action, ids, params, error, field in cases:
        with pytest.raises(error) as exc:
            rma_bulk_start(user=user, action=action, rma_ids=ids, params=params)
        assert getattr(exc.value, "field", None) == field, (action, params)
    with mock.patch.object(bulk, "MAX_BULK_RMAS", 1), pytest.raises(ValidationFailed) as exc:
        rma_bulk_start(user=world.approver, action="approve", rma_ids=[rma.pk, de.pk], params={})
    assert exc.value.field == "rma_ids"
    assert not RmaBulkJob.objects.exists()


def test_progress_is_the_creators_and_admins(world) -> None:  # type: ignore[no-untyped-def]
    rma = make_rma(world)
    job = rma_bulk_start(user=world.approver, action="approve", rma_ids=[rma.pk], params={})
    assert rma_bulk_job_progress(world.admin, job.pk).total == 1
    for user in (world.agent, world.foreign_user):
        with pytest.raises(NotFound):
            rma_bulk_job_progress(user, job.pk)
    progress = rma_bulk_job_progress(world.approver, job.pk)
    assert (progress.status, progress.percent, progress.items[0].status) == ("queued", 0, "pending")


def test_an_item_finished_by_another_run_is_rolled_back(world) -> None:  # type: ignore[no-untyped-def]
    rma = make_rma(world)
    job = rma_bulk_start(user=world.approver, action="approve", rma_ids=[rma.pk], params={})
    item = RmaBulkItem.objects.get(job=job)
    RmaBulkItem.objects.filter(pk=item.pk).update(status="ok")  # another worker finished it meanwhile
    bulk._run_item(job, world.approver, (item.pk, rma.pk))
    rma.refresh_from_db()
    assert rma.status == RmaStatus.REQUESTED
    assert not RmaEvent.objects.filter(rma=rma).exists()
