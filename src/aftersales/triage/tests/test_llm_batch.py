"""The LLM provider beyond one message (issue 11 §3, docs/adr/0023): the API's batch goes through it
(bounded concurrency, each answer validated, a failed one falls back to the local model and says so),
"Test connection" (latency, model, precise errors, nothing saved), and calibrating its self-reported
confidence on the held-out split (a fake server with a known over-confident pattern). All against
local servers speaking the OpenAI Chat Completions protocol."""

from __future__ import annotations

import datetime
import http.server
import json
import ssl
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from aftersales.api.tests.helpers import ApiClient
from aftersales.language.tests.conftest import Request
from aftersales.triage import llm
from aftersales.triage.models import LLMProviderSettings
from aftersales.triage.selectors import llm_provider_settings
from aftersales.triage.services import (
    calibration_examples,
    calibration_heldout_examples,
    llm_provider_test,
    llm_provider_update,
)
from aftersales.triage.tests.test_llm import _local_llm_allowed  # noqa: F401  (autouse: a local server is allowed)

pytestmark = [pytest.mark.django_db]

MODEL = "qwen2.5:7b-instruct"


def _completion(content: Any, *, model: str = MODEL) -> tuple[int, Any]:
    text = content if isinstance(content, str) else json.dumps(content)
    return 200, {
        "object": "chat.completion",
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
    }


def _text(request: Request) -> str:
    return str(request.body["messages"][1]["content"].split("Message:\n", 1)[1])


def _configure(world, url: str, **extra: Any) -> LLMProviderSettings:  # type: ignore[no-untyped-def]
    values: dict[str, Any] = {
        "is_enabled": True,
        "base_url": url + "/v1",
        "model": MODEL,
        "api_key": "sk-test-123",
        "timeout_seconds": 1,
        "fields": ["intent", "urgency", "sentiment"],
    }
    values.update(extra)
    return llm_provider_update(user=world.admin, **values)


# --------------------------------------------------------------------------- the batch API


