"""An organization's own wording for the fixed ticket categories (English and simplified Chinese).

The categories themselves are fixed (inbox.workflow.TicketCategory): rules, reports and templates
rely on them. An admin only renames them; a blank label falls back to the built-in one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from aftersales.accounts.audit import setting_changes_record
from aftersales.accounts.models import Organization, Permission, User
from aftersales.accounts.permissions import check_perm, organization_of
from aftersales.core.errors import ValidationFailed
from aftersales.core.validation import check_text

from ..models import CategoryLabel
from ..workflow import TicketCategory

MAX_LABEL = 80
LANGUAGES = ("label_en", "label_zh_hans")


@dataclass(frozen=True)
class CategoryLabelRow:
    """One category: its built-in labels and the organization's own ("" when it kept the built-in)."""

    category: str
    default_en: str
    default_zh_hans: str
    label_en: str
    label_zh_hans: str


def _defaults(language: str) -> dict[str, str]:
    with translation.override(language):
        return {value: str(label) for value, label in TicketCategory.choices}


def category_label_rows(*, user: User) -> list[CategoryLabelRow]:
    """Every category in the fixed order, with the organization's labels (anyone of it may read)."""
    check_perm(user, Permission.VIEW)
    own = {row.category: row for row in CategoryLabel.objects.filter(organization_id=organization_of(user))}
    en, zh = _defaults("en"), _defaults("zh-hans")
    rows = []
    for category in TicketCategory.values:
        label = own.get(category)
        rows.append(
            CategoryLabelRow(
                category=category,
                default_en=en[category],
                default_zh_hans=zh[category],
                label_en=label.label_en if label else "",
                label_zh_hans=label.label_zh_hans if label else "",
            )
        )
    return rows


def _clean_label(value: object, *, field: str) -> str:
    if value is None:
        return ""
    text = " ".join(check_text(value, field=field, one_line=True).split())  # type: ignore[arg-type]
    if len(text) > MAX_LABEL:
        raise ValidationFailed(_("a label has at most %(max)d characters") % {"max": MAX_LABEL}, field=field)
    return text


def check_category_labels(labels: Mapping[str, Mapping[str, object]]) -> dict[str, tuple[str, str]]:
    """{category: {"label_en": ..., "label_zh_hans": ...}} checked; fields are named
    `labels.<category>.<label_en|label_zh_hans>`."""
    clean: dict[str, tuple[str, str]] = {}
    for category, values in labels.items():
        if category not in TicketCategory.values:
            raise ValidationFailed(
                _("unknown category %(value)r; expected one of %(choices)s")
                % {"value": str(category)[:40], "choices": ", ".join(TicketCategory.values)},
                field=f"labels.{str(category)[:40]}",
            )
        if not isinstance(values, Mapping):
            raise ValidationFailed(_("must be an object with label_en and label_zh_hans"), field=f"labels.{category}")
        unknown = sorted(set(values) - set(LANGUAGES))
        if unknown:
            raise ValidationFailed(_("unknown field"), field=f"labels.{category}.{str(unknown[0])[:40]}")
        en, zh = (_clean_label(values.get(name), field=f"labels.{category}.{name}") for name in LANGUAGES)
        clean[category] = (en, zh)
    return clean


def _stored_labels(organization_id: int) -> Any:
    return CategoryLabel.objects.filter(organization_id=organization_id).values_list(
        "category", "label_en", "label_zh_hans"
    )


def category_labels_set(*, user: User, labels: Mapping[str, Mapping[str, object]]) -> list[CategoryLabelRow]:
    """Replace the organization's category labels: the categories given with a label keep it, the
    others (or both labels blank) go back to the built-in wording. Admins only; all or nothing.
    Locks the organization row so that two saves do not interleave."""
    check_perm(user, Permission.ADMINISTER)
    organization_id = organization_of(user)
    clean = check_category_labels(labels)
    with transaction.atomic():
        list(Organization.objects.select_for_update().filter(pk=organization_id).values_list("pk", flat=True))
        setting_changes_record(
            organization_id=organization_id,
            actor=user,
            setting="category_labels",
            old={c: [en, zh] for c, en, zh in _stored_labels(organization_id)},
            new={c: [en, zh] for c, (en, zh) in clean.items() if en or zh},
        )
        CategoryLabel.objects.filter(organization_id=organization_id).delete()
        CategoryLabel.objects.bulk_create(
            CategoryLabel(organization_id=organization_id, category=category, label_en=en, label_zh_hans=zh)
            for category, (en, zh) in clean.items()
            if en or zh
        )
    return category_label_rows(user=user)
