from __future__ import annotations

import pytest

from aftersales.core.errors import NotFound, PermissionDenied, ValidationFailed
from aftersales.inbox.models import Message, MessageDirection
from aftersales.language.models import JobStatus, TranslationJob
from aftersales.language.selectors import (
    message_translation,
    provider_statuses,
    supported_pairs,
    translation_job_progress,
)
from aftersales.language.services import translation_job_create


def _inbound(ticket, body: str) -> Message:
    return Message.objects.create(
        ticket=ticket, store=ticket.store, direction=MessageDirection.INBOUND, channel=ticket.platform, body=body
    )


def test_batch_job_translates_selected_tickets_with_progress(world, django_capture_on_commit_callbacks) -> None:
    t1, t2 = world.ticket(), world.ticket()
    _inbound(t1, "Hola, mi paquete no ha llegado todavía.")
    _inbound(t1, "¿Pueden ayudarme, por favor?")
    _inbound(t2, "Mein Paket ist nicht angekommen, bitte helfen Sie.")  # de->en: no provider
    with django_capture_on_commit_callbacks(execute=True):
        job = translation_job_create(user=world.agent, ticket_ids=[t1.pk, t2.pk], target_languages=["en"])
    progress = translation_job_progress(user=world.agent, job_id=job.pk)
    assert (progress.status, progress.total, progress.done, progress.failed, progress.percent) == (
        JobStatus.DONE,
        3,
        2,
        1,
        100,
    )
    assert "supported pairs" in progress.errors[0]["error"]
    translated = Message.objects.filter(ticket=t1).first()
    assert translated.translations["en"]["provider"] == "apertium"
    view = message_translation(user=world.agent, message=translated)
    assert view.language == "es" and view.status == "done" and not view.pending


def test_batch_job_checks_scope_and_input(world) -> None:
    with pytest.raises(NotFound):
        translation_job_create(user=world.agent, ticket_ids=[world.foreign_ticket().pk])
    with pytest.raises(ValidationFailed):
        translation_job_create(user=world.agent, ticket_ids=[])
    with pytest.raises(NotFound):
        translation_job_progress(
            user=world.foreign_user, job_id=TranslationJob.objects.create(organization=world.org).pk
        )


def test_running_a_job_twice_does_nothing_more(world, django_capture_on_commit_callbacks) -> None:
    from aftersales.language.services import translation_job_run

    ticket = world.ticket()
    _inbound(ticket, "Hola, mi paquete no ha llegado todavía.")
    with django_capture_on_commit_callbacks(execute=True):
        job = translation_job_create(user=world.agent, ticket_ids=[ticket.pk])
    again = translation_job_run(job.pk)
    assert again.done_count == 1


def test_supported_pairs_and_provider_status(world) -> None:
    pairs = supported_pairs(organization_id=world.org.pk)
    assert "en-es" in pairs and "en-pt" in pairs
    statuses = provider_statuses(user=world.admin, check=True)
    assert statuses[-1].name == "apertium" and statuses[-1].ok
    with pytest.raises(PermissionDenied):
        provider_statuses(user=world.agent)
