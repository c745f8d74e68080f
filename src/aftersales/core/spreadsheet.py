"""CSV in and out.

CSV files the product writes are opened in spreadsheets: a cell that starts with = + - @ (or a tab
or carriage return) would run as a formula (`=HYPERLINK(...)`, `@SUM(1)`: CSV injection). Every CSV
export writes its cells through `csv_writer`, which prefixes such a cell with an apostrophe (shown as
text by Excel, LibreOffice and Google Sheets); importers read cells back with `csv_cell_read`, so an
export imports again unchanged.

CSV files the product reads go through `csv_dict_reader`: a file the csv module cannot parse (a bare
carriage return inside a field, a field over the csv module's size limit) or a cell no database can
store (NUL) is a ValidationFailed naming the upload's field and the line, not a 500."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext

from .errors import ValidationFailed
from .validation import storable_text_problem

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _looks_like_formula(text: str) -> bool:
    # "'=x" is escaped too, so that reading it back cannot turn it into "=x"
    return text.lstrip("'").startswith(FORMULA_STARTS)


def csv_cell(value: Any) -> str:
    """The text of one cell, neutralised when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if _looks_like_formula(text) else text


def csv_cell_read(text: str) -> str:
    """Undo `csv_cell`: "'=x" -> "=x", "''=x" -> "'=x"; any other text is returned as it is."""
    if text.startswith("'") and _looks_like_formula(text):
        return text[1:]
    return text


class SafeCsvWriter:
    """csv.writer whose rows are neutralised cell by cell."""

    def __init__(self, out: Any, **kwargs: Any) -> None:
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: Any, **kwargs: Any) -> SafeCsvWriter:
    return SafeCsvWriter(out, **kwargs)


class _CheckedRows:
    """A csv.reader whose parse errors and unstorable cells become ValidationFailed."""

    def __init__(self, reader: Any, field: str) -> None:
        self._reader = reader
        self._field = field

    def __iter__(self) -> _CheckedRows:
        return self

    def __next__(self) -> list[str]:
        try:
            row: list[str] = next(self._reader)
        except csv.Error as exc:
            raise self._refuse(str(exc)) from None
        for cell in row:
            problem = storable_text_problem(cell)
            if problem:
                raise self._refuse(problem)
        return row

    @property
    def line_num(self) -> int:
        return int(self._reader.line_num)

    def _refuse(self, problem: str) -> ValidationFailed:
        message = gettext("the file is not valid CSV text (line %(line)d): %(problem)s") % {
            "line": self.line_num,
            "problem": problem,
        }
        return ValidationFailed(message, field=self._field)


def csv_dict_reader(text: str, *, field: str, **kwargs: Any) -> csv.DictReader[str]:
    """csv.DictReader over `text` (newlines as in the file, RFC 4180) whose errors name `field`."""
    reader = csv.DictReader(io.StringIO(text, newline=""), **kwargs)
    reader.reader = _CheckedRows(reader.reader, field)  # type: ignore[assignment]
    return reader
