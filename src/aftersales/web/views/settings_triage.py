"""Settings > Triage and routing: whether triage sets a new message's urgency, category and order on
its ticket, and whether new tickets are routed by skill (administrators; the same services as
GET/PUT /api/v1/triage/settings)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from aftersales.core.errors import Conflict, ValidationFailed
from aftersales.triage.selectors import (
    llm_connection_test_get,
    llm_connection_test_latest,
    llm_provider_settings,
    triage_settings,
)
from aftersales.triage.services import (
    TriageUnavailable,
    llm_provider_calibration_start,
    llm_provider_test_start,
    llm_provider_update,
    triage_settings_update,
)

from ..access import AgentRequest, web_view


@web_view(methods=("GET", "POST"))
def settings_triage(request: AgentRequest) -> HttpResponse:
    """The two switches; POST saves them (an unchecked box is off)."""
    if request.method == "GET":
        return _page(request)
    triage_settings_update(
        user=request.user,
        apply_results=request.POST.get("apply_results") == "on",
        auto_route=request.POST.get("auto_route") == "on",
    )
    messages.success(request, _("Triage and routing settings saved."))
    return redirect("web:settings_triage")


@web_view(methods=("POST",))
def settings_triage_llm(request: AgentRequest) -> HttpResponse:
    """Save the LLM classification provider (the same service as PUT /api/v1/triage/llm-provider).
    An empty key field keeps the stored key unless "remove the key" is ticked."""
    post = request.POST
    api_key = post.get("api_key", "").strip() or None
    if post.get("remove_api_key") == "on":
        api_key = ""
    try:
        llm_provider_update(
            user=request.user,
            is_enabled=post.get("is_enabled") == "on",
            base_url=post.get("base_url", ""),
            model=post.get("model", ""),
            api_key=api_key,
            timeout_seconds=_number(post.get("timeout_seconds"), "timeout_seconds", float),
            fields=post.getlist("fields"),
            max_per_minute=_number(post.get("max_per_minute"), "max_per_minute", int),
            max_per_day=_number(post.get("max_per_day"), "max_per_day", int),
        )
    except ValidationFailed as exc:  # the page again with what was typed (never the key) and the error
        return _page(request, llm_error=exc, typed=post, status=422)
    messages.success(request, _("LLM provider settings saved."))
    return redirect("web:settings_triage")


@web_view(methods=("POST",))
def settings_triage_llm_test(request: AgentRequest) -> HttpResponse:
    """Test connection with the values in the form (unsaved; an empty key field uses the stored key),
    the same service as POST /api/v1/triage/llm-provider/test: the worker sends it, this request only
    writes it. htmx swaps in the running test, which polls settings_triage_llm_test_result; without
    JavaScript the page comes back with what was typed and the running test (reload to see it end)."""
    post = request.POST
    try:
        test = llm_provider_test_start(
            user=request.user,
            base_url=post.get("base_url", ""),
            model=post.get("model", ""),
            api_key=post.get("api_key", "").strip() or None,
            timeout_seconds=_number(post.get("timeout_seconds"), "timeout_seconds", float),
        )
    except (ValidationFailed, TriageUnavailable) as exc:
        if request.headers.get("HX-Request"):
            return render(request, "triage/_llm_test.html", {"test_error": exc}, status=exc.status_code)
        return _page(request, llm_error=exc, typed=post, status=exc.status_code)
    if request.headers.get("HX-Request"):
        return render(request, "triage/_llm_test.html", {"test": test, "test_title": _test_title(test)})
    return _page(request, typed=post, test=test)


@web_view(methods=("GET",))
def settings_triage_llm_test_result(request: AgentRequest, test_id: int) -> HttpResponse:
    """The connection test's state, polled by the page while it runs (administrators, own organization)."""
    test = llm_connection_test_get(request.user, test_id)
    return render(request, "triage/_llm_test.html", {"test": test, "test_title": _test_title(test)})


@web_view(methods=("POST",))
def settings_triage_llm_calibrate(request: AgentRequest) -> HttpResponse:
    """Start calibrating the saved provider in the worker (the same service as
    POST /api/v1/triage/llm-provider/calibrate)."""
    try:
        llm_provider_calibration_start(user=request.user)
    except (ValidationFailed, Conflict, TriageUnavailable) as exc:  # refusals go to the error page
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Calibration started: the result appears here when the worker has finished."))
    return redirect("web:settings_triage")


def _test_title(result: Any) -> str:
    """What a connection test's failure was, in the admin's words."""
    if result.status == "running":
        return str(_("Testing the connection…"))
    if result.status == "stale":
        return str(_("No answer from the worker: it may not be running. Try again later."))
    if result.ok:
        return str(_("Connection works"))
    titles = {
        "auth": _("Authentication failed (check the API key)"),
        "timeout": _("Timed out"),
        "tls": _("TLS failed (certificate or https)"),
        "invalid_answer": _("The answer does not follow the schema"),
        "unavailable": _("Cannot reach the server"),
        "refused": _("This address is not allowed"),
        "rate_limited": _("Rate limited by the provider"),
        "bad_request": _("The server refused the request (check the model name)"),
    }
    return str(titles.get(result.error_kind, _("The test failed")))


def _page(
    request: AgentRequest, *, llm_error: Any = None, typed: Any = None, status: int = 200, test: Any = None
) -> HttpResponse:
    llm = llm_provider_settings(request.user)
    form = {
        "is_enabled": llm.is_enabled,
        "base_url": llm.base_url,
        "model": llm.model,
        "timeout_seconds": llm.timeout_seconds,
        "fields": llm.fields or ("intent", "urgency", "sentiment"),
        "max_per_minute": llm.max_per_minute,
        "max_per_day": llm.max_per_day,
    }
    if typed is not None:
        form.update({k: typed.get(k, "") for k in ("base_url", "model", "timeout_seconds", "max_per_minute")})
        form.update(is_enabled=typed.get("is_enabled") == "on", fields=tuple(typed.getlist("fields")))
        form["max_per_day"] = typed.get("max_per_day", "")
    if test is None:
        test = llm_connection_test_latest(request.user)
    context = {
        "settings_section": "triage",
        "switches": triage_settings(request.user),
        "llm": llm,
        "form": form,
        "llm_error": llm_error,
        "test": test,
        "test_title": _test_title(test) if test is not None else "",
    }
    return render(request, "triage/settings.html", context, status=status)


def _number(raw: str | None, field: str, kind: type[int] | type[float]) -> Any:
    if raw is None or not raw.strip():
        return None
    try:
        return kind(raw.strip())
    except ValueError:
        raise ValidationFailed(_("not a number"), field=field) from None
