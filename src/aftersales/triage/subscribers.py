"""Triage listens to the inbox (the inbox does not know about it): each inbound message is classified
by the worker. Handlers enqueue worker tasks (services never import tasks)."""

from aftersales.core.events import subscribe
from aftersales.inbox.events import MessageReceived

from . import services
from .events import MessageTriaged


def _on_message_received(event: MessageReceived) -> None:
    from .tasks import triage_message

    triage_message(event.message_id)


def _on_message_triaged(event: MessageTriaged) -> None:
    from .tasks import apply_triage

    apply_triage(event.message_id)


def _run_classification(request_id: int) -> None:
    from .tasks import run_classification

    run_classification(request_id)


subscribe(MessageReceived, _on_message_received)
subscribe(MessageTriaged, _on_message_triaged)
# The API's classify request is handed to the worker right after its row is written (not after the
# surrounding transaction: the caller waits for the answer): services.classify_via_worker.
services.register_classification_runner(_run_classification)
