"""An over-long request line under /api/ gets the API's JSON error (414), checked against a real gunicorn
started with the configuration `make run` uses (scripts/gunicorn.conf.py), and the middleware alone."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "scripts" / "gunicorn.conf.py"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def gunicorn_port():  # type: ignore[no-untyped-def]
    port = _free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "aftersales.settings.test", "WEB_WORKERS": "1"}
    command = [sys.executable, "-m", "gunicorn", "aftersales.wsgi:application", "--config", str(CONFIG)]
    process = subprocess.Popen(
        [*command, "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # The configuration preloads the application in the master (scripts/gunicorn.conf.py): the port
        # opens once the application is imported, which takes a while on a busy machine.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None:
                    pytest.fail("gunicorn exited at start")
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not start within 120 s")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def _get(port: int, target: str) -> tuple[int, str, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", target, headers={"Host": "127.0.0.1"})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


@pytest.mark.slow
def test_real_gunicorn_answers_414_in_the_api_error_shape(gunicorn_port):
    status, content_type, body = _get(gunicorn_port, "/api/v1/tickets?q=" + "x" * 5000)
    assert status == 414 and content_type.startswith("application/json"), (status, content_type, body[:200])
    assert b'"code": "uri_too_long"' in body and b'"field": null' in body
    # the web UI gets a short text, not gunicorn's page
    status, content_type, body = _get(gunicorn_port, "/tickets/?q=" + "x" * 5000)
    assert status == 414 and content_type.startswith("text/plain") and b"<html" not in body
    # a URI within the limit reaches the API as before
    status, content_type, _body = _get(gunicorn_port, "/api/v1/openapi.json?" + "x" * 100)
    assert status != 414 and content_type.startswith("application/json")
    # beyond gunicorn's maximum (8190 bytes) gunicorn itself refuses the line: our worker answers in JSON
    status, content_type, body = _get(gunicorn_port, "/api/v1/tickets?q=" + "x" * 9000)
    assert status == 414 and content_type.startswith("application/json"), (status, content_type, body[:200])
    assert b'"code": "uri_too_long"' in body and b"<html" not in body


def test_the_middleware_alone(db):
    client = Client()
    response = client.get("/api/v1/tickets", {"q": "x" * 5000})
    assert response.status_code == 414
    assert response.json()["error"]["code"] == "uri_too_long"
    assert set(response.json()["error"]) == {"code", "message", "field"}
    assert response["X-Request-ID"]
    assert client.get("/", {"q": "x" * 5000}).status_code == 414
    assert client.get("/api/v1/tickets", {"q": "x" * 3000}).status_code == 401  # reached the API
