"""Translation settings for administrators: glossary CSV import (all or nothing, bad rows named)
and export, providers with their health, supported pairs (provider and route forms:
test_translation_providers_ui.py)."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from aftersales.language.models import GlossaryTerm

from .conftest import htmx_headers

IMPORT = reverse("web:glossary_import")
GOOD = (
    "source_language,target_language,term,translation,do_not_translate,case_sensitive,note\n"
    "*,*,Anker,,true,true,brand\n"
    "en,es,power bank,batería externa,false,false,\n"
)
BAD = (
    "source_language,target_language,term,translation,do_not_translate\n"
    "en,es,charger,cargador,false\n"
    "en,xx,cable,cable,false\n"
    "en,es,plug,,maybe\n"
)


def csv_file(content: str, name: str = "glossary.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode(), "text/csv")


def test_admin_sees_the_translation_settings(world, login):
    html = login(world.admin).get(reverse("web:settings")).content.decode()
    assert 'id="translation"' in html and "Glossary" in html and "0 terms." in html
    assert reverse("web:glossary_export") in html and IMPORT in html
    assert f'hx-get="{reverse("web:translation_providers")}"' in html and 'data-provider="apertium"' in html
    # organization admins are not Django staff: providers and routes are edited on this page
    assert "/admin/" not in html and 'id="route-form"' in html and 'data-provider-form="new"' in html
    pairs = html.split('id="language-pairs"', 1)[1].split("</dl>", 1)[0]
    assert "English →" in pairs and "Spanish" in pairs
    agent = login(world.agent).get(reverse("web:settings")).content.decode()
    assert 'id="translation"' not in agent and IMPORT not in agent


def test_provider_health_is_checked_on_request(world, login):
    response = login(world.admin).get(reverse("web:translation_providers"), **htmx_headers())
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('<div id="translation-providers"') and "hx-trigger" not in html
    assert 'data-health="ok"' in html and "Working" in html
    assert login(world.agent).get(reverse("web:translation_providers")).status_code == 403


def test_glossary_import_and_export(world, login):
    client = login(world.admin)
    response = client.post(IMPORT, {"file": csv_file(GOOD)})
    assert response.status_code == 302 and response["Location"].endswith("#translation")
    page = client.get(response["Location"]).content.decode()
    assert "Glossary imported: 2 new terms, 0 updated." in page and "2 terms." in page and "batería externa" in page
    export = client.get(reverse("web:glossary_export"))
    assert export.status_code == 200 and export["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="glossary-shenzhen-gadgets.csv"' in export["Content-Disposition"]
    text = export.content.decode("utf-8-sig")
    assert text.startswith("source_language,target_language,term,") and "en,es,power bank,batería externa" in text
    again = client.post(IMPORT, {"file": SimpleUploadedFile("g.csv", export.content, "text/csv")})
    assert again.status_code == 302 and GlossaryTerm.objects.count() == 2  # exported files import as they are


def test_glossary_import_errors_name_the_rows_and_change_nothing(world, login):
    client = login(world.admin)
    response = client.post(IMPORT, {"file": csv_file(BAD)})
    assert response.status_code == 422
    html = response.content.decode()
    assert "Glossary not imported; nothing was changed." in html
    assert "<li>row 3: target_language &#x27;xx&#x27; is not a supported language (or *)</li>" in html
    assert "<li>row 4: do_not_translate must be true or false, not &#x27;maybe&#x27;</li>" in html
    assert not GlossaryTerm.objects.exists()
    header = client.post(IMPORT, {"file": csv_file("word,meaning\nA,B\n")})
    assert header.status_code == 422 and "missing: source_language, target_language, term" in header.content.decode()
    missing = client.post(IMPORT, {})
    assert missing.status_code == 422 and "Choose a CSV file to import." in missing.content.decode()
    binary = client.post(IMPORT, {"file": SimpleUploadedFile("g.csv", b"\xff\xfe\x00bad", "text/csv")})
    assert binary.status_code == 422 and "UTF-8" in binary.content.decode()
    assert not GlossaryTerm.objects.exists()
    assert login(world.agent).post(IMPORT, {"file": csv_file(GOOD)}).status_code == 403
    assert login(world.agent).get(reverse("web:glossary_export")).status_code == 403
