"""Triage (docs/triage.md). The models live in the worker: this endpoint writes the request and waits
for the worker's answer (up to TRIAGE_API_TIMEOUT seconds, then 503), so a web process never loads
them (issue 13's memory budget)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status

from aftersales.inbox.selectors import ticket_get
from aftersales.triage.routing import ticket_route
from aftersales.triage.selectors import llm_connection_test_get, llm_provider_settings, triage_settings
from aftersales.triage.services import (
    ClassifyItem,
    classify_via_worker,
    llm_provider_calibration_start,
    llm_provider_test_start,
    llm_provider_update,
    triage_settings_update,
)

from ..auth import current_user
from ..schemas.common import ErrorOut, Id, with_errors
from ..schemas.triage import (
    ClassifyIn,
    ClassifyOut,
    RoutingDecisionOut,
    TicketRouteIn,
    TriageLLMProviderIn,
    TriageLLMProviderOut,
    TriageLLMProviderTestIn,
    TriageLLMProviderTestOut,
    TriageSettingsIn,
    TriageSettingsOut,
)

router = Router(tags=["triage"])


@router.post("/triage/classify", response=with_errors({200: ClassifyOut, 503: ErrorOut}))
def classify(request: HttpRequest, payload: ClassifyIn) -> Any:
    """Intent, confidence, urgency, sentiment, needs-a-human with reasons, entities with offsets and
    the language of one text (`text`) or of up to 100 (`texts`). An optional `customer_id` (or
    `customer_tier`) per text applies the same rules as for the customer's stored message (VIP
    urgency). Needs the view permission."""
    if payload.texts is not None:
        items = [
            ClassifyItem(
                text=t.text,
                language=t.language,
                customer_id=t.customer_id,
                customer_tier=t.customer_tier.value if t.customer_tier else "",
            )
            for t in payload.texts
        ]
    else:
        tier = payload.customer_tier.value if payload.customer_tier else ""
        items = [
            ClassifyItem(
                text=payload.text or "",
                language=payload.language,
                customer_id=payload.customer_id,
                customer_tier=tier,
                field="",
            )
        ]
    return {"results": classify_via_worker(user=current_user(request), items=items)}


@router.get("/triage/settings", response=with_errors({200: TriageSettingsOut}))
def get_triage_settings(request: HttpRequest) -> Any:
    """Whether triage applies its results to tickets and whether new tickets are routed by skill.
    Admins only."""
    return triage_settings(current_user(request))


@router.put("/triage/settings", response=with_errors({200: TriageSettingsOut}))
def put_triage_settings(request: HttpRequest, payload: TriageSettingsIn) -> Any:
    """Turn triage's own changes (default on) and auto-routing (default off) on or off. Admins only."""
    return triage_settings_update(user=current_user(request), **payload.dict())


@router.get("/triage/llm-provider", response=with_errors({200: TriageLLMProviderOut}))
def get_llm_provider(request: HttpRequest) -> Any:
    """The optional LLM classification provider (an OpenAI-compatible Chat Completions server).
    The API key is never returned. Admins only."""
    return llm_provider_settings(current_user(request))


@router.put("/triage/llm-provider", response=with_errors({200: TriageLLMProviderOut}))
def put_llm_provider(request: HttpRequest, payload: TriageLLMProviderIn) -> Any:
    """Configure the LLM provider: base URL, model, API key (encrypted at rest), timeout, the fields
    it may decide, per-minute and per-day limits, on/off. Admins only."""
    user = current_user(request)
    llm_provider_update(user=user, **payload.dict())
    return llm_provider_settings(user)


@router.post("/triage/llm-provider/test", response=with_errors({202: TriageLLMProviderTestOut, 503: ErrorOut}))
def test_llm_provider(request: HttpRequest, payload: TriageLLMProviderTestIn) -> Any:
    """Start a connection test in the worker: one tiny classification sent to the provider (the stored
    settings, or the values given, unsaved). Answers at once (202, status running); poll
    GET /triage/llm-provider/test/{id} for the latency, the model that answered and a precise error:
    auth, timeout, tls, invalid_answer (the answer does not follow the schema), ... One attempt; the
    provider's settings are not changed. Admins only."""
    return Status(202, llm_provider_test_start(user=current_user(request), **payload.dict()))


@router.get("/triage/llm-provider/test/{test_id}", response=with_errors({200: TriageLLMProviderTestOut}))
def get_llm_provider_test(request: HttpRequest, test_id: Id) -> Any:
    """A connection test of the organization (running, done or stale) with its result. Admins only."""
    return llm_connection_test_get(current_user(request), test_id)


@router.post("/triage/llm-provider/calibrate", response=with_errors({202: TriageLLMProviderOut, 409: ErrorOut}))
def calibrate_llm_provider(request: HttpRequest) -> Any:
    """Start calibrating the provider in the worker: it classifies the corpus's calibration split (no
    customer data; not counted against the limits) and fits how often each reported confidence is
    right, per language where there are enough answers, then measures that on the held-out split;
    `calibration` shows the result when done. 409 while a run is under way. Admins only."""
    user = current_user(request)
    llm_provider_calibration_start(user=user)
    return Status(202, llm_provider_settings(user))


@router.post("/tickets/{ticket_id}/route", response=with_errors({200: RoutingDecisionOut}))
def route_ticket(request: HttpRequest, ticket_id: Id, payload: TicketRouteIn) -> Any:
    """Route the ticket by skill now: the team whose scope fits best, then an eligible agent on shift
    (least loaded or round robin). Needs the process permission; returns the decision and its reasons."""
    user = current_user(request)
    return ticket_route(ticket=ticket_get(user, ticket_id), actor=user, strategy=payload.strategy)
