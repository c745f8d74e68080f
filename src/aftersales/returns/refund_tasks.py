"""Background work of refunds (Huey): execute an approved refund once, reconcile sent ones with the
platform. Both are safe to run twice (the write-back ledger answers a key it has seen; a settled
refund is left alone)."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from aftersales.channels.base import ConnectorError

from .refunds import refund_execute, refund_reconcile, refunds_to_reconcile, refunds_to_resume

logger = logging.getLogger(__name__)


@db_task(retries=5, retry_delay=60)
def refund_execute_task(refund_id: int) -> str:
    """Transient connector errors propagate so that Huey retries (same key: still one refund)."""
    return str(refund_execute(refund_id=refund_id).status)


@db_periodic_task(crontab(minute="*/15"))
def refunds_reconcile_task() -> int:
    """Settle refunds the platform has not settled yet; resume executions abandoned after transient
    errors (same ledger key: never a second payment)."""
    for refund_id in refunds_to_resume():
        refund_execute_task(refund_id)
    done = 0
    for refund_id in refunds_to_reconcile():
        try:
            refund_reconcile(refund_id=refund_id)
        except ConnectorError:  # the platform is unreachable now: next round
            logger.warning("refund reconciliation failed, will retry", extra={"refund_id": refund_id})
            continue
        done += 1
    return done
