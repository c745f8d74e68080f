"""The write-back ledger: every call that changes something on a platform (send a message, decide a
return, issue a refund, mark shipped) is written down BEFORE it is made, under an idempotency key
unique per store. Money moves once:

- a second call with the same key returns the recorded outcome and never calls the platform again;
- the row is claimed pending -> sending with a conditional UPDATE, so two workers never both call;
- a permanent error records `failed` with the platform's words; a transient one puts the row back
  to `pending` and re-raises (the caller's task retries; connectors pass the key to platforms that
  take one, so a resend after a lost answer is still one refund there);
- a row left in `sending` (the worker died mid-call) becomes `unknown` (writebacks_mark_unknown):
  a human checks the platform and resolves it (writeback_resolve); it is never resent automatically."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from aftersales.catalog.models import Store
from aftersales.core.actors import Actor
from aftersales.core.clock import now
from aftersales.core.errors import ValidationFailed

from .base import ConnectorError, StoreContext
from .context import store_context
from .models import WriteBack, WriteBackKind, WriteBackStatus

logger = logging.getLogger(__name__)

STALE_SENDING_AFTER = timedelta(minutes=15)


def jsonable(value: Any) -> Any:
    """A dataclass (request or receipt) as JSON: Decimals as strings, bytes summarised (a label's
    PDF is not copied into the ledger), datetimes in ISO 8601."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return {"bytes": len(bytes(value))}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def writeback_perform(
    *,
    store: Store,
    kind: str,
    key: str,
    request: Any,
    actor: Actor,
    call: Callable[[StoreContext], Any],
) -> WriteBack:
    """Record the write-back (store, key), then make `call(ctx)` at most once. Returns the row:
    `succeeded` (external_id and the receipt in `response`), `failed` (permanent error, `detail`),
    or, when another call holds or held it, the recorded state (`sending`, `unknown`...).
    Raises the ConnectorError of a transient failure after putting the row back to `pending`."""
    if kind not in WriteBackKind.values:
        raise ValidationFailed(_("unknown write-back kind %(kind)r") % {"kind": kind}, field="kind")
    if not key or len(key) > 200:
        raise ValidationFailed(_("an idempotency key of 1 to 200 characters is required"), field="idempotency_key")
    row = WriteBack.objects.filter(store=store, idempotency_key=key).first()
    if row is None:
        try:
            with transaction.atomic():
                row = WriteBack.objects.create(
                    organization_id=store.organization_id,
                    store=store,
                    kind=kind,
                    idempotency_key=key,
                    request=jsonable(request),
                    actor_kind=actor.kind,
                    actor_ref=actor.id,
                )
        except IntegrityError:
            row = WriteBack.objects.get(store=store, idempotency_key=key)
    claimed = WriteBack.objects.filter(pk=row.pk, status=WriteBackStatus.PENDING).update(
        status=WriteBackStatus.SENDING, attempts=F("attempts") + 1, started_at=now(), updated_at=now()
    )
    if not claimed:
        row.refresh_from_db()
        return row  # done before, or being done by another worker: never a second call
    log = {"store_id": store.pk, "kind": kind, "writeback_id": row.pk}
    try:
        receipt = call(store_context(store))
    except ConnectorError as exc:
        message = (str(exc) or type(exc).__name__)[:5000]
        if exc.permanent:
            _finish(row, WriteBackStatus.FAILED, detail=message)
            logger.warning("write-back refused by the platform", extra=log)
        else:
            WriteBack.objects.filter(pk=row.pk, status=WriteBackStatus.SENDING).update(
                status=WriteBackStatus.PENDING, detail=message, updated_at=now()
            )
            logger.warning("write-back failed, may be retried", extra=log)
            raise
    except Exception as exc:  # we cannot know whether the platform acted: a human checks
        _finish(row, WriteBackStatus.UNKNOWN, detail=f"unexpected error: {type(exc).__name__}: {exc}"[:5000])
        logger.exception("write-back crashed; outcome unknown", extra=log)
    else:
        state = getattr(receipt, "state", None)
        status = WriteBackStatus.FAILED if str(state) == "failed" else WriteBackStatus.SUCCEEDED
        _finish(
            row,
            status,
            external_id=str(getattr(receipt, "external_id", "") or "")[:200],
            response=jsonable(receipt) if receipt is not None else {},
            detail=str(getattr(receipt, "detail", "") or "")[:5000],
        )
        logger.info("write-back done", extra={**log, "status": status})
    row.refresh_from_db()
    return row


def _finish(row: WriteBack, status: str, *, detail: str = "", external_id: str = "", response: Any = None) -> None:
    fields: dict[str, Any] = {"status": status, "detail": detail, "finished_at": now(), "updated_at": now()}
    if external_id:
        fields["external_id"] = external_id
    if response is not None:
        fields["response"] = response
    WriteBack.objects.filter(pk=row.pk).update(**fields)


def writebacks_mark_unknown(*, older_than: timedelta = STALE_SENDING_AFTER) -> int:
    """Rows left `sending` by a worker that died mid-call become `unknown` (never resent)."""
    return WriteBack.objects.filter(status=WriteBackStatus.SENDING, started_at__lt=now() - older_than).update(
        status=WriteBackStatus.UNKNOWN,
        detail="outcome unknown (the worker stopped during the call); check on the platform",
        updated_at=now(),
    )


def writeback_resolve(*, writeback: WriteBack, succeeded: bool, actor: Actor, external_id: str = "") -> WriteBack:
    """A human checked the platform and says how an `unknown` write-back ended."""
    updated = WriteBack.objects.filter(pk=writeback.pk, status=WriteBackStatus.UNKNOWN).update(
        status=WriteBackStatus.SUCCEEDED if succeeded else WriteBackStatus.FAILED,
        external_id=external_id[:200] or writeback.external_id,
        detail=f"resolved by {actor.kind}:{actor.id}",
        finished_at=now(),
        updated_at=now(),
    )
    if not updated:
        raise ValidationFailed(_("only a write-back whose outcome is unknown can be resolved"), field="status")
    writeback.refresh_from_db()
    return writeback


def writeback_reopen(*, writeback: WriteBack, actor: Actor) -> WriteBack:
    """Allow one more attempt of a write-back the platform refused (`failed`, or `succeeded` whose
    result the platform later reported as failed, e.g. a refund feed that failed processing): the row
    goes back to `pending` under the SAME idempotency key. The caller decides a retry is wanted (a
    refund retried by an approver); `sending` and `unknown` rows are never reopened."""
    updated = WriteBack.objects.filter(
        pk=writeback.pk, status__in=(WriteBackStatus.FAILED, WriteBackStatus.SUCCEEDED)
    ).update(
        status=WriteBackStatus.PENDING,
        detail=f"reopened by {actor.kind}:{actor.id} after: {writeback.detail}"[:5000],
        finished_at=None,
        updated_at=now(),
    )
    if not updated:
        raise ValidationFailed(_("only a failed write-back can be tried again"), field="status")
    writeback.refresh_from_db()
    return writeback
