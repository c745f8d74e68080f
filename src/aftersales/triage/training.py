"""Builds the triage models from the corpus, deterministically (fixed seeds, sorted inputs):
`manage.py triage_train` and the worker's first use call `train()`.

Choices made on the dev split only (never on the held-out split): the regularisation of each model,
one temperature per (model, head), which model answers each head in each language, and the
confidence threshold under which a human decides."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score

from . import embeddings
from .classifiers import HEADS, KINDS
from .classifiers.linear import LinearHead, fit_head, fit_temperature
from .dataset import Example, corpus_digest, load_split
from .decide import combine  # the same decision code as at run time
from .labels import Intent

logger = logging.getLogger(__name__)

# Bump when the features, the heads or the pipeline change: it is part of the model version.
TRAINING_CODE_VERSION = "3"  # 3: a language head on the char n-grams (fast detection)
C_GRID = {"charngram": (4.0, 16.0), "embedding": (2.0, 8.0)}
# Auto-handled messages on the dev split must be at least this precise; the lowest threshold that
# achieves it is kept (the most messages handled without a human).
TARGET_PRECISION = 0.90
THRESHOLD_GRID = tuple(round(x, 2) for x in np.arange(0.20, 0.91, 0.05))
# The language head answers alone only at or above this calibrated probability (and never lower than
# what the dev split needs to be 100% right); below it lingua decides (triage.classify).
LANGUAGE_FLOOR = 0.90
LANGUAGE_GRID = (0.90, 0.95, 0.98, 0.99)
# USE multilingual v3's 16 languages: for the others (Indonesian, Vietnamese) the embedding model
# alone is never selected (its vectors carry little there); the char n-grams or the ensemble answer.
USE_LANGUAGES = frozenset({"ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh"})


@dataclass
class Bundle:
    version: str
    vectorizer: TfidfVectorizer
    heads: dict[str, dict[str, LinearHead]]  # kind -> head -> linear head
    selection: dict[str, dict[str, str]]  # language ("*" = any other) -> head -> kind
    threshold: float
    report: dict[str, Any] = field(default_factory=dict)
    # The message's language from the same char n-grams (None: older bundles, or a corpus restricted
    # to some languages, where an unseen language would be forced into a known one).
    language: LinearHead | None = None
    language_threshold: float = 1.01

    def features(self, texts: list[str]) -> dict[str, Any]:
        return {"charngram": self.vectorizer.transform(texts), "embedding": embeddings.embed_remembered(texts)}

    def probabilities(self, features: dict[str, Any], head: str) -> dict[str, np.ndarray]:
        """kind -> (n, n_classes) probabilities; both models share the class order."""
        char = self.heads["charngram"][head].proba(features["charngram"])
        emb = self.heads["embedding"][head].proba(features["embedding"])
        return {"charngram": char, "embedding": emb, "ensemble": (char + emb) / 2}

    def classes(self, head: str) -> tuple[str, ...]:
        return self.heads["charngram"][head].classes

    def kind_for(self, language: str, head: str) -> str:
        return self.selection.get(language, self.selection["*"])[head]


def model_version(languages: frozenset[str] | None = None) -> str:
    digest = hashlib.sha256(f"{corpus_digest()}:{TRAINING_CODE_VERSION}:{sorted(languages or [])}".encode())
    return f"triage-{digest.hexdigest()[:12]}"


def _labels(examples: list[Example], head: str) -> list[str]:
    return [getattr(e, head) for e in examples]


def _vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(1, 4),
        min_df=2,
        max_features=60000,
        sublinear_tf=True,
        lowercase=True,
        dtype=np.float32,
    )


def _macro_f1(truth: list[str], predicted: list[str]) -> float:
    return float(f1_score(truth, predicted, average="macro", zero_division=0))


def train(*, languages: frozenset[str] | None = None) -> Bundle:
    """Train on `train`, choose on `dev`. `languages` restricts the corpus (tests train a small model)."""
    started = time.monotonic()
    train_set = load_split("train", languages=languages)
    dev_set = load_split("dev", languages=languages)
    texts = [e.text for e in train_set]
    dev_texts = [e.text for e in dev_set]
    vectorizer = _vectorizer().fit(texts)
    # The n-grams cut by max_features: only needed for introspection, and ~100 MiB once loaded.
    vectorizer.stop_words_ = None
    features = {"charngram": vectorizer.transform(texts), "embedding": embeddings.embed(texts)}
    dev_features = {"charngram": vectorizer.transform(dev_texts), "embedding": embeddings.embed(dev_texts)}

    heads: dict[str, dict[str, LinearHead]] = {"charngram": {}, "embedding": {}}
    chosen_c: dict[str, dict[str, float]] = {"charngram": {}, "embedding": {}}
    for kind in ("charngram", "embedding"):
        for head in HEADS:
            best: tuple[float, float, LinearHead] | None = None
            for c in C_GRID[kind]:
                model = fit_head(features[kind], _labels(train_set, head), c=c)
                predicted = [model.classes[i] for i in model.logits(dev_features[kind]).argmax(axis=1)]
                score = _macro_f1(_labels(dev_set, head), predicted)
                if best is None or score > best[0]:
                    best = (score, c, model)
            assert best is not None
            model = best[2]
            model.temperature = fit_temperature(model, dev_features[kind], _labels(dev_set, head))
            heads[kind][head] = model
            chosen_c[kind][head] = best[1]

    bundle = Bundle(model_version(languages), vectorizer, heads, {"*": dict.fromkeys(HEADS, "ensemble")}, 0.5)
    bundle.selection = _select(bundle, dev_set, dev_features)
    if languages is None:
        bundle.language = fit_head(features["charngram"], [e.language for e in train_set], c=16.0)
        bundle.language.temperature = fit_temperature(
            bundle.language, dev_features["charngram"], [e.language for e in dev_set]
        )
        bundle.language_threshold = _language_threshold(bundle.language, dev_features["charngram"], dev_set)
    bundle.threshold, coverage, precision = _choose_threshold(bundle, dev_set, dev_features)
    bundle.report = {
        "train_examples": len(train_set),
        "dev_examples": len(dev_set),
        "c": chosen_c,
        "temperatures": {k: {h: m.temperature for h, m in hs.items()} for k, hs in heads.items()},
        "threshold": bundle.threshold,
        "dev_auto_coverage": coverage,
        "dev_auto_precision": precision,
        "language_threshold": bundle.language_threshold,
        "seconds": round(time.monotonic() - started, 1),
    }
    logger.info("triage model trained", extra=bundle.report)
    return bundle


def _select(bundle: Bundle, dev_set: list[Example], dev_features: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Per head: the best model on the whole dev split is the default; a language keeps another model
    only when it beats the default there by at least 0.05 macro-F1 (23 dev messages per language are
    few: smaller differences are noise)."""
    selection: dict[str, dict[str, str]] = {"*": {}}
    languages = sorted({e.language for e in dev_set})
    for head in HEADS:
        probabilities = bundle.probabilities(dev_features, head)
        classes = bundle.classes(head)
        truth = _labels(dev_set, head)
        predicted = {k: [classes[i] for i in p.argmax(axis=1)] for k, p in probabilities.items()}
        overall = {k: _macro_f1(truth, predicted[k]) for k in KINDS}
        default = max(KINDS, key=lambda k: (round(overall[k], 4), k == "ensemble"))
        selection["*"][head] = default
        for language in languages:
            rows = [i for i, e in enumerate(dev_set) if e.language == language]
            per_kind = {k: _macro_f1([truth[i] for i in rows], [predicted[k][i] for i in rows]) for k in KINDS}
            allowed = [k for k in KINDS if k != "embedding" or language in USE_LANGUAGES]
            best = max(allowed, key=lambda k: per_kind[k])
            # the default may not be one this language lacks
            fallback = default if default in allowed else "ensemble"
            chosen = best if per_kind[best] >= per_kind[fallback] + 0.05 else fallback
            selection.setdefault(language, {})[head] = chosen
    return selection


