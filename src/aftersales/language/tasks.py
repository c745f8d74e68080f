"""Background jobs of the language engine (Huey). Every task is safe to run twice."""

from __future__ import annotations

import logging
import os
from typing import Any

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, on_startup

from aftersales.core.tasks import runs_batches_of, write_items

from . import services
from .providers.apertium_pipes import POOL

logger = logging.getLogger(__name__)


@on_startup()
def preload_language_models() -> None:
    """The worker detects every inbound message's language: load lingua's models once, at startup
    (web processes load them on demand: see detect.detector)."""
    from .detect import preload_detector

    preload_detector()


WORKER_APERTIUM_PIPELINES = 4


@on_startup()
def keep_apertium_pipelines() -> None:
    """The worker translates every inbound message: it keeps up to 4 Apertium pipelines running between
    calls (APERTIUM_KEEP_PIPELINES overrides; 0 starts one per call). Web processes keep none by default.
    docs/adr/0048-apertium-pipelines-kept-running.md."""
    if "APERTIUM_KEEP_PIPELINES" not in os.environ:
        POOL.configure(max_kept=WORKER_APERTIUM_PIPELINES)


@db_task(retries=2, retry_delay=30)
def translate_inbound_message(message_id: int) -> str:
    """Detect and translate a new inbound message, then read its attachments (OCR, transcripts).
    A failure is recorded on the message (translation pending), never raised to the inbox.
    (The batch of one of `translate_inbound_messages`.)"""
    try:
        status = _translate([message_id]).get(message_id, "error")
    except Exception:
        logger.exception("inbound translation failed", extra={"message_id": message_id})
        status = "error"
    _read_attachments([message_id])
    return status


@runs_batches_of(translate_inbound_message, own_transactions=True)
def translate_inbound_messages(arguments: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """translate_inbound_message for the fan-out jobs of many messages: translated together, written
    `write_items()` messages per transaction (inbound.messages_translate: if that raises, run_jobs runs
    each job alone through the task)."""
    message_ids = [message_id for (message_id,) in arguments]
    _translate(message_ids, write_items=write_items())
    _read_attachments(message_ids)
    return []


def _translate(message_ids: list[int], *, write_items: int | None = None) -> dict[int, str]:
    """Each message's translation status (a message translated already, by a task delivered before this
    one, is not translated again; a crashed one is logged and left out)."""
    from .inbound import messages_translate

    states = messages_translate(message_ids=message_ids, skip_translated=True, write_items=write_items)
    return {message_id: state.status for message_id, state in states.items()}


def _read_attachments(message_ids: list[int]) -> None:
    """Read the attachments of the messages that have some (one query for all: reading a message
    without attachments writes nothing)."""
    from aftersales.inbox.models import Attachment

    from .attachments import message_extract_attachments

    with_files = set(Attachment.objects.filter(message_id__in=message_ids).values_list("message_id", flat=True))
    for message_id in message_ids:
        if message_id in with_files:
            try:
                message_extract_attachments(message_id=message_id)
            except Exception:
                logger.exception("attachment reading failed", extra={"message_id": message_id})


@db_task(retries=1, retry_delay=30)
def run_translation_job(job_id: int) -> str:
    return services.translation_job_run(job_id).status


@db_periodic_task(crontab(minute="*/5"))
def retry_pending_translations() -> int:
    return services.translations_retry_pending()
