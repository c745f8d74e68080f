"""Triage's background jobs (Huey). Both are safe to run twice."""

from __future__ import annotations

import logging
from typing import Any

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, on_startup

from aftersales.core.tasks import runs_batches_of, write_items

from . import services

logger = logging.getLogger(__name__)


@on_startup()
def preload_triage_models() -> None:
    """The worker classifies every inbound message: load the models at startup so the first message is
    not the slow one (a model never built is trained in the background: artifacts.preload). Web processes
    never load them."""
    from .artifacts import preload
    from .embeddings import embed

    preload()
    embed(["warm up"])


@db_task(retries=2, retry_delay=30)
def triage_message(message_id: int) -> str:
    """Classify a new inbound message (skipped when this model version already did)."""
    result = services.message_triage(message_id=message_id)
    return result.intent if result is not None else "skipped"


@runs_batches_of(triage_message, own_transactions=True)
def triage_messages(arguments: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """triage_message for the fan-out jobs of many messages at once: one read, one model call (per
    organization), then the results written `write_items()` messages per transaction (all in one on
    PostgreSQL; SQLite's short worker transactions, ADR 0039)."""
    services.messages_triage(message_ids=[message_id for (message_id,) in arguments], write_items=write_items())
    return []


@db_task(retries=2, retry_delay=30)
def apply_triage(message_id: int) -> str:
    """A message was triaged: set the ticket's urgency, category and order (when the organization
    lets triage apply its results), then route a new ticket (when it turned auto-routing on)."""
    from . import routing

    applied = services.triage_result_apply(message_id=message_id)
    decision = routing.ticket_route_new(message_id=message_id)
    return f"applied={applied is not None} routed={decision is not None}"


@runs_batches_of(apply_triage, own_transactions=True)
def apply_triages(arguments: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """apply_triage for the fan-out jobs of many messages: the batch's facts read once, only the messages
    that change their ticket go through the job's two functions, each write its own transaction as alone
    (services.triage_results_apply_batch). Returns the jobs whose message failed."""
    failed = services.triage_results_apply_batch(message_ids=[message_id for (message_id,) in arguments])
    return [(message_id,) for message_id in failed]


@db_task(retries=0)
def run_classification(request_id: int) -> bool:
    return services.classification_request_run(request_id=request_id)


@db_task(retries=0)
def llm_connection_test(test_id: int) -> bool:
    """An administrator pressed Test connection (services.llm_provider_test_start): one attempt."""
    return services.llm_provider_test_run(test_id=test_id)


@db_task(retries=0)
def calibrate_llm_provider(organization_id: int) -> str:
    """An administrator asked to calibrate the LLM provider (services.llm_provider_calibration_start):
    run it over the held-out split and store the fit, or say on the settings page why not."""
    from aftersales.core.errors import ValidationFailed

    try:
        calibration = services.llm_provider_calibrate(organization_id=organization_id)
    except ValidationFailed as exc:
        services.llm_provider_calibration_failed(organization_id=organization_id, error=str(exc.message))
        return "failed"
    except Exception as exc:
        services.llm_provider_calibration_failed(organization_id=organization_id, error=f"{type(exc).__name__}: {exc}")
        raise
    return f"calibrated on {calibration['answered']} answers"


@db_periodic_task(crontab(minute="17", hour="*/6"))
def prune_classification_requests() -> int:
    return services.classification_requests_prune()
