"""The decisions after the models (pure: takes probabilities, returns a TriageOutput): threat rules
beat everything, insults need a human, safety hazards and VIPs raise urgency, low confidence needs a
human. Shared by run time (triage.classify) and training (the threshold is chosen with this code)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from .entities import Entity, extract_entities
from .labels import (
    NON_PROBLEM_INTENTS,
    REASON_ABUSIVE,
    REASON_LOW_CONFIDENCE,
    REASON_THREAT,
    Intent,
)
from .lexicon import scan


class Models(Protocol):
    version: str

    def probabilities(self, features: dict[str, Any], head: str) -> dict[str, np.ndarray]: ...

    def classes(self, head: str) -> tuple[str, ...]: ...

    def kind_for(self, language: str, head: str) -> str: ...


_URGENCY_UP = {"low": "medium", "medium": "high", "high": "high"}


@dataclass(frozen=True)
class Context:
    """What the inbox knows beside the text."""

    customer_tier: str = ""
    platform: str = ""


@dataclass(frozen=True)
class TriageOutput:
    intent: str
    confidence: float
    urgency: str
    sentiment: str
    needs_human: bool
    reasons: tuple[str, ...]
    entities: tuple[Entity, ...]
    language: str
    model_version: str
    alternatives: tuple[tuple[str, float], ...] = field(default=())  # next most likely intents

    def as_dict(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "confidence": self.confidence,
            "urgency": self.urgency,
            "sentiment": self.sentiment,
            "needs_human": self.needs_human,
            "reasons": list(self.reasons),
            "entities": [e.as_dict() for e in self.entities],
            "language": self.language,
            "model_version": self.model_version,
            "alternatives": [{"intent": i, "probability": p} for i, p in self.alternatives],
        }


def combine(
    bundle: Models,
    texts: Sequence[str],
    languages: Sequence[str],
    features: dict[str, Any],
    *,
    threshold: float,
    contexts: Sequence[Context] | None = None,
) -> list[TriageOutput]:
    probabilities = {head: bundle.probabilities(features, head) for head in ("intent", "urgency", "sentiment")}
    outputs = []
    for i, text in enumerate(texts):
        language = languages[i]
        picked = {}
        for head in ("intent", "urgency", "sentiment"):
            p = probabilities[head][bundle.kind_for(language, head)][i]
            picked[head] = (bundle.classes(head), p)
        intent_classes, intent_p = picked["intent"]
        order = intent_p.argsort()[::-1]
        intent, confidence = intent_classes[order[0]], float(intent_p[order[0]])
        alternatives = tuple((intent_classes[j], round(float(intent_p[j]), 3)) for j in order[1:3])
        urgency_classes, urgency_p = picked["urgency"]
        urgency = urgency_classes[int(urgency_p.argmax())]
        sentiment_classes, sentiment_p = picked["sentiment"]
        sentiment = sentiment_classes[int(sentiment_p.argmax())]

        reasons: list[str] = []
        hits = scan(text)
        if hits.threats:
            intent, confidence = Intent.CHARGEBACK_DISPUTE_THREAT.value, 1.0
            reasons.append(REASON_THREAT)
            reasons.extend(f"rule:{name}" for name in hits.threats)
        elif intent == Intent.CHARGEBACK_DISPUTE_THREAT:
            reasons.append(REASON_THREAT)
        if intent == Intent.CHARGEBACK_DISPUTE_THREAT:
            urgency, sentiment = "high", "negative"
        if hits.abusive:
            reasons.append(REASON_ABUSIVE)
        if hits.safety:
            urgency = "high"
        context = contexts[i] if contexts is not None else None
        if context is not None and context.customer_tier == "vip" and intent not in NON_PROBLEM_INTENTS:
            urgency = _URGENCY_UP[urgency]
        if confidence < threshold:
            reasons.append(REASON_LOW_CONFIDENCE)
        outputs.append(
            TriageOutput(
                intent=intent,
                confidence=round(confidence, 4),
                urgency=urgency,
                sentiment=sentiment,
                needs_human=bool(reasons),
                reasons=tuple(reasons),
                entities=tuple(extract_entities(text)),
                language=language,
                model_version=bundle.version,
                alternatives=alternatives,
            )
        )
    return outputs
