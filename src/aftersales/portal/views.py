"""Customer-facing pages (no login). The CSAT rating page: the signed link is the only key; the
page speaks the buyer's language (the survey's), right to left for Arabic; every request counts
against a per-address budget."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from aftersales.core.errors import DomainError
from aftersales.followups import texts
from aftersales.followups.selectors import SurveyPage, survey_page
from aftersales.followups.services import csat_rate

from .throttle import over_budget

STATUS = {"open": 200, "invalid": 400, "expired": 410}


def _render(request: HttpRequest, page: SurveyPage, *, status: int | None = None, **extra: Any) -> HttpResponse:
    t = texts.TEXTS.get(page.language, texts.TEXTS[texts.DEFAULT])
    context = {
        "page": page,
        "t": t,
        "ratings": [(n, t[f"rating_{n}"]) for n in range(1, 6)],
        "your_rating": texts.text(page.language, "your_rating", isolate=True, rating=page.rating)
        if page.rating
        else "",
        "change_until": texts.text(page.language, "change_until", isolate=True, day=page.expires_at.date().isoformat())
        if page.expires_at
        else "",
        **extra,
    }
    response = render(request, "portal/csat.html", context, status=status or STATUS[page.state])
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"  # the token is in the address: never sent to another site
    response["X-Robots-Tag"] = "noindex"
    return response


@require_http_methods(["GET", "POST"])
def csat_page(request: HttpRequest, token: str) -> HttpResponse:
    hint = request.headers.get("Accept-Language", "")
    if over_budget(request, scope="csat"):
        language = texts.buyer_language(hint)
        return _render(request, SurveyPage("limited", language, texts.is_rtl(language)), status=429)
    if request.method == "GET":
        return _render(request, survey_page(token, language_hint=hint))
    try:
        csat_rate(token=token, rating=request.POST.get("rating", ""), comment=request.POST.get("comment", ""))
    except DomainError as exc:
        page = survey_page(token, language_hint=hint)
        if page.state != "open":
            return _render(request, page)
        return _render(request, page, status=exc.status_code, error_field=exc.field, error_text=page_error(page, exc))
    return _render(request, survey_page(token, language_hint=hint), saved=True)


def page_error(page: SurveyPage, exc: DomainError) -> str:
    """The refusal in the buyer's language when it is about the rating; else the service's words."""
    return texts.text(page.language, "rating_error") if exc.field == "rating" else exc.message
