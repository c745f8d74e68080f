from __future__ import annotations

import json
import logging

import pytest
from django.contrib.auth.hashers import check_password, make_password
from django.test import override_settings

from aftersales.core.money import parse_money


def test_health_reports_database_and_queue(client, db):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["queue"]["status"] == "ok"
    assert response["X-Request-ID"]


def test_health_503_when_queue_is_down(client, db, monkeypatch):
    from huey.contrib.djhuey import HUEY

    def broken(limit: int | None = None) -> list[bytes]:
        raise ConnectionError("queue unreachable")

    monkeypatch.setattr(HUEY.storage, "enqueued_items", broken)
    response = client.get("/health")
    assert response.status_code == 503
    assert "queue unreachable" in response.json()["checks"]["queue"]["status"]


def test_health_reads_one_task_of_a_sqlite_queue_not_the_whole_table(client, db, tmp_path, monkeypatch):
    """Monitors poll /health during backlogs: the queue check must not scan (and cache) every waiting task."""
    import huey.contrib.djhuey as djhuey
    from huey import SqliteHuey

    queue = SqliteHuey("health-test", filename=str(tmp_path / "queue.db"))
    for number in range(50):
        queue.storage.enqueue(b"x" * 2000 + str(number).encode())
    statements: list[str] = []
    queue.storage.conn.set_trace_callback(statements.append)
    monkeypatch.setattr(djhuey, "HUEY", queue)

    response = client.get("/health")

    assert response.status_code == 200
    assert response.json()["checks"]["queue"]["status"] == "ok"
    reads = [sql for sql in statements if sql.lower().startswith("select")]
    assert len(reads) == 1
    assert "count(" not in reads[0].lower() and "limit" in reads[0].lower()


def test_request_id_is_propagated_and_logged_as_json(client, db, caplog):
    from pythonjsonlogger.json import JsonFormatter

    from aftersales.core.logging import RequestIdFilter

    with caplog.at_level(logging.INFO, logger="aftersales.request"):
        response = client.get("/health", HTTP_X_REQUEST_ID="abc123")
    assert response["X-Request-ID"] == "abc123"
    record = next(r for r in caplog.records if r.name == "aftersales.request")
    RequestIdFilter().filter(record)
    line = json.loads(JsonFormatter("%(levelname)s %(name)s %(message)s").format(record))
    assert line["message"] == "request" and line["status"] == 200 and line["path"] == "/health"


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher"])
def test_passwords_are_hashed_with_argon2():
    hashed = make_password("demo-pass-2026")
    assert hashed.startswith("argon2$argon2id$")
    assert check_password("demo-pass-2026", hashed)


def test_money_refuses_floats_and_unknown_currencies():
    from django.core.exceptions import ValidationError

    assert str(parse_money("19.90", "EUR").amount) == "19.90"
    for bad in [(19.9, "EUR"), ("abc", "EUR"), ("NaN", "USD"), ("1", "XYZ")]:
        with pytest.raises(ValidationError):
            parse_money(*bad)


def test_production_settings_refuse_without_secret(monkeypatch, tmp_path):
    import importlib
    import sys

    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("AFTERSALES_VAR_DIR", str(tmp_path))
    for name in ["aftersales.settings.production", "aftersales.settings.base"]:
        sys.modules.pop(name, None)
    try:
        with pytest.raises(ImproperlyConfigured):
            importlib.import_module("aftersales.settings.production")
        (tmp_path / "secret_key").write_text("k" * 50)
        prod = importlib.import_module("aftersales.settings.production")
        assert prod.SECRET_KEY == "k" * 50 and prod.DEBUG is False
        assert prod.ALLOWED_HOSTS == ["127.0.0.1", "localhost"]
    finally:
        for name in ["aftersales.settings.production", "aftersales.settings.base"]:
            sys.modules.pop(name, None)
        importlib.import_module("aftersales.settings.base")
