"""The language engine through the API: message translations (re-translate, correct), translated
reply drafts and replies that keep the agent's original, templates, batch jobs, providers and
routes, the glossary (CSV in and out) and the translation memory.

Translations use the real offline Apertium en<->es; the outage case uses a local protocol server."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from aftersales.inbox.models import Attachment, Message, MessageDirection
from aftersales.language.models import (
    AttachmentText,
    GlossaryTerm,
    MemorySegment,
    MessageTranslationState,
    ProviderConfig,
    ReplyTemplate,
    ReplyTemplateVariant,
    TranslationJob,
    TranslationRoute,
    TranslationStatus,
)
from aftersales.language.tests.conftest import ProtocolServer

from .fixtures import build_scene
from .helpers import RawBody, assert_error, db_state

GLOSSARY_CSV = (
    "source_language,target_language,term,translation,do_not_translate,case_sensitive,note\n"
    "*,*,Acme Buds,,true,false,brand\n"
    "en,es,refund,reembolso,false,false,\n"
)


@pytest.fixture(autouse=True)
def _no_provider_marks():  # type: ignore[no-untyped-def]
    cache.clear()  # "provider down" marks must not leak between tests
    yield
    cache.clear()


@pytest.fixture
def scene(world):
    scene = build_scene(world)
    Message.objects.filter(pk=scene.inbound.pk).update(language="en")
    scene.inbound.refresh_from_db()
    return scene


@pytest.fixture
def agent(world, as_user):
    return as_user(world.agent)


@pytest.fixture
def admin(world, as_user):
    return as_user(world.admin)


def language_rows() -> dict[str, int]:
    return {
        "terms": GlossaryTerm.objects.count(),
        "segments": MemorySegment.objects.count(),
        "templates": ReplyTemplate.objects.count(),
        "variants": ReplyTemplateVariant.objects.count(),
        "jobs": TranslationJob.objects.count(),
        "providers": ProviderConfig.objects.count(),
        "routes": TranslationRoute.objects.count(),
    }


# --- message translations -------------------------------------------------------------------


def test_retranslate_then_read_the_translation_with_attachment_text(scene, agent):
    url = f"/messages/{scene.inbound.pk}"
    response = agent.post(f"{url}/retranslate", {"target_language": "es"})
    assert response.status_code == 200, response.content
    spanish = response.json()["translations"]["es"]
    assert spanish["provider"] == "apertium" and spanish["quality"] == "draft" and spanish["text"]
    attachment = Attachment.objects.create(
        message=scene.inbound, file="attachments/label.png", filename="label.png", content_type="image/png", size=1
    )
    AttachmentText.objects.create(
        attachment=attachment, kind="ocr", engine="rapidocr", text="RETURN LABEL", language="en", blocks=[]
    )
    body = agent.get(f"{url}/translation").json()
    assert body["message_id"] == scene.inbound.pk and body["language"] == "en"
    assert body["pending"] is False
    assert body["translations"]["es"]["text"] == spanish["text"]
    assert body["attachments"] == [
        {
            "attachment_id": attachment.pk,
            "filename": "label.png",
            "kind": "ocr",
            "engine": "rapidocr",
            "text": "RETURN LABEL",
            "language": "en",
            "blocks": [],
            "translations": {},
            "error": "",
        }
    ]


def test_translation_pending_while_a_provider_is_down(scene, agent):
    MessageTranslationState.objects.create(
        message=scene.inbound, status=TranslationStatus.PENDING, last_error="deepl: unavailable"
    )
    body = agent.get(f"/messages/{scene.inbound.pk}/translation").json()
    assert body["pending"] is True and body["status"] == "pending" and body["translations"] == {}


def test_retranslate_refuses_bad_input(world, scene, agent, as_user):
    url = f"/messages/{scene.inbound.pk}/retranslate"
    error = assert_error(agent.post(url, {"target_language": "de"}), 422, field="target_language")
    assert error["code"] == "unsupported_language_pair" and "en-es" in error["message"]
    assert_error(agent.post(url, {"target_language": "klingon"}), 422, field="target_language")
    assert_error(agent.post(url, {"target": "es"}), 422, field="target")
    foreign = Message.objects.create(
        ticket=scene.foreign_ticket, store=scene.foreign_ticket.store, direction=MessageDirection.INBOUND, body="Hi"
    )
    assert_error(agent.post(f"/messages/{foreign.pk}/retranslate", {}), 404, field="message_id")
    assert_error(agent.get(f"/messages/{foreign.pk}/translation"), 404, field="message_id")
    assert_error(as_user(world.outsider).post(url, {}), 404, field="message_id")
    assert_error(as_user(world.viewer).post(url, {"target_language": "es"}), 403)
    assert agent.post(url, {"target_language": "es"}).status_code == 200


def test_retranslate_outage_is_a_503(world, scene, agent):
    def down(request: Any) -> tuple[int, Any]:
        return 503, {"error": {"message": "overloaded"}}

    server = ProtocolServer(down).start()
    try:
        ProviderConfig.objects.create(
            organization=world.org,
            name="llm",
            kind="openai",
            base_url=server.url + "/v1",
            options={"model": "m", "languages": ["en", "de"]},
        )
        response = agent.post(f"/messages/{scene.inbound.pk}/retranslate", {"target_language": "de"})
    finally:
        server.stop()
    assert_error(response, 503, field="target_language", code="translation_unavailable")


def test_correction_is_shown_and_remembered(world, scene, agent):
    response = agent.post(
        f"/messages/{scene.inbound.pk}/translation/correct",
        {"target_language": "es", "text": "El auricular izquierdo hace ruido"},
    )
    assert response.status_code == 200, response.content
    entry = response.json()["translations"]["es"]
    assert entry["text"] == "El auricular izquierdo hace ruido" and entry["provider"] == "agent"
    assert "corrected" in entry["flags"]
    memory = agent.get("/translation-memory").json()
    assert memory["total"] == 1
    assert memory["items"][0]["target_text"] == "El auricular izquierdo hace ruido"
    assert memory["items"][0]["created_by_id"] == world.agent.pk
    # the memory wins next time
    again = agent.post(f"/messages/{scene.inbound.pk}/retranslate", {"target_language": "es"}).json()
    assert again["translations"]["es"]["provider"] == "memory"


def test_correction_refuses_bad_input(world, scene, agent, as_user):
    url = f"/messages/{scene.inbound.pk}/translation/correct"
    before = language_rows()
    assert_error(agent.post(url, {"target_language": "es", "text": "   "}), 422, field="text")
    assert_error(agent.post(url, {"target_language": "es", "text": "x" * 20_001}), 422, field="text")
    assert_error(agent.post(url, {"target_language": "en", "text": "same"}), 422, field="target_language")
    assert_error(agent.post(url, {"target_language": "xx", "text": "hola"}), 422, field="target_language")
    assert_error(agent.post(url, {"text": "hola"}), 422, field="target_language")
    assert_error(as_user(world.viewer).post(url, {"target_language": "es", "text": "hola"}), 403)
    foreign = Message.objects.create(
        ticket=scene.foreign_ticket, store=scene.foreign_ticket.store, direction=MessageDirection.INBOUND, body="Hi"
    )
    foreign_url = f"/messages/{foreign.pk}/translation/correct"
    assert_error(agent.post(foreign_url, {"target_language": "es", "text": "hola"}), 404, field="message_id")
    assert language_rows() == before


# --- reply drafts and replies ---------------------------------------------------------------


def test_reply_draft_translates_and_writes_nothing(world, scene, agent):
    GlossaryTerm.objects.create(organization=world.org, term="Acme Buds", do_not_translate=True)
    before, rows = db_state(), language_rows()
    response = agent.post(
        f"/tickets/{scene.ticket.pk}/reply-drafts",
        {"text": "Your Acme Buds are on the way.", "source_language": "en", "target_language": "es"},
    )
    assert response.status_code == 200, response.content
    draft = response.json()
    assert draft["language"] == "es" and draft["original_language"] == "en"
    assert draft["provider"] == "apertium" and draft["quality"] == "draft"
    assert "Acme Buds" in draft["text"] and draft["glossary_applied"] == ["Acme Buds"]
    assert draft["back_translation"] and draft["text"] != draft["original_text"]
    assert set(draft) == {
        "original_text",
        "original_language",
        "text",
        "language",
        "back_translation",
        "provider",
        "quality",
        "glossary_applied",
        "tm_applied",
        "flags",
        "variant",
    }
    assert draft["variant"] == ""  # Spanish has no regional variant here
    assert db_state() == before and language_rows() == rows


def test_reply_draft_defaults_to_the_customer_language(world, scene, agent):
    Message.objects.create(
        ticket=scene.ticket,
        store=scene.ticket.store,
        direction=MessageDirection.INBOUND,
        channel=scene.ticket.platform,
        body="Hola, mi paquete no ha llegado todavía.",
        language="es",
    )
    world.agent.language = "en"
    world.agent.save()
    draft = agent.post(f"/tickets/{scene.ticket.pk}/reply-drafts", {"text": "We are sorry."}).json()
    assert draft["language"] == "es" and draft["original_language"] == "en"


def test_reply_draft_refuses_bad_input(world, scene, agent, as_user):
    url = f"/tickets/{scene.ticket.pk}/reply-drafts"
    assert_error(agent.post(url, {"text": ""}), 422, field="text")
    assert_error(agent.post(url, {"text": "  \n "}), 422, field="text")
    assert_error(agent.post(url, {"text": "x" * 20_001}), 422, field="text")
    error = assert_error(agent.post(url, {"text": "Hello", "target_language": "de"}), 422, field="target_language")
    assert error["code"] == "unsupported_language_pair" and "supported pairs: " in error["message"]
    assert "en-es" in error["message"]
    assert_error(agent.post(url, {"text": "Hello", "source_language": "xx"}), 422, field="source_language")
    assert_error(agent.post(url, {"text": "Hello", "tone": "warm"}), 422, field="tone")
    assert_error(agent.post(f"/tickets/{scene.foreign_ticket.pk}/reply-drafts", {"text": "Hi"}), 404, field="ticket_id")
    assert_error(as_user(world.viewer).post(url, {"text": "Hello"}), 403)


def test_reply_keeps_the_original_and_a_replay_records_nothing(world, scene, agent, monkeypatch):
    from aftersales.language import services as language_services

    calls: list[int] = []
    real = language_services.reply_record_translation

    def counting(**kwargs: Any) -> Any:
        calls.append(kwargs["message"].pk)
        return real(**kwargs)

    monkeypatch.setattr(language_services, "reply_record_translation", counting)
    draft = agent.post(
        f"/tickets/{scene.ticket.pk}/reply-drafts",
        {"text": "Your parcel is on its way.", "source_language": "en", "target_language": "es"},
    ).json()
    url = f"/tickets/{scene.ticket.pk}/replies"
    body = {"body": draft["text"], "original_text": draft["original_text"], "original_language": "en"}
    first = agent.post(url, body, headers={"Idempotency-Key": "r-1"})
    assert first.status_code == 201, first.content
    reply = first.json()
    assert reply["body"] == draft["text"]
    assert reply["translations"]["en"]["text"] == "Your parcel is on its way."
    assert reply["translations"]["en"]["provider"] == "author"
    stamp = reply["translations"]["en"]["at"]
    again = agent.post(url, body, headers={"Idempotency-Key": "r-1"})
    assert again.status_code == 200 and again.json()["id"] == reply["id"]
    assert again.json()["translations"]["en"]["at"] == stamp
    assert calls == [reply["id"]]
    other = {**body, "original_text": "Something else"}
    assert_error(agent.post(url, other, headers={"Idempotency-Key": "r-1"}), 409, field="original_text")
    assert Message.objects.get(pk=reply["id"]).translations["en"]["text"] == "Your parcel is on its way."


def test_reply_original_needs_both_fields_and_writes_nothing_when_refused(world, scene, agent):
    url = f"/tickets/{scene.ticket.pk}/replies"
    before = db_state()
    assert_error(agent.post(url, {"body": "Hola", "original_text": "Hello"}), 422, field="original_language")
    assert_error(agent.post(url, {"body": "Hola", "original_language": "en"}), 422, field="original_text")
    assert_error(
        agent.post(url, {"body": "Hola", "original_text": "  ", "original_language": "en"}), 422, field="original_text"
    )
    assert_error(
        agent.post(url, {"body": "Hola", "original_text": "Hello", "original_language": "klingon"}),
        422,
        field="original_language",
    )
    assert_error(
        agent.post(url, {"body": "Hola", "original_text": "x" * 20_001, "original_language": "en"}),
        422,
        field="original_text",
    )
    assert db_state() == before
    plain = agent.post(url, {"body": "Plain reply"})
    assert plain.status_code == 201 and plain.json()["translations"] == {}


# --- templates ------------------------------------------------------------------------------

TEMPLATE = {
    "name": "Shipped",
    "source_language": "en",
    "bodies": {"en": "Hello {{ customer.first_name }}, your order {{ order.number }} has shipped."},
    "category": "not_received",
}


def test_templates_are_saved_rendered_translated_and_approved(world, scene, agent, admin):
    created = admin.post("/reply-templates", TEMPLATE)
    assert created.status_code == 201, created.content
    template = created.json()
    assert [v["language"] for v in template["variants"]] == ["en"] and template["category"] == "not_received"
    assert admin.post("/reply-templates", {**TEMPLATE, "is_auto_reply": True}).status_code == 200
    listed = agent.get("/reply-templates").json()
    assert [t["name"] for t in listed] == ["Shipped"] and listed[0]["is_auto_reply"] is True

    scene.ticket.customer.name = "Jane Doe"
    scene.ticket.customer.save()
    render = f"/reply-templates/{template['id']}/render"
    english = agent.post(render, {"ticket_id": scene.ticket.pk})
    assert english.status_code == 200, english.content
    out = english.json()
    assert out["language"] == "en" and not out["needs_review"] and not out["machine_translated"]
    assert out["text"] == f"Hello Jane, your order {scene.ticket.order.external_id} has shipped."

    spanish = agent.post(render, {"ticket_id": scene.ticket.pk, "language": "es"}).json()
    assert spanish["language"] == "es" and spanish["needs_review"] and spanish["provider"] == "apertium"
    assert "Jane" in spanish["text"] and scene.ticket.order.external_id in spanish["text"]

    approve = f"/reply-templates/{template['id']}/variants/es/approve"
    assert_error(agent.post(approve, {}), 403)
    approved = admin.post(approve, {})
    assert approved.status_code == 200, approved.content
    assert approved.json()["language"] == "es" and approved.json()["needs_review"] is False
    edited = admin.post(approve, {"body": "Hola {{ customer.first_name }}, su pedido ha salido."}).json()
    assert edited["body"].startswith("Hola {{ customer.first_name }}")
    again = agent.post(render, {"ticket_id": scene.ticket.pk, "language": "es"}).json()
    assert again["text"] == "Hola Jane, su pedido ha salido." and not again["needs_review"]


def test_templates_refuse_bad_input(world, scene, agent, admin, as_user):
    assert_error(agent.post("/reply-templates", TEMPLATE), 403)
    bad = {**TEMPLATE, "bodies": {"en": "Hi {{ customer.password }} {{ secret }}"}}
    error = assert_error(admin.post("/reply-templates", bad), 422, field="bodies[en]")
    assert "secret" in error["message"]
    assert_error(admin.post("/reply-templates", {**TEMPLATE, "bodies": {}}), 422, field="bodies")
    assert_error(admin.post("/reply-templates", {**TEMPLATE, "bodies": {"en": ""}}), 422, field="bodies[en]")
    assert_error(admin.post("/reply-templates", {**TEMPLATE, "category": "gossip"}), 422, field="category")
    assert_error(admin.post("/reply-templates", {**TEMPLATE, "source_language": "xx"}), 422, field="source_language")
    assert ReplyTemplate.objects.count() == 0

    template_id = admin.post("/reply-templates", TEMPLATE).json()["id"]
    render = f"/reply-templates/{template_id}/render"
    assert_error(agent.post(render, {"ticket_id": scene.foreign_ticket.pk}), 404, field="ticket_id")
    assert_error(agent.post(render, {"ticket_id": scene.de_ticket.pk}), 404, field="ticket_id")
    assert_error(agent.post(render, {}), 422, field="ticket_id")
    error = assert_error(agent.post(render, {"ticket_id": scene.ticket.pk, "language": "de"}), 422, field="language")
    assert error["code"] == "unsupported_language_pair"
    assert_error(as_user(world.viewer).post(render, {"ticket_id": scene.ticket.pk}), 403)
    foreign = as_user(world.foreign_user)
    assert_error(foreign.post(render, {"ticket_id": scene.foreign_ticket.pk}), 404, field="template_id")
    assert_error(admin.post(f"/reply-templates/{template_id}/variants/de/approve", {}), 404, field="language")
    assert_error(foreign.post(f"/reply-templates/{template_id}/variants/en/approve", {}), 404, field="template_id")


# --- batch jobs -----------------------------------------------------------------------------


def test_translation_job_runs_and_reports_progress(world, scene, agent, as_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        created = agent.post("/translation-jobs", {"ticket_ids": [scene.ticket.pk], "target_languages": ["es"]})
    assert created.status_code == 201, created.content
    job = created.json()
    assert job["status"] == "queued" and job["total"] == 1
    progress = agent.get(f"/translation-jobs/{job['id']}").json()
    assert (progress["status"], progress["done"], progress["failed"], progress["percent"]) == ("done", 1, 0, 100)
    assert Message.objects.get(pk=scene.inbound.pk).translations["es"]["provider"] == "apertium"
    assert as_user(world.teammate).get(f"/translation-jobs/{job['id']}").status_code == 200
    assert_error(as_user(world.outsider).get(f"/translation-jobs/{job['id']}"), 404, field="job_id")
    assert_error(as_user(world.foreign_user).get(f"/translation-jobs/{job['id']}"), 404, field="job_id")


def test_translation_job_refuses_bad_input(world, scene, agent, as_user):
    before = language_rows()
    assert_error(agent.post("/translation-jobs", {"ticket_ids": []}), 422, field="ticket_ids")
    assert_error(agent.post("/translation-jobs", {"ticket_ids": list(range(1, 502))}), 422, field="ticket_ids")
    assert_error(agent.post("/translation-jobs", {"ticket_ids": [scene.foreign_ticket.pk]}), 404, field="ticket_ids")
    assert_error(agent.post("/translation-jobs", {"ticket_ids": [scene.de_ticket.pk]}), 404, field="ticket_ids")
    bad_language = {"ticket_ids": [scene.ticket.pk], "target_languages": ["xx"]}
    assert_error(agent.post("/translation-jobs", bad_language), 422, field="target_languages")
    assert_error(as_user(world.viewer).post("/translation-jobs", {"ticket_ids": [scene.ticket.pk]}), 403)
    assert language_rows() == before
    assert_error(agent.get("/translation-jobs/999999"), 404, field="job_id")


# --- configuration --------------------------------------------------------------------------


def test_supported_pairs(agent):
    pairs = agent.get("/language/pairs").json()["pairs"]
    assert "en-es" in pairs and "es-en" in pairs and "en-de" not in pairs


def test_providers_credentials_are_write_only_and_encrypted(world, admin, agent):
    listed = admin.get("/language/providers", {"check": "true"}).json()
    assert [(p["name"], p["ok"], p["config"]) for p in listed] == [("apertium", True, None)]
    body = {
        "kind": "deepl",
        "base_url": "http://127.0.0.1:9/v2",
        "credentials": {"api_key": "secret-key-123"},
        "priority": 5,
    }
    saved = admin.put("/language/providers/deepl-main", body)
    assert saved.status_code == 200, saved.content
    assert saved.json()["credential_names"] == ["api_key"] and saved.json()["priority"] == 5
    assert b"secret-key-123" not in saved.content
    kept = admin.put("/language/providers/deepl-main", {"kind": "deepl", "base_url": "http://127.0.0.1:9/v2"})
    assert kept.json()["credential_names"] == ["api_key"] and kept.json()["priority"] == 100
    listing = admin.get("/language/providers")
    assert b"secret-key-123" not in listing.content
    deepl = next(p for p in listing.json() if p["name"] == "deepl-main")
    assert deepl["kind"] == "deepl" and deepl["config"]["credential_names"] == ["api_key"]
    assert deepl["ok"] is False and deepl["detail"] == ""  # not checked unless asked
    config = ProviderConfig.objects.get(organization=world.org, name="deepl-main")
    assert config.credentials == {"api_key": "secret-key-123"}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT credentials FROM {ProviderConfig._meta.db_table} WHERE id = %s", [config.pk])  # noqa: S608
        raw = cursor.fetchone()[0]
    assert "secret-key-123" not in str(raw)
    cleared = admin.put("/language/providers/deepl-main", {**body, "credentials": {}})
    assert cleared.json()["credential_names"] == []


def test_providers_refuse_bad_input(world, admin, agent):
    url = "/language/providers/mt"
    assert_error(admin.put(url, {"kind": "babelfish"}), 422, field="kind")
    assert_error(admin.put(url, {"kind": "deepl", "base_url": "ftp://x"}), 422, field="base_url")
    assert_error(admin.put(url, {"kind": "deepl", "timeout_seconds": 0}), 422, field="timeout_seconds")
    assert_error(admin.put(url, {"kind": "deepl", "credentials": {"api_key": 42}}), 422, field="credentials.api_key")
    assert_error(admin.put(url, {"kind": "deepl", "credentials": {"k": "x" * 4001}}), 422, field="credentials")
    assert_error(admin.put("/language/providers/" + "n" * 61, {"kind": "deepl"}), 422, field="name")
    assert_error(admin.put("/language/providers/a%00b", {"kind": "deepl"}), 422, field="name")
    assert_error(admin.put("/language/providers/%20%20", {"kind": "deepl"}), 422, field="name")
    assert_error(agent.put(url, {"kind": "deepl"}), 403)
    assert_error(agent.get("/language/providers"), 403)
    assert_error(admin.get("/language/providers", {"chek": "true"}), 422, field="chek")
    assert ProviderConfig.objects.count() == 0


def test_routes(world, admin, agent):
    admin.put("/language/providers/local", {"kind": "apertium"})
    routes = admin.put(
        "/language/routes", {"source_language": "en", "target_language": "*", "provider_names": ["local"]}
    )
    assert routes.status_code == 200, routes.content
    assert routes.json() == [{"source_language": "en", "target_language": "*", "position": 0, "provider": "local"}]
    unknown = {"source_language": "en", "target_language": "es", "provider_names": ["nope"]}
    assert_error(admin.put("/language/routes", unknown), 422, field="provider_names")
    bad = {"source_language": "xx", "target_language": "es", "provider_names": ["local"]}
    assert_error(admin.put("/language/routes", bad), 422, field="source_language")
    assert_error(agent.put("/language/routes", {**unknown, "provider_names": ["local"]}), 403)
    cleared = admin.put("/language/routes", {"source_language": "en", "target_language": "*", "provider_names": []})
    assert cleared.json() == [] and TranslationRoute.objects.count() == 0


def test_glossary_import_list_and_export(world, admin, agent, as_user):
    imported = admin.post("/glossary/import", RawBody(GLOSSARY_CSV, "text/csv"))
    assert imported.status_code == 200, imported.content
    assert imported.json() == {"created": 2, "updated": 0}
    page = agent.get("/glossary").json()
    assert page["total"] == 2 and [t["term"] for t in page["items"]] == ["Acme Buds", "refund"]
    assert agent.get("/glossary", {"limit": 1, "offset": 1}).json()["items"][0]["term"] == "refund"
    assert as_user(world.foreign_user).get("/glossary").json() == {"items": [], "total": 0}

    export = admin.get("/glossary/export")
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    assert "attachment" in export["Content-Disposition"]
    text = export.content.decode()
    assert text.splitlines()[0] == GLOSSARY_CSV.splitlines()[0] and "en,es,refund,reembolso" in text

    upload = SimpleUploadedFile("terms.csv", export.content, content_type="text/csv")
    again = admin.upload("/glossary/import", {"file": upload})
    assert again.status_code == 200, again.content
    assert again.json() == {"created": 0, "updated": 2}


def test_glossary_import_refuses_bad_csv_and_imports_nothing(world, admin, agent, settings, monkeypatch):
    from aftersales.api.routers import language_config

    bad = GLOSSARY_CSV + "en,xx,box,caja,false,false,\nen,es,,caja,false,false,\nen,es,box,,maybe,false,\n"
    error = assert_error(admin.post("/glossary/import", RawBody(bad, "text/csv")), 422, field="file")
    assert "row 4" in error["message"] and "row 5" in error["message"] and "row 6" in error["message"]
    assert "nothing was changed" in error["message"]
    assert_error(admin.post("/glossary/import", RawBody("term\nbox\n", "text/csv")), 422, field="file")
    assert_error(admin.post("/glossary/import", RawBody("", "text/csv")), 422, field="file")
    assert_error(admin.post("/glossary/import", RawBody(b"\xff\xfe\x00bad", "text/csv")), 422, field="file")
    assert_error(admin.post("/glossary/import", {"csv": GLOSSARY_CSV}), 415, field="file")
    assert_error(admin.upload("/glossary/import", {"other": "x"}), 422, field="file")
    assert_error(agent.post("/glossary/import", RawBody(GLOSSARY_CSV, "text/csv")), 403)
    assert_error(agent.get("/glossary/export"), 403)
    monkeypatch.setattr(language_config, "MAX_IMPORT_BYTES", 100)
    big = SimpleUploadedFile("big.csv", GLOSSARY_CSV.encode() * 3, content_type="text/csv")
    assert_error(admin.upload("/glossary/import", {"file": big}), 413, field="file")
    assert_error(admin.post("/glossary/import", RawBody(GLOSSARY_CSV * 3, "text/csv")), 413, field="file")
    monkeypatch.setattr(language_config, "MAX_IMPORT_BYTES", 10_000_000)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    assert_error(admin.post("/glossary/import", RawBody(GLOSSARY_CSV * 3, "text/csv")), 413)
    assert GlossaryTerm.objects.count() == 0


def test_translation_memory_is_scoped_and_paged(world, scene, agent, as_user):
    for text in ("uno", "dos"):
        agent.post(f"/messages/{scene.inbound.pk}/translation/correct", {"target_language": "es", "text": text})
    page = agent.get("/translation-memory", {"limit": 1}).json()
    assert page["total"] == 1 and page["items"][0]["target_text"] == "dos"  # the same source: updated
    assert as_user(world.foreign_user).get("/translation-memory").json()["total"] == 0
    assert_error(agent.get("/translation-memory", {"limit": 0}), 422, field="limit")
    assert_error(agent.get("/translation-memory", {"limit": 501}), 422, field="limit")
