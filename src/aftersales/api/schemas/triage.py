"""Triage: classify one text or a batch (intent, urgency, sentiment, needs-a-human, entities)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema
from pydantic import model_validator

from aftersales.catalog.models import CustomerTier

from .common import InputSchema

_CUSTOMER_ID = (
    "The customer who wrote it (an id in your organization): their tier applies the same rules as for a "
    "stored message (a VIP's problem is one urgency level higher)"
)
_CUSTOMER_TIER = (
    "The customer's tier when there is no customer record: vip, regular, new or at_risk (not with customer_id)"
)


class ClassifyTextIn(InputSchema):
    text: str = Field(..., min_length=1, max_length=10000, description="The buyer's message as written")
    language: str = Field(
        "", max_length=10, description="ISO 639-1 code when known (e.g. from the ticket); empty: detected"
    )
    customer_id: int | None = Field(None, ge=1, description=_CUSTOMER_ID)
    customer_tier: CustomerTier | None = Field(None, description=_CUSTOMER_TIER)


class ClassifyIn(InputSchema):
    """Either `text` (one message, with an optional `language`, `customer_id` or `customer_tier`) or
    `texts` (1 to 100 messages, each with its own)."""

    text: str | None = Field(None, min_length=1, max_length=10000)
    language: str = Field("", max_length=10)
    customer_id: int | None = Field(None, ge=1, description=_CUSTOMER_ID)
    customer_tier: CustomerTier | None = Field(None, description=_CUSTOMER_TIER)
    texts: list[ClassifyTextIn] | None = Field(None, min_length=1, max_length=100)

    @model_validator(mode="after")
    def _one_or_many(self) -> ClassifyIn:
        if (self.text is None) == (self.texts is None):
            raise ValueError("give either text or texts")
        if self.texts is not None and (self.customer_id is not None or self.customer_tier is not None):
            raise ValueError("with texts, give customer_id or customer_tier on each text")
        return self


class EntityOut(Schema):
    type: str = Field(..., description="order_number, tracking_number, imei, asin, sku, item_number or amount")
    value: str = Field(..., description="Exactly text[start:end]")
    start: int
    end: int
    attributes: dict[str, Any] = Field(
        ..., description="platform, carrier, valid (IMEI Luhn), check_digit_ok (S10), currency, amount (decimal string)"
    )


class AlternativeOut(Schema):
    intent: str
    probability: float


class TriageOut(Schema):
    intent: str
    confidence: float = Field(..., description="Calibrated probability of the intent; 1.0 when a rule decided")
    urgency: str = Field(..., description="low, medium or high")
    sentiment: str = Field(..., description="negative, neutral or positive")
    needs_human: bool
    reasons: list[str] = Field(..., description="threat, rule:<name>, abusive, low_confidence")
    entities: list[EntityOut]
    language: str
    model_version: str
    alternatives: list[AlternativeOut] = Field(..., description="The next most likely intents")
    engine: str = Field("local", description='Who classified: "local" or "llm:<model>"')
    engine_note: str = Field(
        "",
        description="Why the LLM provider's answer was not used for this text (invalid, timeout, limit): "
        "the local one was; or, when it was used, which calibration mapped its confidence (the language's own "
        "map, the global map, or none)",
    )


class ClassifyOut(Schema):
    results: list[TriageOut] = Field(..., description="One per text, in the order given")


class TriageSettingsOut(Schema):
    apply_results: bool = Field(
        ..., description="Triage sets a new message's urgency (never lowering a person's), category and order"
    )
    auto_route: bool = Field(..., description="New tickets are routed by skill (team, then agent) after triage")


class TriageSettingsIn(InputSchema):
    """A field left out, or null, keeps its value."""

    apply_results: bool | None = None
    auto_route: bool | None = None


class TicketRouteIn(InputSchema):
    strategy: str | None = Field(None, description="least_loaded or round_robin; default: the chosen team's")


class RoutingDecisionOut(Schema):
    team_id: int | None = Field(..., description="The team chosen (null: no team's scope admits the ticket)")
    assignee_id: int | None = Field(..., description="The agent chosen (null: nobody eligible on shift)")
    strategy: str
    reasons: list[str]


class TriageLLMHeldoutLanguageOut(Schema):
    answered: int
    accuracy: float
    ece_before: float
    ece_after: float


class TriageLLMHeldoutOut(TriageLLMHeldoutLanguageOut):
    examples: int = Field(0, description="Held-out messages sent")
    languages: dict[str, TriageLLMHeldoutLanguageOut] = Field(default_factory=dict)


class TriageLLMCalibrationOut(Schema):
    calibrated_at: datetime | None
    model: str
    split: str = Field(..., description='What it was fitted on: "dev" (the calibration split)')
    examples: int = Field(..., description="Calibration messages sent")
    answered: int = Field(..., description="Valid answers the fit used")
    accuracy: float = Field(..., description="Share of those answers whose intent was right")
    mean_reported: float = Field(..., description="The mean confidence the provider reported")
    ece_before: float = Field(..., description="Expected calibration error of the reported confidence")
    ece_after: float = Field(..., description="... after the mapping (in-sample)")
    points: list[list[float]] = Field(..., description="The global [reported, calibrated] knots, linear in between")
    languages: list[tuple[str, int]] = Field(
        ..., description="[language, answers]: the languages with their own map (the others use the global one)"
    )
    heldout: TriageLLMHeldoutOut | None = Field(
        ..., description="The same on the held-out split, never fitted on: the independent measure"
    )


class TriageLLMProviderOut(Schema):
    is_enabled: bool = Field(..., description="Off: nothing is sent anywhere")
    base_url: str = Field(..., description="The server's API root, e.g. https://api.openai.com/v1")
    model: str
    has_api_key: bool = Field(..., description="Whether a key is stored (encrypted; never returned)")
    timeout_seconds: float
    fields: list[str] = Field(..., description="What it may decide: intent, urgency, sentiment")
    max_per_minute: int
    max_per_day: int
    last_error: str = Field(..., description="Why its last answer was not used (the local result was)")
    last_error_at: datetime | None
    calibration: TriageLLMCalibrationOut | None = Field(
        ...,
        description="How its reported confidence compared with the truth on the held-out split; null: not calibrated "
        "for this base URL and model, so its intent needs uncalibrated_threshold to act without a human",
    )
    calibration_running: bool
    calibration_error: str = Field(..., description="Why the last calibration run did not produce a fit")
    uncalibrated_threshold: float


class TriageLLMProviderIn(InputSchema):
    """A field left out, or null, keeps its value; an empty api_key removes the stored key."""

    is_enabled: bool | None = None
    base_url: str | None = Field(None, max_length=300)
    model: str | None = Field(None, max_length=120)
    api_key: str | None = Field(None, max_length=500)
    timeout_seconds: float | None = None
    fields: list[str] | None = None
    max_per_minute: int | None = None
    max_per_day: int | None = None


class TriageLLMProviderTestIn(InputSchema):
    """Values to test instead of the stored ones (nothing is saved); left out: the stored value. An empty
    or missing api_key uses the stored key."""

    base_url: str | None = Field(None, max_length=300)
    model: str | None = Field(None, max_length=120)
    api_key: str | None = Field(None, max_length=500)
    timeout_seconds: float | None = None


class TriageLLMProviderTestOut(Schema):
    id: int = Field(..., description="Poll GET /triage/llm-provider/test/{id} until status is not running")
    status: str = Field(
        ..., description="running (the worker has not answered yet), done, or stale (no worker answered in 2 min)"
    )
    created_at: datetime
    finished_at: datetime | None
    base_url: str = Field(..., description="The base URL tested")
    ok: bool
    latency_ms: int = Field(..., description="From sending the request to a validated answer (or the failure)")
    model: str = Field(..., description="The model the server says answered; empty when it did not answer")
    configured_model: str
    error_kind: str = Field(
        ...,
        description="auth, timeout, tls, invalid_answer (not the schema), unavailable, refused, rate_limited, "
        "bad_request",
    )
    error: str
    intent: str = Field(..., description="The test message's intent, when it answered")
    confidence: float | None
