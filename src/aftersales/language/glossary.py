"""The termbase: forced translations and do-not-translate terms per organization and language pair.

Terms are applied through protection: a term in the source is masked before MT and put back as
its forced translation (or unchanged, for a do-not-translate term), so the provider cannot mangle
it. CSV import validates every row first and writes all rows or none."""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext

from aftersales.core.errors import ValidationFailed
from aftersales.core.spreadsheet import csv_cell_read, csv_dict_reader, csv_writer

from . import names
from .languages import SUPPORTED, normalise
from .models import ANY, GlossaryTerm
from .protection import Term

CSV_COLUMNS = [
    "source_language",
    "target_language",
    "term",
    "translation",
    "do_not_translate",
    "case_sensitive",
    "note",
]
MAX_IMPORT_ROWS = 20_000
_TRUE = {"1", "true", "yes", "y", "x"}
_FALSE = {"", "0", "false", "no", "n"}


def terms_for(organization_id: int, source: str, target: str) -> list[Term]:
    """The terms that apply to a pair; a pair-specific entry wins over a wildcard one."""
    rows = GlossaryTerm.objects.filter(
        Q(source_language__in=[source, ANY]) & Q(target_language__in=[target, ANY]), organization_id=organization_id
    ).order_by("term")
    chosen: dict[str, tuple[int, GlossaryTerm]] = {}
    for row in rows:
        specificity = (row.source_language != ANY) + (row.target_language != ANY)
        key = row.term if row.case_sensitive else row.term.casefold()
        if key not in chosen or chosen[key][0] < specificity:
            chosen[key] = (specificity, row)
    return [
        Term(row.term, row.term if row.do_not_translate else row.translation, row.case_sensitive)
        for _, row in chosen.values()
    ]


def terms_for_text(
    organization_id: int,
    source: str,
    target: str,
    text: str,
    *,
    terms: list[Term] | None = None,
    catalog: names.CatalogNames | None = None,
) -> list[Term]:
    """The glossary's terms for a pair, plus the product names and model codes found in `text`
    (catalog titles and brands, the model-code pattern: names.py), protected as themselves. A
    glossary entry for the same words wins over the name. `terms` (the pair's `terms_for`) and
    `catalog` (the organization's `names.catalog_names`): when the caller read them already."""
    if terms is None:
        terms = terms_for(organization_id, source, target)
    known = {t.term.casefold() for t in terms}
    return terms + [
        Term(name, name, case_sensitive=True, kind="name")
        for name in names.names_in(organization_id, text, catalog=catalog)
        if name.casefold() not in known
    ]


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


def _language(value: str, *, row: int, column: str) -> str:
    value = value.strip()
    if value == ANY:
        return ANY
    code = normalise(value)
    if code not in SUPPORTED:
        raise ValueError(f"row {row}: {column} {value!r} is not a supported language (or *)")
    return code


def _bool(value: str, *, row: int, column: str) -> bool:
    clean = value.strip().lower()
    if clean in _TRUE:
        return True
    if clean in _FALSE:
        return False
    raise ValueError(f"row {row}: {column} must be true or false, not {value!r}")


def parse_csv(content: str | bytes) -> list[dict]:
    """Validate a glossary CSV. Raises ValidationFailed naming every bad row (up to 20)."""
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationFailed(gettext("the glossary file must be UTF-8 text"), field="file") from None
    reader = csv_dict_reader(content, field="file")  # unparsable CSV or NUL cells: a 422 naming the line
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in ("source_language", "target_language", "term") if c not in header]
    if missing:
        raise ValidationFailed(
            gettext("the CSV header must have the columns %(join)s; missing: %(join2)s")
            % {"join": ", ".join(CSV_COLUMNS), "join2": ", ".join(missing)},
            field="file",
        )
    rows: list[dict] = []
    errors: list[str] = []
    seen: dict[tuple[str, str, str], int] = {}
    for number, raw in enumerate(reader, start=2):  # row 1 is the header
        if number - 1 > MAX_IMPORT_ROWS:
            raise ValidationFailed(
                gettext("at most %(max_import_rows)s rows per import") % {"max_import_rows": MAX_IMPORT_ROWS},
                field="file",
            )
        data = {(k or "").strip(): csv_cell_read(v or "") for k, v in raw.items() if k}  # an export's "'=x" is "=x"
        try:
            row: dict = {
                "source_language": _language(data.get("source_language", ""), row=number, column="source_language"),
                "target_language": _language(data.get("target_language", ""), row=number, column="target_language"),
                "term": data.get("term", "").strip(),
                "translation": data.get("translation", "").strip(),
                "do_not_translate": _bool(data.get("do_not_translate", ""), row=number, column="do_not_translate"),
                "case_sensitive": _bool(data.get("case_sensitive", ""), row=number, column="case_sensitive"),
                "note": data.get("note", "").strip()[:300],
            }
            if not row["term"] or len(row["term"]) > 200:
                raise ValueError(f"row {number}: term must have 1 to 200 characters")
            if len(row["translation"]) > 200:
                raise ValueError(f"row {number}: translation is longer than 200 characters")
            if not row["do_not_translate"] and not row["translation"]:
                raise ValueError(f"row {number}: a translation is required unless do_not_translate is true")
            if "⟦" in row["term"] or "⟧" in row["term"]:
                raise ValueError(f"row {number}: term must not contain ⟦ or ⟧")
            key = (row["source_language"], row["target_language"], row["term"])
            if key in seen:
                raise ValueError(f"row {number}: duplicate of row {seen[key]}")
            seen[key] = number
            rows.append(row)
        except ValueError as exc:
            errors.append(str(exc))
    if errors:
        shown = "; ".join(errors[:20]) + (f"; and {len(errors) - 20} more" if len(errors) > 20 else "")
        raise ValidationFailed(
            gettext("glossary not imported, nothing was changed: %(shown)s") % {"shown": shown}, field="file"
        )
    return rows


def import_rows(organization_id: int, rows: list[dict]) -> ImportResult:
    created = updated = 0
    with transaction.atomic():
        for row in rows:
            _, was_created = GlossaryTerm.objects.update_or_create(
                organization_id=organization_id,
                source_language=row["source_language"],
                target_language=row["target_language"],
                term=row["term"],
                defaults={k: row[k] for k in ("translation", "do_not_translate", "case_sensitive", "note")},
            )
            created += was_created
            updated += not was_created
    return ImportResult(created, updated)


def export_csv(organization_id: int) -> str:
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\n")  # formulas neutralised (CSV injection)
    writer.writerow(CSV_COLUMNS)
    for t in GlossaryTerm.objects.filter(organization_id=organization_id).order_by(
        "source_language", "target_language", "term"
    ):
        writer.writerow(
            [
                t.source_language,
                t.target_language,
                t.term,
                t.translation,
                "true" if t.do_not_translate else "false",
                "true" if t.case_sensitive else "false",
                t.note,
            ]
        )
    return out.getvalue()
