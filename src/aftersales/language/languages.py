"""Language codes the engine speaks: ISO 639-1 codes internally, plus the agents' working languages
("zh-hans", "en") as the UI names them. Every boundary (customer data, providers, the UI) goes
through `normalise()` so that "pt-BR", "zh_CN", "zh-Hans" and "ZH" all mean one thing."""

from __future__ import annotations

from aftersales.core.errors import ValidationFailed

# The supported set, in the order lingua is built with.
SUPPORTED: dict[str, str] = {
    "en": "English",
    "zh": "Chinese",
    "es": "Spanish",
    "de": "German",
    "fr": "French",
    "pt": "Portuguese",
    "ja": "Japanese",
    "it": "Italian",
    "pl": "Polish",
    "nl": "Dutch",
    "id": "Indonesian",
    "th": "Thai",
    "vi": "Vietnamese",
    "ar": "Arabic",
    "ko": "Korean",
    "ru": "Russian",
    "tr": "Turkish",
}

# The agents' working languages (accounts.UserLanguage) and the engine code each one maps to.
WORKING_LANGUAGES: dict[str, str] = {"zh-hans": "zh", "en": "en"}

_ALIASES = {"zh-hans": "zh", "zh-cn": "zh", "zh-sg": "zh", "zh-hant": "zh", "zh-tw": "zh", "zh-hk": "zh"}


def normalise(code: str | None) -> str:
    """ "pt-BR" -> "pt", "zh-Hans" -> "zh", "" -> "". Unknown codes come back lower-cased, unchanged."""
    if not code:
        return ""
    value = code.strip().lower().replace("_", "-")
    if value in _ALIASES:
        return _ALIASES[value]
    return value.split("-", 1)[0]


def working_code(code: str) -> str:
    """Engine code -> the key used in Message.translations ("zh" -> "zh-hans")."""
    code = normalise(code)
    for working, engine in WORKING_LANGUAGES.items():
        if engine == code:
            return working
    return code


def check_language(code: str | None, *, field: str) -> str:
    value = normalise(code)
    if value not in SUPPORTED:
        raise ValidationFailed(f"unsupported language {code!r}; supported: {', '.join(sorted(SUPPORTED))}", field=field)
    return value


def is_cjk(code: str) -> bool:
    return normalise(code) in {"zh", "ja", "ko", "th"}
