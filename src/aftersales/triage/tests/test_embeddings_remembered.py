"""The worker's classification takes the vectors of texts it encoded before from memory (triage.embeddings
`embed_remembered`, ADR 0046): the same vectors as `embed`, the repeated texts not encoded again, the memory
bounded in texts and in text length."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from aftersales.triage import embeddings


@pytest.fixture
def encoded(monkeypatch):  # type: ignore[no-untyped-def]
    """The texts each call of `embed` encodes, with the memory emptied before and after."""
    calls: list[list[str]] = []
    real = embeddings.embed

    def spy(texts: Any) -> np.ndarray:
        calls.append(list(texts))
        return real(texts)

    monkeypatch.setattr(embeddings, "embed", spy)
    embeddings.forget_remembered()
    yield calls
    embeddings.forget_remembered()


def test_a_remembered_text_is_not_encoded_again_and_gets_the_same_vector(encoded):  # type: ignore[no-untyped-def]
    texts = ["Where is my order?", "Hello, my order arrived broken.", "Where is my order?"]
    first = embeddings.embed_remembered(texts)
    assert encoded == [["Where is my order?", "Hello, my order arrived broken."]]
    assert first.shape == (3, embeddings.DIMENSIONS) and first.dtype == np.float32
    np.testing.assert_allclose(first, embeddings.embed(texts), atol=1e-6)
    assert np.array_equal(first[0], first[2])
    encoded.clear()
    second = embeddings.embed_remembered(
        ["Hello, my order arrived broken.", "Wo ist mein Paket?", "", "Where is my order?"]
    )
    assert encoded == [["Wo ist mein Paket?", ""]]
    assert np.array_equal(second[0], first[1]) and np.array_equal(second[3], first[0])
    np.testing.assert_allclose(second[2], embeddings.embed([""])[0], atol=1e-6)
    assert embeddings.embed_remembered([]).shape == (0, embeddings.DIMENSIONS)


def test_the_memory_keeps_the_most_recent_texts_and_not_long_ones(encoded, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(embeddings, "REMEMBERED", 2)
    monkeypatch.setattr(embeddings, "REMEMBERED_CHARS", 20)
    long = "My parcel never arrived, please refund me."
    embeddings.embed_remembered(["first text", "second text", long])
    embeddings.embed_remembered(["first text"])  # (used: the most recent now)
    embeddings.embed_remembered(["third text"])  # (the least recent, "second text", goes)
    encoded.clear()
    embeddings.embed_remembered(["first text", "third text", "second text", long])
    assert encoded == [["second text", long]]


def test_a_remembered_vector_cannot_be_changed_through_an_answer(encoded):  # type: ignore[no-untyped-def]
    answer = embeddings.embed_remembered(["Where is my order?"])
    answer[0] = 0.0
    assert np.any(embeddings.embed_remembered(["Where is my order?"])[0] != 0.0)
