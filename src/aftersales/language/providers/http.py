"""What the HTTP providers share: one POST with a per-provider timeout, and the mapping of each
service's error responses onto ProviderError kinds (429 -> rate_limited, DeepL 456 / OpenAI
"insufficient_quota" / Azure 403001 -> quota, 5xx -> unavailable, 401/403 -> auth)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from ..languages import SUPPORTED
from .base import Provider, ProviderError


def all_pairs(languages: set[str] | frozenset[str]) -> frozenset[tuple[str, str]]:
    langs = [code for code in SUPPORTED if code in languages]
    return frozenset((a, b) for a in langs for b in langs if a != b)


def _message_of(payload: Any, fallback: str) -> str:
    if isinstance(payload, dict):
        err = payload.get("error", payload.get("message"))
        if isinstance(err, dict):
            return str(err.get("message") or err.get("status") or err)
        if err:
            return str(err)
    if isinstance(payload, str) and payload.strip():
        return payload.strip()[:300]
    return fallback


def _is_quota(status: int, payload: Any) -> bool:
    if status == 456:  # DeepL: quota exceeded
        return True
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        err = payload["error"]
        code = str(err.get("code", ""))
        if code in {"insufficient_quota", "403001", "RESOURCE_EXHAUSTED"} or err.get("status") == "RESOURCE_EXHAUSTED":
            return True
    return False


@dataclass
class HttpProvider(Provider):
    base_url: str = ""
    credentials: dict = field(default_factory=dict)
    transport: httpx.BaseTransport | None = None  # tests may inject one; default: real network

    def _url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def _post(
        self,
        path: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
        files: Any = None,
    ) -> Any:
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport, follow_redirects=False) as client:
                response = client.post(
                    self._url(path), json=json, headers=headers, params=params, data=data, files=files
                )
        except httpx.TimeoutException as exc:
            raise ProviderError(f"{self.name}: timed out after {self.timeout}s", kind="timeout") from exc
        except httpx.HTTPError as exc:
            raise ProviderError(f"{self.name}: cannot reach {self.base_url}: {exc}", kind="unavailable") from exc
        try:
            payload: Any = response.json()
        except ValueError:
            payload = response.text
        status = response.status_code
        if status < 300:
            return payload
        message = f"{self.name}: HTTP {status}: {_message_of(payload, response.reason_phrase)}"
        if _is_quota(status, payload):
            raise ProviderError(message, kind="quota", status=status)
        if status == 429:
            raise ProviderError(message, kind="rate_limited", status=status)
        if status >= 500:
            raise ProviderError(message, kind="unavailable", status=status)
        if status in (401, 403):
            raise ProviderError(message, kind="auth", permanent=True, status=status)
        raise ProviderError(message, kind="bad_request", permanent=True, status=status)

    @staticmethod
    def _bad(name: str, what: str) -> ProviderError:
        return ProviderError(f"{name}: unexpected response: {what}", kind="bad_response")
