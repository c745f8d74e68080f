"""Batch translation from the inbox: "Translate selected" queues a TranslationJob for the selected
tickets; its progress (done / failed counts) is polled by htmx until it is done."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from aftersales.core.errors import DomainError, PermissionDenied, ValidationFailed
from aftersales.language.models import JobStatus
from aftersales.language.selectors import JobProgress, translation_job_progress
from aftersales.language.services import translation_job_create

from ..access import AgentRequest, web_view
from .inbox import parse_ticket_ids


def _status_label(status: str) -> str:
    try:
        return str(JobStatus(status).label)
    except ValueError:
        return status


def _render(request: AgentRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    template = "web/translation_jobs/_job.html" if request.htmx else "web/translation_jobs/page.html"
    return render(request, template, context, status=status)


def _context(progress: JobProgress) -> dict[str, Any]:
    return {"job": progress, "status_label": _status_label(progress.status), "running": progress.status != "done"}


@web_view(methods=("POST",))
def translation_job_create_view(request: AgentRequest) -> HttpResponse:
    try:
        ids = parse_ticket_ids(request.POST.getlist("ticket_ids"))
        if not ids:
            raise ValidationFailed(_("Select the tickets to translate first."), field="ticket_ids")
        job = translation_job_create(user=request.user, ticket_ids=ids)
    except PermissionDenied:
        raise
    except DomainError as exc:
        return _render(request, {"error": exc.message}, status=exc.status_code)
    if not request.htmx:
        return redirect("web:translation_job", job_id=job.pk)
    return _render(request, _context(translation_job_progress(user=request.user, job_id=job.pk)))


@web_view()
def translation_job_view(request: AgentRequest, job_id: int) -> HttpResponse:
    return _render(request, _context(translation_job_progress(user=request.user, job_id=job_id)))
