"""LibreTranslate (self-hosted, offline-capable): POST /translate with {"q": [...], "source", "target",
"format": "text", "api_key"} -> {"translatedText": [...]} (a string when q is a string).
Errors: {"error": "..."} with 400, 403 (bad key), 429 (slow down), 500."""

from __future__ import annotations

from dataclasses import dataclass

from ..languages import SUPPORTED
from .base import NO_CONTEXT, Context
from .http import HttpProvider, all_pairs


@dataclass
class LibreTranslateProvider(HttpProvider):
    name: str = "libretranslate"
    max_batch: int = 50
    base_url: str = "http://127.0.0.1:5000"

    def supported_pairs(self) -> frozenset[tuple[str, str]]:
        languages = self.options.get("languages") or list(SUPPORTED)
        return all_pairs(frozenset(languages))

    def _code(self, code: str) -> str:
        return self.options.get("codes", {}).get(code, code)

    def _translate(self, texts: list[str], source: str, target: str, context: Context = NO_CONTEXT) -> list[str]:
        body = {"q": texts, "source": self._code(source), "target": self._code(target), "format": "text"}
        if key := self.credentials.get("api_key"):
            body["api_key"] = key
        payload = self._post("/translate", json=body)
        result = payload.get("translatedText") if isinstance(payload, dict) else None
        if isinstance(result, str) and len(texts) == 1:
            return [result]
        if not isinstance(result, list):
            raise self._bad(self.name, "no translatedText list")
        return [str(t) for t in result]
