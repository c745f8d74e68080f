"""Language codes the engine speaks: ISO 639-1 codes internally, plus the agents' working languages
("zh-hans", "en") as the UI names them. Every boundary (customer data, providers, the UI) goes
through `normalise()` so that "pt-BR", "zh_CN", "zh-Hans" and "ZH" all mean one thing."""

from __future__ import annotations

from django.utils.translation import gettext as _

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


# Regional variants the engine can ask a provider for, and the language each belongs to. A buyer's
# country (or the store's market) picks one: buyers in Brazil get Brazilian Portuguese.
VARIANTS: dict[str, str] = {"pt-BR": "pt", "pt-PT": "pt"}
_COUNTRY_VARIANTS: dict[str, dict[str, str]] = {
    "pt": {"BR": "pt-BR", "PT": "pt-PT", "AO": "pt-PT", "MZ": "pt-PT", "CV": "pt-PT", "GW": "pt-PT", "TL": "pt-PT"}
}
_SITE_COUNTRIES = {"br": "BR", "pt": "PT"}  # the last label of a marketplace site: amazon.com.br, shopee.com.br


def country_of_site(site: str) -> str:
    """ "amazon.com.br" / "shopee.br" / "mercadolivre.com.br" -> "BR"; "" when the site says nothing."""
    label = (site or "").strip().lower().rstrip(".").rsplit(".", 1)[-1]
    return _SITE_COUNTRIES.get(label, "") if "." in (site or "") else ""


def variant_for(language: str, *, country: str = "", store_country: str = "", site: str = "") -> str:
    """The regional variant to write `language` in for a buyer: from the buyer's country, else the
    store's market (its country, else its site). "" when the language has no variants or nothing
    says which: the provider's default is written (and recorded)."""
    variants = _COUNTRY_VARIANTS.get(normalise(language))
    if not variants:
        return ""
    for code in (country, store_country, country_of_site(site)):
        if code and str(code).upper() in variants:
            return variants[str(code).upper()]
    return ""


def check_language(code: str | None, *, field: str) -> str:
    value = normalise(code)
    if value not in SUPPORTED:
        raise ValidationFailed(
            _("unsupported language %(code)r; supported: %(join)s")
            % {"code": code, "join": ", ".join(sorted(SUPPORTED))},
            field=field,
        )
    return value


def is_cjk(code: str) -> bool:
    return normalise(code) in {"zh", "ja", "ko", "th"}


# The supported languages written right to left: a text in one is shown with dir="rtl".
RTL_LANGUAGES = frozenset({"ar"})


def is_rtl(code: str) -> bool:
    return normalise(code) in RTL_LANGUAGES
