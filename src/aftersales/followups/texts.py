"""What the buyer reads, in the buyer's language: the built-in follow-up messages (used when the
organization has set no reply template for that follow-up) and the CSAT rating page. The English
sources are here (SOURCES); the translations are gettext catalogues with the context "buyer":
src/aftersales/locale/<de|es|fr|ja|pt|ar>/LC_MESSAGES/django.po (buyer texts only: the agent UI
speaks en and zh-Hans, settings.LANGUAGES) and the zh-Hans entries of the agent UI's catalogue.
A translator edits the .po files (`manage.py compilemessages`); a language is added by a catalogue
and a code in TEXTS. `%(name)s` placeholders are filled by `text()`. Arabic is written right to left."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Final

from django.utils import translation
from django.utils.translation import pgettext

DEFAULT: Final = "en"
RTL_LANGUAGES: Final = frozenset({"ar"})

SOURCES: Final[dict[str, str]] = {
    "csat_invite": "Your request about order %(order)s has been solved. How did we do? Rate us in one click: %(link)s",
    "csat_invite_reply": (
        "Your request about order %(order)s has been solved. How did we do? Reply to this message with a number "
        "from 1 (very unsatisfied) to 5 (very satisfied)."
    ),
    "stall_notice": (
        "We noticed that the parcel %(tracking)s for your order %(order)s has not moved for %(days)s days. "
        "We are checking with the carrier and will get back to you. Sorry for the wait."
    ),
    "thanks_coupon": (
        "Thank you for your patience with order %(order)s. As an apology, here is a coupon code for your next "
        "order: %(code)s"
    ),
    "page_title": "How did we do?",
    "question": "How satisfied are you with how we handled your request?",
    "rating_1": "Very unsatisfied",
    "rating_2": "Unsatisfied",
    "rating_3": "Neutral",
    "rating_4": "Satisfied",
    "rating_5": "Very satisfied",
    "comment": "Anything you would like to add? (optional)",
    "submit": "Send",
    "thanks": "Thank you for your feedback!",
    "your_rating": "Your rating: %(rating)s of 5.",
    "change_until": "You can change your rating until %(day)s.",
    "invalid": "This link is not valid. Please use the link from our message as it was sent.",
    "expired": "This survey has closed. Thank you all the same.",
    "too_many": "Too many attempts. Please try again in a minute.",
    "rating_error": "Please choose a rating from 1 to 5.",
}


class Catalogue(Mapping[str, str]):
    """The texts of one buyer language, read from the gettext catalogue (context "buyer") when a key
    is looked up; a text the catalogue lacks is the English source."""

    def __init__(self, language: str) -> None:
        self.language = language

    def __getitem__(self, key: str) -> str:
        source = SOURCES[key]
        if self.language == DEFAULT:
            return source
        with translation.override(self.language):
            return pgettext("buyer", source)

    def __iter__(self) -> Iterator[str]:
        return iter(SOURCES)

    def __len__(self) -> int:
        return len(SOURCES)


# The buyer languages with a catalogue (src/aftersales/locale/<language>/LC_MESSAGES/django.po,
# msgctxt "buyer"; zh-Hans in the agent UI's catalogue).
TEXTS: Final[dict[str, Catalogue]] = {
    code: Catalogue(code) for code in ("en", "zh-hans", "de", "es", "fr", "ja", "pt", "ar")
}
LANGUAGES: Final = tuple(TEXTS)


def buyer_language(code: str | None) -> str:
    """The catalogue language for a buyer's language code (zh, zh-CN, zh-Hans -> zh-hans; pt-BR ->
    pt; anything unknown -> en)."""
    value = (code or "").strip().lower().replace("_", "-")
    if value.startswith("zh"):
        return "zh-hans"
    base = value.split("-", 1)[0]
    return base if base in TEXTS else DEFAULT


# In a buyer message, these values are isolated in right-to-left text (an order number such as
# 113-0000000-0000000 would otherwise be shown backwards); links, tracking numbers and coupon codes stay
# bare, as the buyer's client must recognise and copy them.
MESSAGE_ISOLATED = frozenset({"order", "days"})


def text(language: str, key: str, *, isolate: bool | frozenset[str] = False, **values: object) -> str:
    """The text `key` in `language` (a catalogue code), placeholders filled. `isolate`: the values
    (all with True, or those named) wrapped in Unicode first-strong isolates (U+2068 ... U+2069), so a
    date or a number keeps its own direction inside right-to-left text."""
    template = TEXTS.get(language, TEXTS[DEFAULT])[key]
    if isolate:
        values = {
            name: f"\u2068{value}\u2069" if isolate is True or name in isolate else value
            for name, value in values.items()
        }
    return template % values if values else template


def message_text(language: str, key: str, **values: object) -> str:
    """A buyer message's built-in text: `text()` with MESSAGE_ISOLATED values isolated in RTL languages."""
    return text(language, key, isolate=MESSAGE_ISOLATED if is_rtl(language) else False, **values)


def is_rtl(language: str) -> bool:
    return language in RTL_LANGUAGES
