"""The language engine listens to inbox events (the inbox does not know about it) and to its own:
services publish events, subscribers enqueue the worker's tasks (so services never import tasks)."""

from aftersales.core.events import subscribe, subscribe_task
from aftersales.inbox.events import MessageReceived

from .events import TranslationJobCreated


def _on_job_created(event: TranslationJobCreated) -> None:
    from .tasks import run_translation_job

    run_translation_job(event.job_id)


# run by the worker in the event's fan-out task (core/events.py subscribe_task)
subscribe_task(MessageReceived, "aftersales.language.tasks.translate_inbound_message", lambda e: (e.message_id,))
subscribe(TranslationJobCreated, _on_job_created)
