"""Outbound webhooks (notifications.webhooks) and the outbox (notifications.outbox): refused
destinations, the pinned connection, the signature, no redirects, bounded responses, retries with
backoff, at most one delivery. A local HTTP server on 127.0.0.1 receives, through the installation's
allowlist; without it the same server (and every private range) is refused."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.server
import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from aftersales.core.errors import ValidationFailed
from aftersales.notifications import outbox, webhooks
from aftersales.notifications.models import OutboxKind, OutboxMessage, OutboxStatus
from aftersales.notifications.outbox import outbox_deliver, outbox_enqueue, webhook_secret

pytestmark = pytest.mark.django_db


class Receiver(http.server.BaseHTTPRequestHandler):
    server: Any

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        self.server.hits.append({"path": self.path, "headers": dict(self.headers), "body": body})
        status, extra, payload, delay = self.server.plan.pop(0) if self.server.plan else (200, {}, b"ok", 0)
        if delay:
            time.sleep(delay)
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Any]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.hits = []  # type: ignore[attr-defined]
    server.plan = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def local_allowed(settings: Any) -> Any:
    settings.WEBHOOKS_ALLOW_HTTP = True
    settings.WEBHOOKS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    return settings


def url_of(server: Any, path: str = "/hook") -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


# --------------------------------------------------------------------------- checks


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "198.18.0.1",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    ],
)
def test_private_loopback_link_local_multicast_reserved_are_blocked(address: str) -> None:
    assert webhooks.address_blocked(ipaddress.ip_address(address))
    assert not webhooks.address_allowed(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert webhooks.address_allowed(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://hooks.example.com/x", "https"),
        ("ftp://hooks.example.com/x", "https"),
        ("https://user:pw@hooks.example.com/x", "credentials"),
        ("https://token@hooks.example.com/x", "credentials"),
        ("https://127.0.0.1/x", "private"),
        ("https://10.0.0.8/x", "private"),
        ("https://169.254.169.254/latest/meta-data/", "private"),
        ("https://[::1]/x", "private"),
        ("https://[::ffff:127.0.0.1]/x", "private"),
        ("https://localhost/x", "private"),
        ("https://metadata.google.internal/x", "private"),
        ("https:///x", "host"),
        ("https://hooks.example.com:99999/x", "valid"),
        ("https://hooks.example.com/x y", "spaces"),
        ("https://hooks.example.com/x#frag", "fragment"),
        ("", "URL"),
        (5, "URL"),
    ],
)
def test_url_refused_on_save_naming_the_field(url: Any, why: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        webhooks.check_webhook_url(url, field="actions[0].params.url")
    assert info.value.field == "actions[0].params.url"
    assert why in info.value.message


def test_url_accepted() -> None:
    assert webhooks.check_webhook_url(" https://hooks.example.com/a?b=1 ", field="url") == (
        "https://hooks.example.com/a?b=1"
    )


def test_http_and_loopback_only_with_the_installation_settings(local_allowed: Any) -> None:
    assert webhooks.check_webhook_url("http://127.0.0.1:8080/x", field="url")
    assert webhooks.check_webhook_url("http://localhost:8080/x", field="url")
    with pytest.raises(ValidationFailed):  # the allowlist names 127.0.0.1 only
        webhooks.check_webhook_url("http://10.0.0.1/x", field="url")


def _fake_dns(monkeypatch: Any, table: dict[str, list[str]]) -> list[str]:
    calls: list[str] = []
    real = socket.getaddrinfo

    def fake(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(host)
        if host in table:
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in table[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(webhooks.socket, "getaddrinfo", fake)
    return calls


def test_a_name_resolving_to_a_private_address_is_refused_at_send_time(monkeypatch: Any) -> None:
    _fake_dns(
        monkeypatch,
        {"rebind.example.com": ["10.0.0.7"], "mixed.example.com": ["93.184.216.34", "127.0.0.1"]},
    )
    with pytest.raises(webhooks.WebhookRefused, match=r"10\.0\.0\.7"):
        webhooks.webhook_post("https://rebind.example.com/h", b"{}", secret="s")
    with pytest.raises(webhooks.WebhookRefused, match=r"127\.0\.0\.1"):
        webhooks.webhook_post("https://mixed.example.com/h", b"{}", secret="s")


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "10.0.0.1", "169.254.169.254"])
def test_literal_private_addresses_are_refused_at_send_time(host: str, settings: Any) -> None:
    settings.WEBHOOKS_ALLOW_HTTP = True
    with pytest.raises(webhooks.WebhookRefused):
        webhooks.webhook_post(f"http://{host}:9/h", b"{}", secret="s")


# --------------------------------------------------------------------------- sending


def test_signed_post_to_the_checked_address_with_the_host_kept(
    receiver: Any, local_allowed: Any, monkeypatch: Any
) -> None:
    calls = _fake_dns(monkeypatch, {"hooks.example.test": ["127.0.0.1"]})
    port = receiver.server_address[1]
    response = webhooks.webhook_post(f"http://hooks.example.test:{port}/in", b'{"a":1}', secret="k3y")
    assert response.status == 200 and response.body == b"ok"
    names = [c for c in calls if not c.replace(".", "").isdigit()]
    assert names == ["hooks.example.test"]  # resolved once; then connected to the checked 127.0.0.1
    hit = receiver.hits[0]
    assert hit["headers"]["Host"] == f"hooks.example.test:{port}"
    timestamp = hit["headers"]["X-Aftersales-Timestamp"]
    expected = hmac.new(b"k3y", f"{timestamp}.".encode() + b'{"a":1}', hashlib.sha256).hexdigest()
    assert hit["headers"]["X-Aftersales-Signature"] == f"sha256={expected}"
    assert abs(int(timestamp) - time.time()) < 60


def test_the_local_receiver_is_refused_without_the_allowlist(receiver: Any, settings: Any, world: Any) -> None:
    settings.WEBHOOKS_ALLOW_HTTP = True
    message = _webhook_row(world, url_of(receiver))
    assert outbox_deliver(message.pk) == OutboxStatus.FAILED
    message.refresh_from_db()
    assert "blocked address" in message.last_error and receiver.hits == []


def test_redirects_are_not_followed(receiver: Any, local_allowed: Any, world: Any) -> None:
    receiver.plan.append((302, {"Location": url_of(receiver, "/elsewhere")}, b"", 0))
    message = _webhook_row(world, url_of(receiver))
    assert outbox_deliver(message.pk) == OutboxStatus.FAILED
    message.refresh_from_db()
    assert message.last_error == "HTTP 302" and [h["path"] for h in receiver.hits] == ["/hook"]


def test_the_response_is_read_up_to_the_bound(receiver: Any, local_allowed: Any) -> None:
    receiver.plan.append((200, {}, b"x" * (1024 * 1024), 0))
    response = webhooks.webhook_post(url_of(receiver), b"{}", secret="s")
    assert response.status == 200 and len(response.body) == webhooks.WEBHOOK_MAX_RESPONSE_BYTES


def _webhook_row(world: Any, url: str, key: str = "k1") -> OutboxMessage:
    return outbox_enqueue(
        organization_id=world.org.pk,
        kind=OutboxKind.WEBHOOK,
        dedupe_key=key,
        source="test",
        recipient=url,
        payload={"hello": "world"},
    )


def test_5xx_and_timeouts_retry_with_backoff_then_deliver_once(
    receiver: Any, local_allowed: Any, world: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(webhooks, "READ_TIMEOUT", 0.3)
    receiver.plan.extend([(503, {}, b"busy", 0), (200, {}, b"", 1.0)])
    message = _webhook_row(world, url_of(receiver))
    assert outbox_deliver(message.pk) == OutboxStatus.PENDING
    message.refresh_from_db()
    assert message.attempts == 1 and message.last_error == "HTTP 503" and message.next_attempt_at
    assert outbox_deliver(message.pk) == "skipped"  # not due yet
    later = message.next_attempt_at + timedelta(seconds=1)
    monkeypatch.setattr(outbox, "now", lambda: later)
    assert outbox_deliver(message.pk) == OutboxStatus.PENDING  # the receiver took too long
    message.refresh_from_db()
    assert message.attempts == 2 and "Timeout" in message.last_error
    assert message.next_attempt_at - later >= timedelta(seconds=outbox.BACKOFF_SECONDS[1] - 1)
    monkeypatch.setattr(outbox, "now", lambda: later + timedelta(hours=1))
    assert outbox.outbox_retry_due() == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT and message.response_status == 200
    assert outbox_deliver(message.pk) == "skipped" and outbox.outbox_retry_due() == 0
    assert len(receiver.hits) == 3


def test_gives_up_after_max_attempts(receiver: Any, local_allowed: Any, world: Any, monkeypatch: Any) -> None:
    receiver.plan.extend([(500, {}, b"", 0)] * outbox.MAX_ATTEMPTS)
    message = _webhook_row(world, url_of(receiver))
    at = message.next_attempt_at
    for _ in range(outbox.MAX_ATTEMPTS):
        at = at + timedelta(days=1)
        monkeypatch.setattr(outbox, "now", lambda at=at: at)
        outbox_deliver(message.pk)
    message.refresh_from_db()
    assert message.status == OutboxStatus.FAILED and message.attempts == outbox.MAX_ATTEMPTS


def test_enqueue_twice_is_one_row_and_one_delivery(
    receiver: Any, local_allowed: Any, world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = _webhook_row(world, url_of(receiver), key="same")
        second = _webhook_row(world, url_of(receiver), key="same")
    assert first.pk == second.pk and OutboxMessage.objects.count() == 1
    assert OutboxMessage.objects.get().status == OutboxStatus.SENT
    assert len(receiver.hits) == 1


def test_the_signing_secret_is_encrypted_at_rest(world: Any) -> None:
    from django.db import connection

    secret = webhook_secret(world.org.pk)
    assert secret == webhook_secret(world.org.pk) and len(secret) >= 32
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM notifications_webhooksigningkey")
        stored = cursor.fetchone()[0]
    assert secret not in stored and stored.startswith("gAAAA")
    from aftersales.notifications.signing import signing_key_rotate

    assert signing_key_rotate(world.admin, channel="api")[0] == webhook_secret(world.org.pk) != secret


def test_email_rows_are_sent_once_each(world: Any, mailoutbox: Any, monkeypatch: Any) -> None:
    """Two recipients, the second's SMTP call fails: the retry sends to the second only."""
    rows = [
        outbox_enqueue(
            organization_id=world.org.pk,
            kind=OutboxKind.EMAIL,
            dedupe_key=f"mail:{n}",
            source="test",
            recipient=f"{n}@example.com",
            payload={"subject": "S", "body": "B"},
        )
        for n in ("a", "b")
    ]
    real = outbox._send_email

    def flaky(message: OutboxMessage) -> Any:
        if message.recipient.startswith("b") and message.attempts == 1:
            raise ConnectionRefusedError("smtp down")
        return real(message)

    monkeypatch.setattr(outbox, "_send_email", flaky)
    results = [outbox_deliver(r.pk) for r in rows]
    assert results == [OutboxStatus.SENT, OutboxStatus.PENDING]
    later = OutboxMessage.objects.get(pk=rows[1].pk).next_attempt_at + timedelta(seconds=1)
    monkeypatch.setattr(outbox, "now", lambda: later)
    assert outbox.outbox_retry_due() == 1
    assert [m.to for m in mailoutbox] == [["a@example.com"], ["b@example.com"]]
