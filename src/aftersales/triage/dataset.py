"""The labelled corpus in corpus/<split>/<language>.jsonl (docs/triage-labelling.md).

Splits: `train` (what models learn from), `dev` (one message per intent and language, held back from
the same writing session: thresholds and model choices are made on it) and `heldout` (written
separately, other products, personas and phrasings; only measured, never tuned on)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
SPLITS = ("train", "dev", "heldout")


@dataclass(frozen=True)
class Example:
    text: str
    language: str
    intent: str
    urgency: str
    sentiment: str
    needs_human: bool
    entities: tuple[dict[str, Any], ...]
    source: str


def load_split(split: str, *, languages: frozenset[str] | None = None) -> list[Example]:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}")
    examples: list[Example] = []
    for path in sorted((CORPUS_DIR / split).glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            if languages is not None and row["language"] not in languages:
                continue
            examples.append(
                Example(
                    text=row["text"],
                    language=row["language"],
                    intent=row["intent"],
                    urgency=row["urgency"],
                    sentiment=row["sentiment"],
                    needs_human=bool(row["needs_human"]),
                    entities=tuple(row.get("entities", ())),
                    source=row.get("source", ""),
                )
            )
    return examples


def corpus_digest() -> str:
    """A hash of every corpus file: part of the model version, so a corpus edit means a new model."""
    digest = hashlib.sha256()
    for path in sorted(CORPUS_DIR.glob("*/*.jsonl")):
        digest.update(path.relative_to(CORPUS_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
