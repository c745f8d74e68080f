"""Translation settings (administrators): glossary CSV import (all rows or none, the bad rows
named) and export, and the providers' health. Provider credentials and routes are edited in the
Django admin, which the page links to."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm
from aftersales.core.errors import DomainError, PermissionDenied, ValidationFailed
from aftersales.language.selectors import glossary_export, provider_statuses
from aftersales.language.services import glossary_import_csv

from ..access import AgentRequest, web_view
from ..translation_settings import glossary_errors
from .account import settings_context

MAX_GLOSSARY_BYTES = 5 * 1024 * 1024


@web_view(methods=("POST",))
def glossary_import_view(request: AgentRequest) -> HttpResponse:
    check_perm(request.user, Permission.ADMINISTER)
    try:
        try:
            upload = request.FILES.get("file")
        except MultiPartParserError:  # e.g. multipart/form-data without a boundary
            raise ValidationFailed(_("The upload could not be read; choose the file again."), field="file") from None
        if upload is None:
            raise ValidationFailed(_("Choose a CSV file to import."), field="file")
        content = upload.read(MAX_GLOSSARY_BYTES + 1)
        if len(content) > MAX_GLOSSARY_BYTES:
            raise ValidationFailed(_("The file is larger than 5 MB."), field="file")
        result = glossary_import_csv(user=request.user, content=content)
    except PermissionDenied:
        raise
    except DomainError as exc:
        headline, rows = glossary_errors(exc.message)
        context = settings_context(request, glossary_error=headline, glossary_row_errors=rows)
        return render(request, "web/settings/page.html", context, status=exc.status_code)
    messages.success(
        request,
        _("Glossary imported: %(created)d new terms, %(updated)d updated.")
        % {"created": result.created, "updated": result.updated},
    )
    return redirect(reverse("web:settings") + "#translation")


@web_view()
def glossary_export_view(request: AgentRequest) -> HttpResponse:
    content = glossary_export(user=request.user)  # PermissionDenied (-> 403) unless an admin
    response = HttpResponse("\ufeff" + content, content_type="text/csv; charset=utf-8")
    slug = getattr(request.user.organization, "slug", "") or "organization"
    response["Content-Disposition"] = f'attachment; filename="glossary-{slug}.csv"'
    return response


@web_view()
def translation_providers_view(request: AgentRequest) -> HttpResponse:
    """The providers, each one called once to check it (htmx loads this after the page)."""
    providers = provider_statuses(user=request.user, check=True)
    if request.htmx:
        return render(request, "web/settings/_providers.html", {"providers": providers, "providers_checked": True})
    context = settings_context(request, providers=providers, providers_checked=True)
    return render(request, "web/settings/page.html", context)
