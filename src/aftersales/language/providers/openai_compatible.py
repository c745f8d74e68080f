"""Any OpenAI-compatible chat completions API: DeepSeek, Qwen (DashScope compatible mode), Ollama,
vLLM, OpenAI. POST {base_url}/chat/completions with "Authorization: Bearer <key>"; base_url is the
API root including /v1 (e.g. https://api.deepseek.com/v1, http://127.0.0.1:11434/v1).

A batch is one request: the texts go as a JSON array and the model must answer with a JSON array of
the same length. Placeholders (⟦0⟧) are named in the instructions; the router checks they came back
(strictly: a placeholder with words pulled in, repeated or lost sends the batch to the next route).
The glossary's terms and the product names the router protected are given to the model too: for
each text, what its placeholders stand for and how they read in the translation, so the sentence
around them agrees with them. A regional variant ("pt-BR") is named in the instructions.

Self-hosted servers speak this protocol: llama.cpp `llama-server` (http://127.0.0.1:8080/v1),
Ollama (http://127.0.0.1:11434/v1), vLLM (http://127.0.0.1:8000/v1); docs/howto/translation-providers.md."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from ..languages import SUPPORTED
from .base import NO_CONTEXT, Context, ProviderError
from .http import HttpProvider, all_pairs

SYSTEM_PROMPT = (
    "You are a professional translator for e-commerce customer service. Translate each string of the JSON "
    "array the user sends from {source} to {target}. Keep every token of the form ⟦N⟧ exactly as it is, keep "
    "line breaks, do not add explanations. Answer with only a JSON array of {count} strings, in the same order."
)
GLOSSARY_PROMPT = (
    " The placeholders stand for glossary terms and product names that are put back after translation; "
    "translate the words around them so they agree with them. Each line below is: text number, placeholder, "
    "source term, how it reads in the translation ({target}). Never replace a placeholder by the term."
)
_VARIANT_NAMES = {"pt-BR": "Brazilian Portuguese", "pt-PT": "European Portuguese", "en-US": "American English"}
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.MULTILINE)


@dataclass
class OpenAICompatibleProvider(HttpProvider):
    name: str = "openai"
    max_batch: int = 20
    base_url: str = "http://127.0.0.1:11434/v1"

    def supported_pairs(self) -> frozenset[tuple[str, str]]:
        return all_pairs(frozenset(self.options.get("languages") or SUPPORTED))

    def variant_of(self, target: str, variant: str) -> str:
        return variant if variant in _VARIANT_NAMES else ""

    def _translate(self, texts: list[str], source: str, target: str, context: Context = NO_CONTEXT) -> list[str]:
        model = self.options.get("model") or self.credentials.get("model")
        if not model:
            raise ProviderError(f"{self.name}: no model configured", kind="bad_request", permanent=True)
        headers = {}
        if key := self.credentials.get("api_key"):
            headers["Authorization"] = f"Bearer {key}"
        target_name = _VARIANT_NAMES.get(context.variant, SUPPORTED[target])
        prompt = SYSTEM_PROMPT.format(source=SUPPORTED[source], target=target_name, count=len(texts))
        lines = [
            f"{number}\t{hint.token}\t{hint.source}\t{hint.target}" + ("\t(keep as is)" if hint.keep else "")
            for number, hints in enumerate(context.hints, start=1)
            for hint in hints
        ]
        if lines:
            prompt += GLOSSARY_PROMPT.format(target=target_name) + "\n" + "\n".join(lines[:200])
        body = {
            "model": model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": prompt},
                {"role": "user", "content": json.dumps(texts, ensure_ascii=False)},
            ],
        }
        payload = self._post("/chat/completions", json=body, headers=headers)
        try:
            content = payload["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as exc:
            raise self._bad(self.name, "no choices[0].message.content") from exc
        return parse_array(self.name, content, len(texts))


def parse_array(name: str, content: str, count: int) -> list[str]:
    text = _FENCE.sub("", (content or "").strip()).strip()
    try:
        result = json.loads(text)
    except ValueError:
        if count == 1 and text:  # a single text answered in plain words
            return [text]
        raise ProviderError(f"{name}: the model did not answer with a JSON array", kind="bad_response") from None
    if not isinstance(result, list) or len(result) != count or not all(isinstance(t, str) for t in result):
        raise ProviderError(
            f"{name}: the model answered {len(result) if isinstance(result, list) else 'a non-list'} "
            f"items for {count} texts",
            kind="bad_response",
        )
    return result
