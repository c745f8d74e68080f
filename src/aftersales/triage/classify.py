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

from .artifacts import get_bundle
from .decide import Context, TriageOutput, combine

__all__ = ["Context", "TriageOutput", "classify_texts", "combine", "detect_languages"]


def detect_languages(texts: Sequence[str]) -> list[str]:
    from aftersales.language.detect import detect_language

    return [detect_language(text).language for text in texts]


def classify_texts(
    texts: Sequence[str],
    *,
    languages: Sequence[str | None] | None = None,
    contexts: Sequence[Context] | None = None,
) -> list[TriageOutput]:
    """Classify a batch. A language left out (None or "") is detected (language.detect)."""
    texts = list(texts)
    given: list[str | None] = list(languages) if languages is not None else [None] * len(texts)
    missing = [i for i, code in enumerate(given) if not code]
    if missing:
        detected = detect_languages([texts[i] for i in missing])
        for i, code in zip(missing, detected, strict=True):
            given[i] = code
    bundle = get_bundle()
    features = bundle.features(texts)
    return combine(
        bundle, texts, [code or "" for code in given], features, threshold=bundle.threshold, contexts=contexts
    )
