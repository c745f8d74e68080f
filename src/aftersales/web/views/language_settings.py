"""Translation settings (administrators): glossary CSV import (all rows or none, the bad rows
named) and export, the providers' health, each provider's settings (saved or tested through the
services the API uses: provider_config_save, provider_config_test) and the routes
(translation_route_set). Nothing needs the Django admin: organization admins are not staff."""

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
from aftersales.language.services import (
    glossary_import_csv,
    provider_config_save,
    provider_config_test,
    translation_route_set,
)

from ..access import AgentRequest, web_view
from ..translation_settings import (
    glossary_errors,
    parse_priority,
    parse_route_form,
    provider_arguments,
    provider_form_values,
    provider_forms,
)
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


@web_view(methods=("POST",))
def translation_provider_save_view(request: AgentRequest) -> HttpResponse:
    """Save a provider (button "save") or call it once with the values typed (button "test"):
    the test writes nothing. Errors are shown next to their field, what was typed kept (never
    the key)."""
    check_perm(request.user, Permission.ADMINISTER)
    form = provider_form_values(request.POST)
    try:
        kwargs = provider_arguments(form, request.POST)
        if request.POST.get("action") == "test":
            health = provider_config_test(user=request.user, **{**kwargs, "credentials": kwargs["credentials"] or None})
            context = settings_context(request, provider_forms=provider_forms(request.user, form, test=health))
            return render(request, "web/settings/page.html", context)
        config = provider_config_save(
            user=request.user,
            is_enabled=form.enabled,
            priority=parse_priority(form),
            merge_credentials=True,
            merge_options=True,
            **kwargs,
        )
    except PermissionDenied:
        raise
    except DomainError as exc:
        field = (exc.field or "name").removeprefix("options.")
        forms = provider_forms(request.user, form, errors={field: exc.message})
        context = settings_context(request, provider_forms=forms)
        return render(request, "web/settings/page.html", context, status=exc.status_code)
    messages.success(request, _("Provider “%(name)s” saved.") % {"name": config.name})
    return redirect(reverse("web:settings") + "#translation-providers-settings")


@web_view(methods=("POST",))
def translation_route_save_view(request: AgentRequest) -> HttpResponse:
    """Set (or, with no provider, remove) the fallback chain of a pair."""
    check_perm(request.user, Permission.ADMINISTER)
    values = parse_route_form(request.POST)
    try:
        translation_route_set(user=request.user, **values)
    except PermissionDenied:
        raise
    except DomainError as exc:
        context = settings_context(request, route_form=values, route_error=exc.message)
        return render(request, "web/settings/page.html", context, status=exc.status_code)
    if values["provider_names"]:
        messages.success(request, _("Route saved."))
    else:
        messages.success(request, _("Route removed: the default chain applies to this pair."))
    return redirect(reverse("web:settings") + "#translation-routes")
