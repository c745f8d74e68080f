"""Periodic tracking work: register new shipments with each active account's provider, poll the
due ones, and process pushes left unprocessed by a crash. Every step claims its rows with a
conditional update, so two workers (or a run repeated) do the work once."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from aftersales.channels.base import ConnectorError

from .selectors import active_tracking_account_ids
from .services import shipments_register, tracking_poll, tracking_pushes_process_pending

logger = logging.getLogger(__name__)


@db_task()
def tracking_account_sync(account_id: int) -> None:
    """Register then poll one account. A provider error is kept on the account (shown in the
    settings) and logged; the next sweep tries again."""
    try:
        shipments_register(account_id=account_id)
        tracking_poll(account_id=account_id)
    except ConnectorError as exc:
        logger.warning("tracking sync failed", extra={"account_id": account_id, "code": exc.code})


@db_periodic_task(crontab(minute="*/15"))
def tracking_sweep() -> None:
    for account_id in active_tracking_account_ids():
        tracking_account_sync.call_local(account_id)
    tracking_pushes_process_pending()
