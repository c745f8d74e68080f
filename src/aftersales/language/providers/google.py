"""Google Cloud Translation v3: POST /v3/projects/{project}/locations/{location}:translateText with
{"contents": [...], "sourceLanguageCode", "targetLanguageCode", "mimeType": "text/plain"} ->
{"translations": [{"translatedText"}]}. Auth: an OAuth access token ("Authorization: Bearer") or an
API key ("x-goog-api-key"), from the encrypted credentials."""

from __future__ import annotations

from dataclasses import dataclass

from ..languages import SUPPORTED
from .base import NO_CONTEXT, Context, ProviderError
from .http import HttpProvider, all_pairs

_CODE = {"zh": "zh-CN"}


@dataclass
class GoogleProvider(HttpProvider):
    name: str = "google"
    max_batch: int = 100
    base_url: str = "https://translation.googleapis.com"

    def supported_pairs(self) -> frozenset[tuple[str, str]]:
        return all_pairs(frozenset(SUPPORTED))

    def variant_of(self, target: str, variant: str) -> str:
        if target == "pt":
            return "pt-PT" if variant == "pt-PT" else "pt-BR"  # Google's "pt" is Brazilian
        return ""

    def _translate(self, texts: list[str], source: str, target: str, context: Context = NO_CONTEXT) -> list[str]:
        project = self.credentials.get("project_id") or self.options.get("project_id")
        if not project:
            raise ProviderError("google: no project_id configured", kind="bad_request", permanent=True)
        location = self.options.get("location", "global")
        headers = {}
        if token := self.credentials.get("access_token"):
            headers["Authorization"] = f"Bearer {token}"
        elif key := self.credentials.get("api_key"):
            headers["x-goog-api-key"] = key
        else:
            raise ProviderError("google: no access_token or api_key configured", kind="auth", permanent=True)
        body = {
            "contents": texts,
            "sourceLanguageCode": _CODE.get(source, source),
            "targetLanguageCode": "pt-PT"
            if (target, context.variant) == ("pt", "pt-PT")
            else _CODE.get(target, target),
            "mimeType": "text/plain",
        }
        payload = self._post(f"/v3/projects/{project}/locations/{location}:translateText", json=body, headers=headers)
        try:
            return [str(item["translatedText"]) for item in payload["translations"]]
        except (KeyError, TypeError) as exc:
            raise self._bad(self.name, "no translations[].translatedText") from exc
