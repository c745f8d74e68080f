"""Apertium: rule-based, fully offline MT from Debian's packages (apertium + apertium-<pair>).

Batched: all the texts of a call go through the mode's pipeline as one request, each text its own
sentence, and are split back by line count (Apertium keeps line breaks). The pipelines stay running
between calls in the worker (apertium_pipes, docs/adr/0048-apertium-pipelines-kept-running.md). Pairs
missing from the installed data are composed through an installed intermediate language (en->pt =
eng-spa | es-pt).
The output is labelled "draft": readable, not publishable without a look.

Placeholders: Apertium reads "⟦" and "⟧" as blanks around the number, and a transfer rule that
inserts words (Spanish "Pagué ⟦0⟧" -> French "Je ⟦ai payé 0⟧") moves them, so a composed route
broke them. Inside the provider each ⟦n⟧ travels as one unknown word ("Zxq0qxZ"), which every
installed mode passes through unchanged, and comes back as ⟦n⟧; the router still checks."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .apertium_pipes import POOL, encode_texts, reformat
from .base import NO_CONTEXT, Context, Health, Provider, ProviderError

MODES_DIR = Path(os.environ.get("APERTIUM_MODES_DIR", "/usr/share/apertium/modes"))
_TOKEN = re.compile(r"⟦(\d+)⟧")
_SHIELDED = re.compile(r"Zxq(\d+)qxZ")
_ISO = {"eng": "en", "spa": "es", "por": "pt", "fra": "fr", "ita": "it", "cat": "ca", "deu": "de", "glg": "gl"}


def _iso(code: str) -> str:
    return _ISO.get(code, code)


@lru_cache(maxsize=4)
def installed_modes(modes_dir: str = str(MODES_DIR)) -> dict[tuple[str, str], str]:
    """(source, target) -> mode name, for the plain modes installed (no variants, no debug modes)."""
    found: dict[tuple[str, str], str] = {}
    directory = Path(modes_dir)
    if not directory.is_dir() or shutil.which("apertium") is None:
        return found
    for path in sorted(directory.glob("*.mode")):
        name = path.stem
        parts = name.split("-")
        if len(parts) != 2 or "_" in name or not all(p.isalpha() for p in parts):
            continue
        found.setdefault((_iso(parts[0]), _iso(parts[1])), name)
    return found


# Regional variants Debian's pairs carry as separate modes: the default es-pt writes European
# Portuguese, es-pt_BR Brazilian Portuguese; spa-eng_US American spelling.
VARIANT_MODES = {"es-pt": ("pt-BR", "es-pt_BR"), "spa-eng": ("en-US", "spa-eng_US")}
DEFAULT_VARIANTS = {"pt": "pt-PT"}


@lru_cache(maxsize=4)
def variant_modes(modes_dir: str = str(MODES_DIR)) -> dict[tuple[str, str], str]:
    """(plain mode, variant) -> the installed variant mode: ("es-pt", "pt-BR") -> "es-pt_BR"."""
    directory = Path(modes_dir)
    return {
        (mode, variant): variant_mode
        for mode, (variant, variant_mode) in VARIANT_MODES.items()
        if (directory / f"{variant_mode}.mode").is_file()
    }


@lru_cache(maxsize=4)
def routes(modes_dir: str = str(MODES_DIR)) -> dict[tuple[str, str], tuple[str, ...]]:
    """Every pair reachable with one mode, or two chained through an intermediate language."""
    direct = installed_modes(modes_dir)
    result: dict[tuple[str, str], tuple[str, ...]] = {pair: (mode,) for pair, mode in direct.items()}
    for (a, b), first in direct.items():
        for (b2, c), second in direct.items():
            if b2 == b and c != a and (a, c) not in result:
                result[(a, c)] = (first, second)
    return result


@dataclass
class ApertiumProvider(Provider):
    name: str = "apertium"
    quality: str = "draft"
    max_batch: int = 500
    modes_dir: str = field(default=str(MODES_DIR))

    def supported_pairs(self) -> frozenset[tuple[str, str]]:
        return frozenset(routes(self.modes_dir))

    def health(self) -> Health:
        if shutil.which("apertium") is None or shutil.which("apertium-wblank-mode") is None:
            return Health(False, "apertium is not installed (apt-get install apertium apertium-eng-spa ...)")
        if not installed_modes(self.modes_dir):
            return Health(False, f"no Apertium language pairs in {self.modes_dir}")
        return super().health()

    def _chain(self, source: str, target: str, variant: str) -> tuple[str, ...]:
        chain = routes(self.modes_dir)[(source, target)]
        special = variant_modes(self.modes_dir).get((chain[-1], variant)) if variant else None
        return (*chain[:-1], special) if special else chain

    def variant_of(self, target: str, variant: str) -> str:
        if variant and any(v == variant for (_, v) in variant_modes(self.modes_dir)):
            return variant
        return DEFAULT_VARIANTS.get(target, "")

    def _translate(self, texts: list[str], source: str, target: str, context: Context = NO_CONTEXT) -> list[str]:
        chain = self._chain(source, target, context.variant)
        shielded: list[bool] = []
        current: list[str] = []
        for text in texts:
            shielded.append(not _SHIELDED.search(text))  # a text already holding the shape is left alone
            if shielded[-1]:
                text = _TOKEN.sub(r"Zxq\1qxZ", text)
            # NUL ends a request on the pipeline: never inside a text (apertium-destxt drops it too).
            current.append(text.replace("\r\n", "\n").replace("\r", "\n").replace("\0", ""))
        for mode in chain:
            current = self._run(mode, current)
        return [
            _SHIELDED.sub(r"⟦\1⟧", text) if shield else text for text, shield in zip(current, shielded, strict=True)
        ]

    def _run(self, mode: str, texts: list[str]) -> list[str]:
        """Translate `texts` with one mode: one request on the mode's pipeline (apertium_pipes), each text
        its own sentence; the reformatted answer is split back by line count (Apertium keeps line breaks)."""
        counts = [text.count("\n") + 1 for text in texts]
        answer = POOL.translate(self.modes_dir, mode, encode_texts(texts), self.timeout)
        out_lines = reformat(answer).split("\n")
        if len(out_lines) != sum(counts) or (any(t.strip() for t in texts) and not answer.strip(" .[]")):
            # Some modes exit 0 with no output when a tool of their pipeline is missing (cg-proc).
            raise ProviderError(f"apertium {mode} changed the number of lines", kind="bad_response")
        result: list[str] = []
        pos = 0
        for count in counts:
            result.append("\n".join(line.strip() for line in out_lines[pos : pos + count]))
            pos += count
        return result
