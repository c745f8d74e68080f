"""Category labels: an organization admin renames the fixed categories (English, simplified Chinese)."""

from __future__ import annotations

import pytest

from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.inbox.models import CategoryLabel
from aftersales.inbox.selectors import category_labels
from aftersales.inbox.services import category_label_rows, category_labels_set
from aftersales.inbox.workflow import TicketCategory


def test_rows_list_every_category_with_its_built_in_labels(world) -> None:
    rows = category_label_rows(user=world.agent)
    assert [r.category for r in rows] == list(TicketCategory.values)
    refund = next(r for r in rows if r.category == "refund")
    assert (refund.default_en, refund.label_en, refund.label_zh_hans) == ("Refund", "", "")
    assert refund.default_zh_hans and refund.default_zh_hans != "Refund"


def test_admin_replaces_the_labels(world) -> None:
    CategoryLabel.objects.create(organization=world.org, category="refund", label_en="Money back")
    rows = category_labels_set(
        user=world.admin,
        labels={
            "size_mismatch": {"label_en": "  Fit   problem ", "label_zh_hans": "尺码不合"},
            "logistics": {"label_en": "", "label_zh_hans": ""},
        },
    )
    by_category = {r.category: r for r in rows}
    assert (by_category["size_mismatch"].label_en, by_category["size_mismatch"].label_zh_hans) == (
        "Fit problem",
        "尺码不合",
    )
    assert by_category["refund"].label_en == ""  # not given: back to the built-in label
    assert CategoryLabel.objects.filter(organization=world.org).count() == 1
    assert category_labels(world.org.pk, "zh-hans")["size_mismatch"] == "尺码不合"
    assert category_labels(world.foreign_org.pk, "en")["size_mismatch"] == "Size mismatch"


@pytest.mark.parametrize(
    ("labels", "field"),
    [
        ({"gold": {"label_en": "x"}}, "labels.gold"),
        ({"refund": {"label_en": "x" * 81}}, "labels.refund.label_en"),
        ({"refund": {"label_zh_hans": "退款\x1b[2J"}}, "labels.refund.label_zh_hans"),
        ({"refund": {"label_zh_hans": 5}}, "labels.refund.label_zh_hans"),
        ({"refund": {"label_fr": "x"}}, "labels.refund.label_fr"),
        ({"refund": "Money back"}, "labels.refund"),
    ],
)
def test_bad_labels_name_the_field_and_change_nothing(world, labels, field) -> None:
    CategoryLabel.objects.create(organization=world.org, category="refund", label_en="Money back")
    with pytest.raises(ValidationFailed) as err:
        category_labels_set(user=world.admin, labels={"other": {"label_en": "Misc"}, **labels})
    assert err.value.field == field
    assert list(CategoryLabel.objects.filter(organization=world.org).values_list("category", "label_en")) == [
        ("refund", "Money back")
    ]


def test_only_admins_change_labels_and_only_their_own(world) -> None:
    for user in (world.agent, world.viewer, world.approver):
        with pytest.raises(PermissionDenied):
            category_labels_set(user=user, labels={"refund": {"label_en": "x"}})
    category_labels_set(user=world.foreign_user, labels={"refund": {"label_en": "Theirs"}})
    assert not CategoryLabel.objects.filter(organization=world.org).exists()
    assert category_labels(world.org.pk, "en")["refund"] == "Refund"
