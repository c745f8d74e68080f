"""Bulk approve / reject / request evidence over many RMAs.

`rma_bulk_start` checks the request (action, parameters, ids the user may see, the role) and writes
a job with one item per RMA, nothing else; the `RmaBulkJobCreated` event enqueues the Huey task
(returns.bulk_tasks) after commit, which calls `rma_bulk_run`. Each item runs the RMA service
(returns.rma) in its own transaction together with the item's result: one item's failure never stops
the others, and running the job twice (a retried task, two workers) never applies an item twice
(the item is marked done in the same commit as its action, only while still pending; otherwise that
attempt is rolled back).

This follows the inbox's bulk action (inbox.services.tickets_bulk_apply: per-item transactions and
a result per item), which runs inline for at most 500 tickets; RMA decisions run as a job (they
notify buyers and call marketplaces) with the progress row the inbox's batch translation uses
(language.TranslationJob).

Approvals run in chunks (CHUNK RMAs per transaction) through the batch form of the one approval
service, returns.rma.rma_approve_many, which `rma_approve` also is (a batch of one): a few statements
per chunk instead of ~13 per RMA, and one notification task and one write-back task per chunk. A chunk
that fails as a whole falls back to the items one by one."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from aftersales.accounts.models import Permission, User
from aftersales.accounts.permissions import check_perm, organization_of
from aftersales.core import events
from aftersales.core.actors import Actor
from aftersales.core.errors import DomainError, NotFound, ValidationFailed

from . import rma as rma_services
from .access import rma_scope_q
from .events import RmaBulkJobCreated
from .models import (
    EvidenceKind,
    Rma,
    RmaBulkAction,
    RmaBulkItem,
    RmaBulkItemStatus,
    RmaBulkJob,
    RmaBulkJobStatus,
    RmaResolution,
)

logger = logging.getLogger(__name__)

MAX_BULK_RMAS = 10_000
MAX_REASON = 500
MAX_MESSAGE = 2000
# Approvals run in chunks of this many RMAs, one transaction each (the progress bar moves per chunk).
CHUNK = 250
# What the role needs for each action (the RMA services check it again per item).
ACTION_PERMISSION = {
    RmaBulkAction.APPROVE: Permission.APPROVE,
    RmaBulkAction.REJECT: Permission.APPROVE,
    RmaBulkAction.REQUEST_EVIDENCE: Permission.PROCESS,
}
PARAMS = {
    RmaBulkAction.APPROVE: frozenset({"resolution"}),
    RmaBulkAction.REJECT: frozenset({"reason"}),
    RmaBulkAction.REQUEST_EVIDENCE: frozenset({"kinds", "message"}),
}


def _check_params(action: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The action's parameters, validated (ValidationFailed naming `params.<name>`)."""
    unknown = sorted(set(params) - PARAMS[RmaBulkAction(action)])
    if unknown:
        raise ValidationFailed(
            gettext("unknown parameter %(name)r for %(action)s; expected %(names)s")
            % {"name": unknown[0], "action": action, "names": ", ".join(sorted(PARAMS[RmaBulkAction(action)]))},
            field=f"params.{unknown[0]}",
        )
    clean: dict[str, Any] = {}
    if action == RmaBulkAction.APPROVE:
        resolution = params.get("resolution")
        if resolution not in (None, ""):
            if resolution not in RmaResolution.values:
                raise ValidationFailed(
                    gettext("unknown resolution %(value)r; expected one of %(choices)s")
                    % {"value": resolution, "choices": ", ".join(RmaResolution.values)},
                    field="params.resolution",
                )
            clean["resolution"] = resolution
    elif action == RmaBulkAction.REJECT:
        reason = params.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise ValidationFailed(gettext("give the reason for rejecting"), field="params.reason")
        if len(reason) > MAX_REASON:
            raise ValidationFailed(
                gettext("the reason is longer than %(max)d characters") % {"max": MAX_REASON}, field="params.reason"
            )
        clean["reason"] = reason.strip()
    else:
        kinds = params.get("kinds")
        if isinstance(kinds, str):
            kinds = [k.strip() for k in kinds.split(",") if k.strip()]
        if not isinstance(kinds, list | tuple) or not kinds:
            raise ValidationFailed(gettext("choose the evidence to ask for"), field="params.kinds")
        bad = [k for k in kinds if k not in EvidenceKind.values or k == EvidenceKind.QC_PHOTO]
        if bad:
            raise ValidationFailed(gettext("unknown evidence kind %(value)r") % {"value": bad[0]}, field="params.kinds")
        message = params.get("message") or ""
        if not isinstance(message, str) or len(message) > MAX_MESSAGE:
            raise ValidationFailed(
                gettext("the message must be text of at most %(max)d characters") % {"max": MAX_MESSAGE},
                field="params.message",
            )
        clean["kinds"] = list(dict.fromkeys(kinds))
        clean["message"] = message.strip()
    return clean


