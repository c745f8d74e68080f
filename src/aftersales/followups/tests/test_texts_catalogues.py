"""Buyer texts come from gettext catalogues (msgctxt "buyer") in every supported buyer language, with
their placeholders intact; an unknown language falls back to English."""

from __future__ import annotations

import re

import pytest

from aftersales.followups import texts

PLACEHOLDER = re.compile(r"%\(\w+\)s")


@pytest.mark.parametrize("language", [code for code in texts.LANGUAGES if code != texts.DEFAULT])
def test_every_buyer_text_is_translated_with_its_placeholders(language: str) -> None:
    catalogue = texts.TEXTS[language]
    same = [key for key, source in texts.SOURCES.items() if catalogue[key] == source]
    assert len(same) <= 1, same  # a word may be the same ("Neutral" in German), not the texts
    for key, source in texts.SOURCES.items():
        assert sorted(PLACEHOLDER.findall(catalogue[key])) == sorted(PLACEHOLDER.findall(source)), (language, key)


def test_known_texts_and_fallbacks() -> None:
    assert texts.text("de", "page_title") == "Wie waren wir?"
    assert texts.text("zh-hans", "submit") == "提交"
    assert texts.text("ja", "rating_5") != texts.SOURCES["rating_5"]
    assert texts.text("ar", "thanks").startswith("شكر")
    assert texts.text(texts.buyer_language("xx"), "page_title") == "How did we do?"
    assert texts.message_text("de", "thanks_coupon", order="123", code="ABC").endswith("ABC")
    # the agent UI's own "Send" (no context) is not the buyer's
    from django.utils import translation
    from django.utils.translation import gettext

    with translation.override("zh-hans"):
        assert gettext("Send") != "" and texts.TEXTS["zh-hans"]["submit"] == "提交"
