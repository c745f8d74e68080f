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
class Labels:
    """What a classifier (the local models or an LLM provider) said, before the rules."""

    intent: str
    confidence: float
    urgency: str
    sentiment: str


@dataclass(frozen=True)
class Decided:
    labels: Labels
    reasons: tuple[str, ...]

    def output(self, *, engine: str = "local", **rest: Any) -> TriageOutput:
        """The TriageOutput of these decisions (entities, language, versions and alternatives in `rest`)."""
        return TriageOutput(
            intent=self.labels.intent,
            confidence=round(self.labels.confidence, 4),
            urgency=self.labels.urgency,
            sentiment=self.labels.sentiment,
            needs_human=bool(self.reasons),
            reasons=self.reasons,
            engine=engine,
            **rest,
        )


def apply_rules(text: str, labels: Labels, *, context: Context | None, threshold: float) -> Decided:
    """The decisions after a classifier, the same for the local models and an LLM provider: threat
    rules beat everything, insults need a human, safety hazards and VIPs raise urgency, an intent
    under the threshold needs a human."""
    intent, confidence, urgency, sentiment = labels.intent, labels.confidence, labels.urgency, labels.sentiment
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
    if context is not None and context.customer_tier == "vip" and intent not in NON_PROBLEM_INTENTS:
        urgency = _URGENCY_UP[urgency]
    if confidence < threshold:
        reasons.append(REASON_LOW_CONFIDENCE)
    return Decided(Labels(intent, confidence, urgency, sentiment), tuple(reasons))


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
    model_labels: Labels | None = None  # the classifier's labels before the rules
    engine: str = "local"  # who classified: "local" or "llm:<model>"

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
            "engine": self.engine,
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

        context = contexts[i] if contexts is not None else None
        decided = apply_rules(
            text,
            Labels(intent, confidence, urgency, sentiment),
            context=context,
            threshold=threshold,
        )
        outputs.append(
            decided.output(
                entities=tuple(extract_entities(text)),
                language=language,
                model_version=bundle.version,
                alternatives=alternatives,
                model_labels=Labels(intent, confidence, urgency, sentiment),
            )
        )
    return outputs


def with_provider_labels(
    output: TriageOutput,
    text: str,
    labels: Labels,
    *,
    fields: Sequence[str],
    context: Context | None,
    threshold: float,
    engine: str,
) -> TriageOutput:
    """The local output with the fields an LLM provider may decide taken from `labels`, then the same
    rules as the local path (threats, insults, safety, VIPs, low confidence -> a human). The local
    intent, when the provider chose another, becomes the first alternative."""
    local = output.model_labels or Labels(output.intent, output.confidence, output.urgency, output.sentiment)
    deciding_intent = "intent" in fields
    merged = Labels(
        intent=labels.intent if deciding_intent else local.intent,
        confidence=labels.confidence if deciding_intent else local.confidence,
        urgency=labels.urgency if "urgency" in fields else local.urgency,
        sentiment=labels.sentiment if "sentiment" in fields else local.sentiment,
    )
    decided = apply_rules(text, merged, context=context, threshold=threshold)
    alternatives = output.alternatives
    if deciding_intent and local.intent != labels.intent:
        alternatives = ((local.intent, round(local.confidence, 3)),)
    return decided.output(
        entities=output.entities,
        language=output.language,
        model_version=output.model_version,
        alternatives=alternatives,
        model_labels=merged,
        engine=engine,
    )
