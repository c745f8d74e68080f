"""DeepL API v2: POST /v2/translate, "Authorization: DeepL-Auth-Key <key>", JSON
{"text": [...], "source_lang": "DE", "target_lang": "ZH-HANS"} -> {"translations": [{"detected_source_language",
"text"}]}. Up to 50 texts a request. 456 = quota exceeded. Free keys (ending ":fx") use api-free.deepl.com."""

from __future__ import annotations

from dataclasses import dataclass

from .base import NO_CONTEXT, Context, ProviderError
from .http import HttpProvider, all_pairs

LANGUAGES = frozenset({"en", "zh", "es", "de", "fr", "pt", "ja", "it", "pl", "nl", "id", "ko", "ru", "tr", "ar"})
_TARGET = {"en": "EN-US", "pt": "PT-BR", "zh": "ZH-HANS"}
_VARIANTS = {"pt-BR": "PT-BR", "pt-PT": "PT-PT", "en-US": "EN-US", "en-GB": "EN-GB"}


def default_base_url(key: str) -> str:
    return "https://api-free.deepl.com" if key.endswith(":fx") else "https://api.deepl.com"


@dataclass
class DeepLProvider(HttpProvider):
    name: str = "deepl"
    max_batch: int = 50

    def supported_pairs(self) -> frozenset[tuple[str, str]]:
        return all_pairs(LANGUAGES)

    def _target(self, target: str, variant: str) -> str:
        if variant in _VARIANTS:
            return _VARIANTS[variant]
        return self.options.get("target_variants", {}).get(target, _TARGET.get(target, target.upper()))

    def variant_of(self, target: str, variant: str) -> str:
        code = self._target(target, variant)
        return f"{code[:2].lower()}-{code[3:]}" if target in ("pt", "en") and "-" in code else ""

    def _translate(self, texts: list[str], source: str, target: str, context: Context = NO_CONTEXT) -> list[str]:
        key = self.credentials.get("api_key", "")
        if not key:
            raise ProviderError("deepl: no API key configured", kind="auth", permanent=True)
        if not self.base_url:
            self.base_url = default_base_url(key)
        body = {
            "text": texts,
            "source_lang": source.upper(),
            "target_lang": self._target(target, context.variant),
        }
        payload = self._post("/v2/translate", json=body, headers={"Authorization": f"DeepL-Auth-Key {key}"})
        try:
            return [str(item["text"]) for item in payload["translations"]]
        except (KeyError, TypeError) as exc:
            raise self._bad(self.name, "no translations[].text") from exc
