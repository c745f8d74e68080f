"""The language engine listens to inbox events (the inbox does not know about it) and to its own:
services publish events, subscribers enqueue the worker's tasks (so services never import tasks)."""

from aftersales.core.events import subscribe
from aftersales.inbox.events import MessageReceived

from .events import TranslationJobCreated


def _on_message_received(event: MessageReceived) -> None:
    from .tasks import translate_inbound_message

    translate_inbound_message(event.message_id)


def _on_job_created(event: TranslationJobCreated) -> None:
    from .tasks import run_translation_job

    run_translation_job(event.job_id)


subscribe(MessageReceived, _on_message_received)
subscribe(TranslationJobCreated, _on_job_created)