def _language_threshold(head: LinearHead, features: Any, dev_set: list[Example]) -> float:
    """The lowest probability of LANGUAGE_GRID at which every dev message the head answers alone is
    right; 1.01 (never alone) when none is."""
    probabilities = head.proba(features)
    picked = probabilities.argmax(axis=1)
    for threshold in LANGUAGE_GRID:
        kept = [
            head.classes[j] == e.language
            for j, p, e in zip(picked, probabilities.max(axis=1), dev_set, strict=True)
            if p >= threshold
        ]
        if kept and all(kept):
            return threshold
    return 1.01


def _choose_threshold(
    bundle: Bundle, dev_set: list[Example], dev_features: dict[str, Any]
) -> tuple[float, float, float]:
    outputs = combine(bundle, [e.text for e in dev_set], [e.language for e in dev_set], dev_features, threshold=0.0)
    pairs = [(o.confidence, o.intent == e.intent) for o, e in zip(outputs, dev_set, strict=True)]
    for threshold in THRESHOLD_GRID:
        kept = [ok for confidence, ok in pairs if confidence >= threshold]
        if kept and sum(kept) / len(kept) >= TARGET_PRECISION:
            return float(threshold), round(len(kept) / len(pairs), 3), round(sum(kept) / len(kept), 3)
    kept = [ok for confidence, ok in pairs if confidence >= THRESHOLD_GRID[-1]]
    precision = sum(kept) / len(kept) if kept else 0.0
    return float(THRESHOLD_GRID[-1]), round(len(kept) / len(pairs), 3), round(precision, 3)


INTENTS = tuple(Intent.values)
