"""Every capability a connector can declare has a human label on the store page (en + zh-Hans)."""

from django.utils import translation

from aftersales.channels.base import Capability
from aftersales.channels.selectors import CAPABILITY_LABELS


def test_every_capability_is_labelled() -> None:
    missing = [str(cap) for cap in Capability if cap not in CAPABILITY_LABELS]
    assert missing == []


def test_capability_labels_are_translated_to_zh_hans() -> None:
    with translation.override("zh-hans"):
        untranslated = [str(cap) for cap in Capability if str(CAPABILITY_LABELS[cap]) == _english(cap)]
    assert untranslated == []


def _english(cap: Capability) -> str:
    with translation.override("en"):
        return str(CAPABILITY_LABELS[cap])
