"""Background jobs of the language engine (Huey). Every task is safe to run twice."""

from __future__ import annotations

import logging
from typing import Any

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, on_startup

from aftersales.core.tasks import runs_batches_of

from . import services

logger = logging.getLogger(__name__)


@on_startup()
def preload_language_models() -> None:
    """The worker detects every inbound message's language: load lingua's models once, at startup
    (web processes load them on demand: see detect.detector)."""
    from .detect import preload_detector

    preload_detector()


@db_task(retries=2, retry_delay=30)
def translate_inbound_message(message_id: int) -> str:
    """Detect and translate a new inbound message, then read its attachments (OCR, transcripts).
    A failure is recorded on the message (translation pending), never raised to the inbox."""
    from .attachments import message_extract_attachments

    try:
        state = services.message_translate(message_id=message_id)
        status = state.status
    except Exception:
        logger.exception("inbound translation failed", extra={"message_id": message_id})
        status = "error"
    try:
        message_extract_attachments(message_id=message_id)
    except Exception:
        logger.exception("attachment reading failed", extra={"message_id": message_id})
    return status


@runs_batches_of(translate_inbound_message)
def translate_inbound_messages(arguments: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """translate_inbound_message for the fan-out jobs of many messages: the same translation of each, and
    their attachments read only for the messages that have any (one query for all: reading a message
    without attachments writes nothing)."""
    from aftersales.inbox.models import Attachment

    from .attachments import message_extract_attachments

    ids = [message_id for (message_id,) in arguments]
    with_files = set(Attachment.objects.filter(message_id__in=ids).values_list("message_id", flat=True))
    for message_id in ids:
        try:
            services.message_translate(message_id=message_id)
        except Exception:
            logger.exception("inbound translation failed", extra={"message_id": message_id})
        if message_id in with_files:
            try:
                message_extract_attachments(message_id=message_id)
            except Exception:
                logger.exception("attachment reading failed", extra={"message_id": message_id})
    return []


@db_task(retries=1, retry_delay=30)
def run_translation_job(job_id: int) -> str:
    return services.translation_job_run(job_id).status


@db_periodic_task(crontab(minute="*/5"))
def retry_pending_translations() -> int:
    return services.translations_retry_pending()