@pytest.mark.usefixtures("triage_model")
def test_a_batch_goes_through_the_provider_and_failed_answers_fall_back(world, protocol_server, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TRIAGE_LLM_BATCH_CONCURRENCY = 2
    lock = threading.Lock()
    in_flight = [0, 0]  # now, most at once

    def handle(request: Request) -> tuple[int, Any]:
        text = _text(request)
        with lock:
            in_flight[0] += 1
            in_flight[1] = max(in_flight[1], in_flight[0])
        try:
            if "colour" in text:
                return _completion(
                    {"intent": "hug_request", "confidence": 0.9, "urgency": "low", "sentiment": "neutral"}
                )
            if "slow" in text:
                threading.Event().wait(3.5)  # past the 3 s timeout, twice
            threading.Event().wait(0.05)
            confidence = 0.99 if "charger" in text else 0.93
            return _completion(
                {"intent": "missing_parts", "confidence": confidence, "urgency": "medium", "sentiment": "negative"}
            )
        finally:
            with lock:
                in_flight[0] -= 1

    server = protocol_server(handle)
    _configure(world, server.url, timeout_seconds=3)
    texts = [
        {"text": "The box came without the charger", "language": "en"},
        {"text": "I got the wrong colour", "language": "en"},
        {"text": "slow answer please, where is my parcel", "language": "en"},
        {"text": "Die Schrauben fehlen im Paket", "language": "de"},
        {"text": "The cable is missing from the box", "language": "en"},
    ]
    response = ApiClient(user=world.agent).post("/triage/classify", {"texts": texts})
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert len(server.requests) == 6  # one each, the slow one twice (a batch makes at most 2 attempts)
    assert in_flight[1] <= 2
    first, invalid, slow, german, cable = results
    assert (first["engine"], first["intent"]) == (f"llm:{MODEL}", "missing_parts")
    assert first["engine_note"] == "LLM confidence not calibrated: its intent needs 0.95 to act without a human"
    assert not first["needs_human"]  # 0.99 >= the uncalibrated threshold (0.95)
    assert german["engine"] == f"llm:{MODEL}" and german["language"] == "de"
    # uncalibrated: a reported 0.93 is not trusted to act alone
    assert cable["engine"] == f"llm:{MODEL}" and cable["needs_human"] and "low_confidence" in cable["reasons"]
    assert invalid["engine"] == "local" and invalid["intent"] != "hug_request"
    assert "invalid_answer" in invalid["engine_note"] and "hug_request" in invalid["engine_note"]
    assert slow["engine"] == "local" and "timeout" in slow["engine_note"]
    assert set(first) == set(invalid)  # the same schema whoever answered
    assert "LLM answer not used" in llm_provider_settings(world.admin).last_error


@pytest.mark.usefixtures("triage_model")
def test_a_batch_stops_waiting_at_its_deadline_and_within_the_limits(world, protocol_server, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TRIAGE_API_TIMEOUT = 2.0
    settings.TRIAGE_LLM_BATCH_SECONDS = 2.0  # the worker's budget: 4 s less the time spent, less 1.5 s
    good = {"intent": "order_status", "confidence": 0.99, "urgency": "low", "sentiment": "neutral"}

    def handle(request: Request) -> tuple[int, Any]:
        threading.Event().wait(4.0 if "late" in _text(request) else 0.0)
        return _completion(good)

    server = protocol_server(handle)
    _configure(world, server.url, timeout_seconds=5, max_per_minute=3)
    texts = [{"text": "where is my order 1 late", "language": "en"}] + [
        {"text": f"where is my order {i}", "language": "en"} for i in range(2, 5)
    ]
    started = time.monotonic()
    response = ApiClient(user=world.agent).post("/triage/classify", {"texts": texts})
    assert response.status_code == 200, response.content
    assert time.monotonic() - started < 3.9  # did not wait for the late answer
    late, second, third, over = response.json()["results"]
    assert late["engine"] == "local" and "timeout" in late["engine_note"] and "within the batch" in late["engine_note"]
    assert second["engine"] == third["engine"] == f"llm:{MODEL}"
    assert over["engine"] == "local" and "per minute" in over["engine_note"]  # the fourth is over the limit
    assert len(server.requests) == 3


# --------------------------------------------------------------------------- test connection


def _self_signed_https(handler_body: bytes, tmp_path: Path) -> http.server.ThreadingHTTPServer:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(tz=datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(handler_body)))
            self.end_headers()
            self.wfile.write(handler_body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def test_test_connection_reports_latency_model_and_precise_errors(world, protocol_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    good = {"intent": "item_not_received", "confidence": 0.9, "urgency": "medium", "sentiment": "neutral"}
    server = protocol_server(lambda request: _completion(good, model="qwen2.5:7b-instruct-q4_K_M"))
    result = llm_provider_test(user=world.admin, base_url=server.url + "/v1", model=MODEL, api_key="sk-typed")
    assert result.ok and result.model == "qwen2.5:7b-instruct-q4_K_M" and result.configured_model == MODEL
    assert result.intent == "item_not_received" and 0 <= result.latency_ms < 5000 and result.error_kind == ""
    [request] = server.requests
    assert request.headers["Authorization"] == "Bearer sk-typed"
    assert not LLMProviderSettings.objects.exists()  # nothing saved

    denied = protocol_server(lambda request: (401, {"error": {"message": "Incorrect API key provided"}}))
    failed = llm_provider_test(user=world.admin, base_url=denied.url + "/v1", model=MODEL)
    assert (failed.ok, failed.error_kind) == (False, "auth") and "Incorrect API key" in failed.error
    assert len(denied.requests) == 1  # one attempt

    bad = protocol_server(lambda request: _completion({**good, "urgency": "critical"}))
    failed = llm_provider_test(user=world.admin, base_url=bad.url + "/v1", model=MODEL)
    assert failed.error_kind == "invalid_answer" and "unknown urgency" in failed.error

    slow = protocol_server(lambda request: _completion(good))
    slow.delay = 1.5
    failed = llm_provider_test(user=world.admin, base_url=slow.url + "/v1", model=MODEL, timeout_seconds=1)
    assert failed.error_kind == "timeout" and failed.latency_ms >= 900 and len(slow.requests) == 1

    https = _self_signed_https(json.dumps(_completion(good)[1]).encode(), tmp_path)
    try:
        url = f"https://127.0.0.1:{https.server_address[1]}/v1"
        failed = llm_provider_test(user=world.admin, base_url=url, model=MODEL)
    finally:
        https.shutdown()
        https.server_close()
    assert failed.error_kind == "tls" and "certificate" in failed.error.lower()

    # the stored settings are used for what is not given; the stored key when the field is empty
    _configure(world, server.url)
    before = LLMProviderSettings.objects.get(organization=world.org)
    result = llm_provider_test(user=world.admin, api_key="")
    assert result.ok and server.requests[-1].headers["Authorization"] == "Bearer sk-test-123"
    failed = llm_provider_test(user=world.admin, base_url=denied.url + "/v1")
    after = LLMProviderSettings.objects.get(organization=world.org)
    assert (after.base_url, after.last_error, after.updated_at) == (before.base_url, "", before.updated_at)


def test_test_connection_through_the_api_and_the_settings_page(  # type: ignore[no-untyped-def]
    world, protocol_server, client, django_capture_on_commit_callbacks
) -> None:
    """The web request only writes the test (202 / a running fragment that polls); the worker sends it
    after commit; the result is kept for the organization's admins (API and page), the typed key wiped."""
    from aftersales.triage.models import LLMConnectionTest

    good = {"intent": "item_not_received", "confidence": 0.9, "urgency": "medium", "sentiment": "neutral"}
    server = protocol_server(lambda request: _completion(good))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = ApiClient(user=world.admin).post(
            "/triage/llm-provider/test", {"base_url": server.url + "/v1", "model": MODEL, "api_key": "sk-typed"}
        )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "running" and not body["ok"] and server.requests == []  # nothing sent yet
    test = LLMConnectionTest.objects.get(pk=body["id"])
    assert test.credentials == {"api_key": "sk-typed"}  # encrypted at rest until the worker used it
    for callback in callbacks:  # the worker (Huey's immediate mode runs the task here)
        callback()
    polled = ApiClient(user=world.admin).get(f"/triage/llm-provider/test/{body['id']}")
    assert polled.status_code == 200
    done = polled.json()
    assert done["status"] == "done" and done["ok"] and done["model"] == MODEL and done["error_kind"] == ""
    assert server.requests[0].headers["Authorization"] == "Bearer sk-typed"
    test.refresh_from_db()
    assert test.credentials == {} and test.finished_at is not None
    assert ApiClient(user=world.agent).get(f"/triage/llm-provider/test/{body['id']}").status_code == 403
    assert ApiClient(user=world.foreign_user).get(f"/triage/llm-provider/test/{body['id']}").status_code in (403, 404)
    response = ApiClient(user=world.admin).post("/triage/llm-provider/test", {"base_url": "https://169.254.169.254/v1"})
    assert response.status_code == 422 and response.json()["error"]["field"] == "base_url"
    assert ApiClient(user=world.agent).post("/triage/llm-provider/test", {}).status_code == 403
    assert LLMConnectionTest.objects.count() == 1  # refused requests wrote nothing

    client.force_login(world.admin)
    form = {"base_url": server.url + "/v1", "model": MODEL, "api_key": "", "timeout_seconds": "2"}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        page = client.post("/settings/triage/llm/test/", form, HTTP_HX_REQUEST="true")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-status="running"' in text and "hx-get=" in text  # polls while the worker works
    test = LLMConnectionTest.objects.latest("pk")
    for callback in callbacks:
        callback()
    text = client.get(f"/settings/triage/llm/test/{test.pk}/").content.decode()
    assert 'data-status="done"' in text and 'data-ok="true"' in text and f"{MODEL} answered in" in text
    assert "hx-get=" not in text  # polling stops
    denied = protocol_server(lambda request: (403, {"error": {"message": "forbidden"}}))
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post("/settings/triage/llm/test/", {**form, "base_url": denied.url + "/v1"})  # no JavaScript
    assert page.status_code == 200 and f'value="{denied.url}/v1"' in page.content.decode()  # what was typed is kept
    text = client.get("/settings/triage/").content.decode()  # the latest test, kept for the admins
    assert 'data-error-kind="auth"' in text and "Authentication failed" in text
    assert not LLMProviderSettings.objects.exists()


def test_a_connection_test_nobody_ran_is_stale(world, settings) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from django.utils import timezone

    from aftersales.triage.models import LLMConnectionTest
    from aftersales.triage.selectors import llm_connection_test_get

    test = LLMConnectionTest.objects.create(
        organization=world.org, base_url="https://llm.example/v1", model=MODEL, timeout_seconds=5
    )
    assert llm_connection_test_get(world.admin, test.pk).status == "running"
    LLMConnectionTest.objects.filter(pk=test.pk).update(created_at=timezone.now() - timedelta(minutes=3))
    assert llm_connection_test_get(world.admin, test.pk).status == "stale"


# --------------------------------------------------------------------------- calibration


def _overconfident_server(protocol_server):  # type: ignore[no-untyped-def]
    """Answers the calibration and held-out messages with a known pattern: half reported at 0.99 of
    which 60% are right, half at 0.80 of which 20% are right (over-confident both times); other texts
    by a marker."""
    splits = (calibration_examples(), calibration_heldout_examples())
    truth = {e.text[: llm.MAX_PROMPT_TEXT]: e.intent for split in splits for e in split}
    order = {  # the pattern holds within each split
        text: i for split in splits for i, text in enumerate(sorted({e.text[: llm.MAX_PROMPT_TEXT] for e in split}))
    }

    def handle(request: Request) -> tuple[int, Any]:
        text = _text(request)
        if text in truth:
            i = order[text]
            sure = i % 2 == 0
            right = (i // 2) % 5 < (3 if sure else 1)
            intent = truth[text] if right else ("spam_other" if truth[text] != "spam_other" else "praise_thanks")
            confidence = 0.99 if sure else 0.8
        else:
            intent, confidence = "missing_parts", (0.99 if "SURE" in text else 0.8)
        return _completion({"intent": intent, "confidence": confidence, "urgency": "medium", "sentiment": "neutral"})

    return protocol_server(handle)


@pytest.mark.usefixtures("triage_model")
def test_calibration_maps_an_overconfident_provider_to_its_observed_accuracy(  # type: ignore[no-untyped-def]
    world, protocol_server, client, settings
) -> None:
    settings.TRIAGE_LLM_CALIBRATION_MIN_PER_LANGUAGE = 10_000  # the global map only (per language: below)
    server = _overconfident_server(protocol_server)
    _configure(world, server.url, timeout_seconds=10)  # a loaded machine must not turn answers into timeouts
    client.force_login(world.admin)
    page = client.get("/settings/triage/").content.decode()
    assert 'id="llm-uncalibrated"' in page and "95%" in page

    call_command("triage_llm_calibrate", organization=world.org.pk, stdout=open("/dev/null", "w"))  # noqa: SIM115
    examples = len(calibration_examples())
    assert len(server.requests) >= examples  # one each (a transient failure is asked again)
    view = llm_provider_settings(world.admin)
    assert view.calibration is not None and view.calibration.answered == examples
    points = view.calibration.points
    assert abs(llm.calibrated(0.99, points) - 0.6) < 0.06 and abs(llm.calibrated(0.8, points) - 0.2) < 0.06
    assert view.calibration.ece_after < view.calibration.ece_before
    page = client.get("/settings/triage/").content.decode()
    assert 'id="llm-calibrated"' in page and 'id="llm-uncalibrated"' not in page

    # applied: the reported 0.99 becomes ~0.6, the reported 0.8 ~0.2 (a human decides)
    texts = [
        {"text": "SURE: the charger is missing", "language": "en"},
        {"text": "the cable is missing", "language": "en"},
    ]
    results = ApiClient(user=world.agent).post("/triage/classify", {"texts": texts}).json()["results"]
    assert results[0]["engine"] == f"llm:{MODEL}" and abs(results[0]["confidence"] - 0.6) < 0.06
    assert abs(results[1]["confidence"] - 0.2) < 0.06 and "low_confidence" in results[1]["reasons"]
    assert "global map" in results[0]["engine_note"]

    # fitted on the calibration split (dev), measured on the held-out split, which it never saw
    row = LLMProviderSettings.objects.get(organization=world.org)
    assert row.calibration["split"] == "dev" and row.calibration["languages"] == {}
    held = row.calibration["heldout"]
    assert held["answered"] == len(calibration_heldout_examples()) and set(held["languages"]) == {
        "de",
        "en",
        "es",
        "zh",
    }
    assert abs(held["accuracy"] - 0.4) < 0.06 and held["ece_after"] < held["ece_before"]
    assert not {e.text for e in calibration_examples()} & {e.text for e in calibration_heldout_examples()}

    # per language where there are enough answers (23 per language here): each its own map
    settings.TRIAGE_LLM_CALIBRATION_MIN_PER_LANGUAGE = 20
    call_command("triage_llm_calibrate", organization=world.org.pk, stdout=open("/dev/null", "w"))  # noqa: SIM115
    row.refresh_from_db()
    assert set(row.calibration["languages"]) == {"de", "en", "es", "zh"}
    en = row.calibration["languages"]["en"]["points"]
    [result] = ApiClient(user=world.agent).post("/triage/classify", {"texts": texts[:1]}).json()["results"]
    assert result["engine_note"] == "LLM confidence calibrated with the language's own map (en)"
    assert abs(result["confidence"] - llm.calibrated(0.99, en)) < 1e-3
    page = client.get("/settings/triage/").content.decode()
    assert 'id="llm-calibration-languages"' in page and "en (23)" in page and 'id="llm-calibration-heldout"' in page

    # a calibration belongs to one model: changing it forgets the fit, and the stricter threshold is back
    llm_provider_update(user=world.admin, model="another-model")
    assert llm_provider_settings(world.admin).calibration is None


@pytest.mark.usefixtures("triage_model")
def test_calibrating_from_the_settings_page_runs_in_the_worker(  # type: ignore[no-untyped-def]
    world, protocol_server, client, django_capture_on_commit_callbacks
) -> None:
    server = _overconfident_server(protocol_server)
    _configure(world, server.url, is_enabled=False, timeout_seconds=10)  # calibrating before switching it on
    client.force_login(world.agent)
    assert client.post("/settings/triage/llm/calibrate/").status_code == 403
    client.force_login(world.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/settings/triage/llm/calibrate/")
    assert response.status_code == 302
    row = LLMProviderSettings.objects.get(organization=world.org)
    assert row.calibration_started_at is None and row.calibration_error == ""
    assert row.calibration["model"] == MODEL and row.calibration["examples"] == len(calibration_examples())

    # a provider that answers nothing valid: the page says why, nothing is stored
    broken = protocol_server(lambda request: _completion("not json"))
    _configure(world, broken.url, is_enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/settings/triage/llm/calibrate/")
    row.refresh_from_db()
    assert row.calibration == {} and "answers were valid" in row.calibration_error
    page = client.get("/settings/triage/").content.decode()
    assert 'id="llm-calibration-error"' in page and 'id="llm-uncalibrated"' in page

    response = ApiClient(user=world.admin).post("/triage/llm-provider/calibrate", {})
    assert response.status_code == 202 and response.json()["calibration_running"]
    assert ApiClient(user=world.admin).post("/triage/llm-provider/calibrate", {}).status_code == 409


def test_the_calibration_notice_in_simplified_chinese(world, client) -> None:  # type: ignore[no-untyped-def]
    from django.urls import reverse

    LLMProviderSettings.objects.create(
        organization=world.org,
        base_url="https://api.example.com/v1",
        model=MODEL,
        calibration={
            "points": [[0.8, 0.2], [0.99, 0.6]],
            "model": MODEL,
            "base_url": "https://api.example.com/v1",
            "examples": 184,
            "answered": 180,
            "accuracy": 0.4,
            "mean_reported": 0.9,
            "ece_before": 0.5,
            "ece_after": 0.01,
        },
    )
    client.force_login(world.admin)
    assert client.post(reverse("web:settings_language"), {"language": "zh-hans"}).status_code == 302
    page = client.get("/settings/triage/").content.decode()
    assert "置信度校准" in page and "测试连接" in page and "立即校准" in page
    assert f"已针对 {MODEL} 校准，使用 184 条校准消息中的 180 条" in page and "40% 正确" in page
    LLMProviderSettings.objects.filter(organization=world.org).update(model="other")  # not this model's fit
    assert "尚未针对此服务器和模型校准" in client.get("/settings/triage/").content.decode()
