"""Triage listens to the inbox (the inbox does not know about it): each inbound message is classified
by the worker. Handlers enqueue worker tasks (services never import tasks)."""

from aftersales.core.events import subscribe_task
from aftersales.inbox.events import MessageReceived

from . import services
from .events import MessageTriaged


def _run_classification(request_id: int) -> None:
    from .tasks import run_classification

    run_classification(request_id)


def _run_calibration(organization_id: int) -> None:
    from .tasks import calibrate_llm_provider

    calibrate_llm_provider(organization_id)


def _run_connection_test(test_id: int) -> None:
    from .tasks import llm_connection_test

    llm_connection_test(test_id)


# run by the worker in the event's fan-out task (core/events.py subscribe_task)
subscribe_task(MessageReceived, "aftersales.triage.tasks.triage_message", lambda e: (e.message_id,))
# the worker publishes MessageTriaged (the triage of a batch of messages at once): their apply_triage jobs go
# out as fan-out tasks too, which the worker runs together with the other fan-out jobs waiting (core/tasks.py)
subscribe_task(MessageTriaged, "aftersales.triage.tasks.apply_triage", lambda e: (e.message_id,))
# The API's classify request is handed to the worker right after its row is written (not after the
# surrounding transaction: the caller waits for the answer): services.classify_via_worker.
services.register_classification_runner(_run_classification)
services.register_calibration_runner(_run_calibration)
services.register_connection_test_runner(_run_connection_test)
