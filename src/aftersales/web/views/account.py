"""Sign-in and sign-out (Django's auth views with our templates), and the user's settings:
UI language, personal API tokens, and (administrators) the translation settings."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aftersales.accounts.selectors import api_tokens_of
from aftersales.accounts.services import (
    TOKEN_DEFAULT_SCOPES,
    api_token_create,
    api_token_revoke,
    user_set_language,
)
from aftersales.core.errors import DomainError, ValidationFailed

from ..access import AgentRequest, web_view
from ..forms import LanguageForm, TokenCreateForm, first_error
from ..translation_settings import translation_settings


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True


def login_locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """The page a locked-out sign-in gets (ours and the Django admin's): django-axes calls it
    (AXES_LOCKOUT_CALLABLE) instead of its own plain-text answer. 429, and no hint whether the
    password was right."""
    cool_off = settings.AXES_COOLOFF_TIME
    minutes = int(cool_off.total_seconds() // 60) if isinstance(cool_off, timedelta) else 0
    response = render(request, "web/login_locked.html", {"minutes": minutes}, status=429)
    if minutes:
        response["Retry-After"] = str(minutes * 60)
    return response


class LogoutView(auth_views.LogoutView):
    http_method_names = ["post", "options"]


def settings_context(request: AgentRequest, **extra: Any) -> dict[str, Any]:
    return {
        "language_form": LanguageForm(initial={"language": request.user.language}),
        "token_form": TokenCreateForm(),
        "tokens": list(api_tokens_of(request.user)),
        "errors": {},
        **translation_settings(request.user),
        **extra,
    }


@web_view()
def settings_page(request: AgentRequest) -> HttpResponse:
    return render(request, "web/settings/page.html", settings_context(request))


@web_view(methods=("POST",))
def settings_language(request: AgentRequest) -> HttpResponse:
    try:
        user_set_language(user=request.user, language=request.POST.get("language", ""))
    except DomainError as exc:
        context = settings_context(request, errors={"language": exc.message})
        return render(request, "web/settings/page.html", context, status=exc.status_code)
    translation.activate(request.user.language)
    messages.success(request, _("Language saved."))
    return redirect("web:settings")


@web_view(methods=("POST",))
def token_create(request: AgentRequest) -> HttpResponse:
    """Create an API token; the raw secret is shown in this response only."""
    form = TokenCreateForm(request.POST)
    try:
        if not form.is_valid():
            name, message = first_error(form)
            raise ValidationFailed(message, field=name)
        expires_on = form.cleaned_data["expires_on"]
        expires_at = (
            datetime.combine(expires_on, time.min, tzinfo=timezone.get_current_timezone()) if expires_on else None
        )
        token, raw = api_token_create(
            user=request.user,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"] or TOKEN_DEFAULT_SCOPES,
            expires_at=expires_at,
        )
    except DomainError as exc:
        context = settings_context(request, token_form=form, errors={exc.field or "name": exc.message})
        return render(request, "web/settings/page.html", context, status=exc.status_code)
    return render(request, "web/settings/page.html", settings_context(request, new_token=token, raw_token=raw))


@web_view(methods=("POST",))
def token_revoke(request: AgentRequest, token_id: int) -> HttpResponse:
    api_token_revoke(user=request.user, token_id=token_id)  # NotFound (-> 404) unless the user's own
    messages.success(request, _("Token revoked."))
    return redirect("web:settings")
