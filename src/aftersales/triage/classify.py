"""Classifying messages: models + rules + entities -> one TriageOutput per message.

Order of decisions (docs/triage-labelling.md):
1. the selected model (per language and head) gives intent, urgency and sentiment with probabilities;
2. threat rules (triage.lexicon) beat everything: the intent becomes chargeback_dispute_threat with
   high urgency and a human; a threat predicted by the model also means high urgency and a human;
3. an insult keeps the intent but needs a human; a safety hazard makes the message urgent;
4. a VIP's problem is one urgency level higher;
5. an intent whose calibrated probability is under the threshold chosen on the dev split needs a
   human ("low_confidence"): the suggestion is shown, never acted on silently.

This module loads models (~100 MiB): it runs in the worker and in management commands, never in a
web process (the API enqueues and waits: triage.services.classification_run)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .artifacts import get_bundle
from .decide import Context, TriageOutput, combine

__all__ = ["Context", "TriageOutput", "classify_texts", "combine", "detect_languages"]


def detect_languages(texts: Sequence[str], *, features: dict[str, Any] | None = None) -> list[str]:
    """The language of each text. With the batch's char n-gram features (and a bundle trained on every
    supported language), the bundle's language head answers a message that is not short when its
    calibrated probability reaches the threshold chosen on the dev split (a sparse product: ~0.01 ms);
    the others go to lingua (language.detect, ~0.45 ms for a Latin-script text). bench/triage.py
    measures both paths' accuracy on the held-out split and the language engine's detection sets."""
    from aftersales.language.detect import detect_language, is_short, strip_entities

    texts = list(texts)
    found: list[str | None] = [None] * len(texts)
    bundle = get_bundle() if features is not None else None
    head = bundle.language if bundle is not None else None
    if head is not None and features is not None:
        assert bundle is not None
        probabilities = head.proba(features["charngram"])
        best = probabilities.argmax(axis=1)
        for i, text in enumerate(texts):
            if probabilities[i, best[i]] >= bundle.language_threshold and not is_short(strip_entities(text)):
                found[i] = head.classes[int(best[i])]
    return [
        code if code is not None else detect_language(text).language for code, text in zip(found, texts, strict=True)
    ]


def classify_texts(
    texts: Sequence[str],
    *,
    languages: Sequence[str | None] | None = None,
    contexts: Sequence[Context] | None = None,
    fast_detection: bool = True,
) -> list[TriageOutput]:
    """Classify a batch. A language left out (None or "") is detected: by the language head on the
    batch's char n-grams when it is sure, else by lingua (`fast_detection=False`: lingua for all)."""
    texts = list(texts)
    given: list[str | None] = list(languages) if languages is not None else [None] * len(texts)
    bundle = get_bundle()
    features = bundle.features(texts)
    missing = [i for i, code in enumerate(given) if not code]
    if missing:
        subset = {"charngram": features["charngram"][missing]} if fast_detection else None
        detected = detect_languages([texts[i] for i in missing], features=subset)
        for i, code in zip(missing, detected, strict=True):
            given[i] = code
    return combine(
        bundle, texts, [code or "" for code in given], features, threshold=bundle.threshold, contexts=contexts
    )
