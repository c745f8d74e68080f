"""The inspection checklist's items named in a failed-inspection notice are in the buyer's language
(issue 10 §3 and §7): every item of every checklist is written in each notice language (returns/locale),
so the notice reads entirely in that language."""

from __future__ import annotations

import pytest
from django.utils import translation

from aftersales.returns.qc import CHECKLISTS, QUICK
from aftersales.returns.tests.test_rma_notify_steps import _inspect, approved_rma, outbound

BUYER_LANGUAGES = ("es", "de", "fr", "pt", "it", "ja", "ar")  # zh: the agent UI's zh-Hans catalogue
ITEMS = {item.code: item for items in (*CHECKLISTS.values(), QUICK) for item in items}


@pytest.mark.parametrize("language", BUYER_LANGUAGES)
def test_every_checklist_item_is_written_in_the_buyers_language(language: str) -> None:
    with translation.override("en"):
        english = {code: str(item.label) for code, item in ITEMS.items()}
    with translation.override(language):
        written = {code: str(item.label) for code, item in ITEMS.items()}
    untranslated = [code for code in ITEMS if written[code] == english[code]]
    assert not untranslated, (language, untranslated)
    if language == "ja":
        assert all(any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in t) for t in written.values())
    if language == "ar":
        assert all(any("\u0600" <= ch <= "\u06ff" for ch in t) for t in written.values())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "failed", "check"),
    [
        ("ja", "検品", "欠品・損傷なし"),
        ("ar", "", "كامل وغير تالف"),
        ("pt", "", "Completo e sem danos"),
        ("it", "", "Completo e integro"),
        ("de", "", "Vollständig und unbeschädigt"),
    ],
)
def test_a_failed_inspection_notice_names_the_check_in_the_buyers_language(
    world, django_capture_on_commit_callbacks, language, failed, check
) -> None:
    capture = django_capture_on_commit_callbacks
    rma, ticket = approved_rma(world, capture, language=language)
    _inspect(world, capture, rma, passed=False)
    text = outbound(ticket)[-1]
    assert check in text and failed in text
    assert "Complete and undamaged" not in text and "Not passed" not in text
