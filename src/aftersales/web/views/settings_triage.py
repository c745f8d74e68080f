"""Settings > Triage and routing: whether triage sets a new message's urgency, category and order on
its ticket, and whether new tickets are routed by skill (administrators; the same services as
GET/PUT /api/v1/triage/settings)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from aftersales.core.errors import ValidationFailed
from aftersales.triage.selectors import llm_provider_settings, triage_settings
from aftersales.triage.services import llm_provider_update, triage_settings_update

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


def _page(request: AgentRequest, *, llm_error: Any = None, typed: Any = None, status: int = 200) -> HttpResponse:
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
    context = {
        "settings_section": "triage",
        "switches": triage_settings(request.user),
        "llm": llm,
        "form": form,
        "llm_error": llm_error,
    }
    return render(request, "triage/settings.html", context, status=status)


def _number(raw: str | None, field: str, kind: type[int] | type[float]) -> Any:
    if raw is None or not raw.strip():
        return None
    try:
        return kind(raw.strip())
    except ValueError:
        raise ValidationFailed(_("not a number"), field=field) from None