def rma_bulk_start(*, user: User, action: str, rma_ids: Sequence[int], params: Mapping[str, Any]) -> RmaBulkJob:
    """Queue `action` over the RMAs `rma_ids` (in that order, duplicates dropped). Every id must be an
    RMA the user may see (else NotFound naming rma_ids, nothing written); the role must allow the
    action. Returns the job; its task starts once this commits."""
    if action not in RmaBulkAction.values:
        raise ValidationFailed(
            gettext("unknown action %(action)r; expected one of %(join)s")
            % {"action": action, "join": ", ".join(RmaBulkAction.values)},
            field="action",
        )
    check_perm(user, ACTION_PERMISSION[RmaBulkAction(action)])
    organization_id = organization_of(user)
    clean = _check_params(action, params)
    ids = list(dict.fromkeys(rma_ids))
    if not ids:
        raise ValidationFailed(gettext("select at least one RMA"), field="rma_ids")
    if len(ids) > MAX_BULK_RMAS:
        raise ValidationFailed(
            gettext("at most %(max)s RMAs per bulk action") % {"max": MAX_BULK_RMAS}, field="rma_ids"
        )
    if any(not isinstance(i, int) or isinstance(i, bool) or not 0 < i <= 2**62 for i in ids):
        raise ValidationFailed(gettext("rma_ids must be positive integer ids"), field="rma_ids")
    visible: set[int] = set()
    for start in range(0, len(ids), 2000):  # bounded IN lists (SQLite's variable limit)
        chunk = ids[start : start + 2000]
        visible.update(Rma.objects.filter(rma_scope_q(user), pk__in=chunk).values_list("pk", flat=True))
    missing = [i for i in ids if i not in visible]
    if missing:
        raise NotFound(gettext("RMA %(id)s not found") % {"id": missing[0]}, field="rma_ids")
    with transaction.atomic():
        job = RmaBulkJob.objects.create(
            organization_id=organization_id, created_by=user, action=action, params=clean, total=len(ids)
        )
        RmaBulkItem.objects.bulk_create(
            [RmaBulkItem(job=job, rma_id=rma_id, position=n) for n, rma_id in enumerate(ids)], batch_size=1000
        )
        events.publish(
            RmaBulkJobCreated(
                job_id=job.pk, organization_id=organization_id, action=action, total=len(ids), actor=Actor.user(user)
            )
        )
    return job


def _apply(job: RmaBulkJob, user: User, rma_id: int) -> None:
    params = job.params or {}
    if job.action == RmaBulkAction.APPROVE:
        rma_services.rma_approve(user=user, rma_id=rma_id, resolution=params.get("resolution") or None)
    elif job.action == RmaBulkAction.REJECT:
        rma_services.rma_reject(user=user, rma_id=rma_id, reason=params["reason"])
    else:
        rma_services.rma_request_evidence(
            user=user, rma_id=rma_id, kinds=list(params["kinds"]), message=params.get("message", "")
        )


