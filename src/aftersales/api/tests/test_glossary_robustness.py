"""Glossary CSV: exports neutralise spreadsheet formulas (CSV injection) and import back unchanged;
an unreadable multipart upload is a 400 in the API's error shape, never a 500."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from aftersales.core.spreadsheet import csv_cell, csv_cell_read
from aftersales.language.models import GlossaryTerm

from .helpers import ApiClient, assert_error

FORMULAS = ['=HYPERLINK("http://evil.example","click")', "@SUM(1)", "+1+cmd|' /C calc'!A0", "-2+3", "\tx"]


@pytest.mark.parametrize("value", [*FORMULAS, "plain", "", "'quoted", "a=b", "'=already", "''@x"])
def test_cells_round_trip(value):
    cell = csv_cell(value)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert csv_cell_read(cell) == value


def _terms(world):
    for i, term in enumerate(FORMULAS):
        GlossaryTerm.objects.create(
            organization=world.org,
            source_language="en",
            target_language="es",
            term=term.strip() if i % 2 == 0 else f"term {i}",  # the importer strips cells
            translation="@SUM(1)" if i % 2 else "ok",
            note="=1+1",
        )


def _cells(text: str) -> list[str]:
    return [cell for row in list(csv.reader(io.StringIO(text)))[1:] for cell in row]


def test_api_export_neutralises_formulas_and_imports_back_unchanged(world):
    _terms(world)
    before = sorted(GlossaryTerm.objects.values_list("term", "translation", "note"))
    admin = ApiClient(user=world.admin)
    export = admin.get("/glossary/export")
    assert export.status_code == 200
    cells = _cells(export.content.decode())
    assert cells and not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))], cells
    assert "'=HYPERLINK(" in export.content.decode() and "'@SUM(1)" in export.content.decode()
    again = admin.upload("/glossary/import", {"file": SimpleUploadedFile("g.csv", export.content, "text/csv")})
    assert again.status_code == 200, again.content
    assert again.json() == {"created": 0, "updated": len(FORMULAS)}
    assert sorted(GlossaryTerm.objects.values_list("term", "translation", "note")) == before


def test_web_export_neutralises_formulas(world):
    _terms(world)
    client = Client()
    client.force_login(world.admin)
    export = client.get(reverse("web:glossary_export"))
    cells = _cells(export.content.decode("utf-8-sig"))
    assert cells and not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))], cells


@pytest.mark.parametrize("content_type", ["multipart/form-data", "multipart/form-data; boundary="])
def test_api_import_without_a_multipart_boundary_is_a_400(world, content_type):
    response = ApiClient(user=world.admin).post("/glossary/import", raw=b"--x\r\nnothing", content_type=content_type)
    assert_error(response, 400, code="malformed_body", field="body")
    assert not GlossaryTerm.objects.exists()


@pytest.mark.parametrize("enforce_csrf", [False, True])
def test_web_import_without_a_multipart_boundary_is_refused_not_a_500(world, enforce_csrf):
    client = Client(enforce_csrf_checks=enforce_csrf, raise_request_exception=False)
    client.force_login(world.admin)
    client.get(reverse("web:settings"))
    headers = {"X-CSRFToken": client.cookies["csrftoken"].value} if enforce_csrf else {}
    response = client.generic(
        "POST", reverse("web:glossary_import"), b"--x\r\nnothing", content_type="multipart/form-data", headers=headers
    )
    # without CSRF enforcement the view reads the body and shows the form error; with it Django's CSRF
    # check reads it first and answers its 400 page
    assert response.status_code in {400, 422}
    assert not GlossaryTerm.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        "\r«h_",  # found by the fuzz test: a bare carriage return inside a field (csv.Error)
        "source_language,target_language,term,translation\r\nen,es,a\rb,c\r\n",
        "source_language,target_language,term,translation\nen,es,nul\x00term,x\n",
        "source_language,target_language,term,translation\nen,es,big," + "x" * 200_000 + "\n",
    ],
)
def test_api_import_of_unparsable_csv_is_a_422_naming_the_file(world, body):
    response = ApiClient(user=world.admin).post("/glossary/import", raw=body.encode(), content_type="text/csv")
    assert_error(response, 422, field="file")
    assert not GlossaryTerm.objects.exists()


def test_web_import_of_unparsable_csv_shows_the_error(world):
    client = Client()
    client.force_login(world.admin)
    upload = SimpleUploadedFile("g.csv", b"source_language,target_language,term\nen,es,nul\x00term\n", "text/csv")
    response = client.post(reverse("web:glossary_import"), {"file": upload})
    assert response.status_code == 422 and "NUL" in response.content.decode()
    assert not GlossaryTerm.objects.exists()


def test_a_quoted_line_break_is_still_one_cell(world):
    header = "source_language,target_language,term,translation,do_not_translate,case_sensitive,note\n"
    body = header + 'en,es,box,caja,false,false,"two\r\nlines"\n'
    response = ApiClient(user=world.admin).post("/glossary/import", raw=body.encode(), content_type="text/csv")
    assert response.status_code == 200, response.content
    assert GlossaryTerm.objects.get().note == "two\r\nlines"
