from __future__ import annotations

import pytest

from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.language import glossary
from aftersales.language.models import GlossaryTerm
from aftersales.language.routing import translate_text
from aftersales.language.services import glossary_import_csv

CSV = """source_language,target_language,term,translation,do_not_translate,case_sensitive,note
*,*,RMA,,true,false,return authorisation
*,*,Acme Pods,,true,true,brand
en,es,power bank,batería externa,false,false,
"""


def test_csv_import_applies_forced_and_do_not_translate_terms_to_apertium(world) -> None:
    result = glossary_import_csv(user=world.admin, content=CSV.encode())
    assert (result.created, result.updated) == (3, 0)
    out = translate_text(
        organization_id=world.org.pk,
        text="Please return the power bank with the RMA number. The Acme Pods are fine.",
        source="en",
        target="es",
    )
    assert "batería externa" in out.text and "RMA" in out.text and "Acme Pods" in out.text
    assert set(out.glossary_applied) == {"power bank", "RMA", "Acme Pods"}


def test_reimport_updates_and_export_round_trips(world) -> None:
    glossary_import_csv(user=world.admin, content=CSV)
    again = glossary_import_csv(user=world.admin, content=CSV.replace("batería externa", "powerbank"))
    assert (again.created, again.updated) == (0, 3)
    exported = glossary.export_csv(world.org.pk)
    assert exported.splitlines()[0].startswith("source_language,target_language,term")
    assert "powerbank" in exported
    assert glossary.parse_csv(exported)  # what we export, we can import


def test_bad_rows_are_named_and_nothing_is_imported(world) -> None:
    bad = (
        CSV + "en,xx,foo,bar,false,false,\nen,es,,x,false,false,\nen,es,cable,,false,false,\nen,es,RMA,,maybe,false,\n"
    )
    with pytest.raises(ValidationFailed) as err:
        glossary_import_csv(user=world.admin, content=bad)
    message = err.value.message
    assert err.value.field == "file"
    for row in ("row 5", "row 6", "row 7", "row 8"):
        assert row in message
    assert "'xx'" in message and "do_not_translate" in message
    assert GlossaryTerm.objects.count() == 0


def test_missing_columns_duplicates_and_encoding(world) -> None:
    with pytest.raises(ValidationFailed, match="missing: term"):
        glossary.parse_csv("source_language,target_language\nen,es\n")
    with pytest.raises(ValidationFailed, match="row 3: duplicate of row 2"):
        glossary.parse_csv("source_language,target_language,term,translation\nen,es,a,b\nen,es,a,c\n")
    with pytest.raises(ValidationFailed, match="UTF-8"):
        glossary.parse_csv(b"\xff\xfe\x00bad")
    with pytest.raises(PermissionDenied):
        glossary_import_csv(user=world.agent, content=CSV)


def test_pair_specific_term_wins_over_wildcard(world) -> None:
    GlossaryTerm.objects.create(organization=world.org, term="case", translation="funda")
    GlossaryTerm.objects.create(
        organization=world.org, source_language="en", target_language="es", term="case", translation="carcasa"
    )
    (term,) = glossary.terms_for(world.org.pk, "en", "es")
    assert term.replacement == "carcasa"