def _run_item(job: RmaBulkJob, user: User | None, item: tuple[int, int]) -> None:
    """One item in one transaction: the action (the RMA service's own savepoint rolls it back when it
    fails), then the item's result, written only while the item is still pending. If another worker
    finished the item meanwhile, nothing matches and this transaction (with its action) is rolled
    back: an item is applied once."""
    item_id, rma_id = item
    status, message = RmaBulkItemStatus.OK, ""
    try:
        with transaction.atomic():
            try:
                if user is None:
                    raise NotFound(gettext("the user who started this job no longer exists"), field="created_by")
                _apply(job, user, rma_id)
            except DomainError as exc:
                status, message = RmaBulkItemStatus.ERROR, exc.message
            except Exception:  # a bug on one RMA must not stop the others; the log has the traceback
                logger.exception("bulk RMA action failed", extra={"job_id": job.pk, "rma_id": rma_id})
                status, message = RmaBulkItemStatus.ERROR, gettext("unexpected error (logged)")
            done = RmaBulkItem.objects.filter(pk=item_id, status=RmaBulkItemStatus.PENDING).update(
                status=status, message=message[:300], finished_at=timezone.now()
            )
            if not done:
                raise _AlreadyDone
    except _AlreadyDone:
        pass


class _AlreadyDone(Exception):
    """The item was finished by another run: roll this attempt back."""


def _run_approve_chunk(job: RmaBulkJob, user: User, chunk: Sequence[tuple[int, int]]) -> None:
    """Approve a chunk of items in one transaction through the approval service's batch form
    (returns.rma.rma_approve_many: the RMAs locked in one query, a few statements for the whole
    chunk, one notification task and one write-back task after commit), with the items' results
    written in the same commit. The items are locked first and only the still-pending ones are
    applied (another run finished the others). If the chunk fails as a whole (a bug, a database
    error), it is rolled back and its items run one by one."""
    params = job.params or {}
    try:
        with transaction.atomic():
            pending = dict(
                RmaBulkItem.objects.select_for_update()
                .filter(pk__in=[item_id for item_id, _rma in chunk], status=RmaBulkItemStatus.PENDING)
                .order_by("pk")
                .values_list("rma_id", "pk")
            )
            if not pending:
                return
            outcomes = rma_services.rma_approve_many(
                user=user, rma_ids=list(pending), resolution=params.get("resolution") or None
            )
            failed: dict[str, list[int]] = {}
            for rma_id, outcome in outcomes.items():
                if isinstance(outcome, DomainError):
                    failed.setdefault(outcome.message[:300], []).append(pending[rma_id])
            finished = timezone.now()
            failed_ids = {item_id for ids in failed.values() for item_id in ids}
            RmaBulkItem.objects.filter(pk__in=[i for i in pending.values() if i not in failed_ids]).update(
                status=RmaBulkItemStatus.OK, message="", finished_at=finished
            )
            for message, ids in failed.items():
                RmaBulkItem.objects.filter(pk__in=ids).update(
                    status=RmaBulkItemStatus.ERROR, message=message, finished_at=finished
                )
    except Exception:
        logger.exception("bulk RMA approval chunk failed; running its items one by one", extra={"job_id": job.pk})
        for item in chunk:
            _run_item(job, user, item)


def rma_bulk_run(job_id: int) -> RmaBulkJob:
    """Run a job's pending items in order (safe to run twice: done items are skipped). The actions
    are taken as the user who started the job, whose role the RMA services check per item."""
    job = RmaBulkJob.objects.filter(pk=job_id).first()
    if job is None:
        raise NotFound(gettext("bulk job not found"), field="job_id")
    if job.status == RmaBulkJobStatus.DONE:
        return job
    RmaBulkJob.objects.filter(pk=job.pk, status=RmaBulkJobStatus.QUEUED).update(
        status=RmaBulkJobStatus.RUNNING, started_at=timezone.now()
    )
    user = (
        User.objects.select_related("role", "organization").filter(pk=job.created_by_id).first()
        if job.created_by_id
        else None
    )
    pending = list(
        RmaBulkItem.objects.filter(job=job, status=RmaBulkItemStatus.PENDING)
        .order_by("position")
        .values_list("pk", "rma_id")
    )
    if job.action == RmaBulkAction.APPROVE and user is not None:
        for start in range(0, len(pending), CHUNK):
            _run_approve_chunk(job, user, pending[start : start + CHUNK])
    else:
        for item in pending:
            _run_item(job, user, item)
    if not RmaBulkItem.objects.filter(job=job, status=RmaBulkItemStatus.PENDING).exists():
        RmaBulkJob.objects.filter(pk=job.pk).exclude(status=RmaBulkJobStatus.DONE).update(
            status=RmaBulkJobStatus.DONE, finished_at=timezone.now()
        )
    job.refresh_from_db()
    return job
