"""Azure AI Translator v3: POST /translate?api-version=3.0&from=de&to=zh-Hans, headers
Ocp-Apim-Subscription-Key (+ Ocp-Apim-Subscription-Region for regional resources), body
[{"Text": ...}, ...] -> [{"translations": [{"text", "to"}]}, ...]. Errors: {"error": {"code", "message"}};
403001 = free-tier quota exceeded, 429 = too many requests."""

from __future__ import annotations

from dataclasses import dataclass

from ..languages import SUPPORTED
from .base import NO_CONTEXT, Context, ProviderError
from .http import HttpProvider, all_pairs

_CODE = {"zh": "zh-Hans"}


@dataclass
class AzureProvider(HttpProvider):
    name: str = "azure"
    max_batch: int = 100
    base_url: str = "https://api.cognitive.microsofttranslator.com"

    def supported_pairs(self) -> frozenset[tuple[str, str]]:
        return all_pairs(frozenset(SUPPORTED))

    def variant_of(self, target: str, variant: str) -> str:
        if target == "pt":
            return "pt-PT" if variant == "pt-PT" else "pt-BR"  # Azure's "pt" is Brazilian, "pt-pt" European
        return ""

    def _translate(self, texts: list[str], source: str, target: str, context: Context = NO_CONTEXT) -> list[str]:
        key = self.credentials.get("api_key", "")
        if not key:
            raise ProviderError("azure: no subscription key configured", kind="auth", permanent=True)
        headers = {"Ocp-Apim-Subscription-Key": key}
        if region := self.credentials.get("region") or self.options.get("region"):
            headers["Ocp-Apim-Subscription-Region"] = region
        to = "pt-pt" if (target, context.variant) == ("pt", "pt-PT") else _CODE.get(target, target)
        params = {"api-version": "3.0", "from": _CODE.get(source, source), "to": to}
        payload = self._post("/translate", json=[{"Text": t} for t in texts], headers=headers, params=params)
        try:
            return [str(item["translations"][0]["text"]) for item in payload]
        except (KeyError, IndexError, TypeError) as exc:
            raise self._bad(self.name, "no [].translations[0].text") from exc
