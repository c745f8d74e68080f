"""Scale-out on the real Redis of this machine: a "web" process commits replies and enqueues their
delivery; two separate Huey worker processes (RedisHuey) consume the queue and deliver over a real
SMTP server. Every reply is delivered exactly once, even when its task is enqueued twice."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import pytest
import redis
from django.db import connection

from aftersales.catalog.models import Platform
from aftersales.inbox.models import DeliveryStatus, Message
from aftersales.inbox.services import InboundMessage, message_ingest
from aftersales.testing.factories import StoreFactory

REDIS_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _redis_or_fail() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis must be reachable at {REDIS_URL} in CI")
        pytest.skip(f"no Redis at {REDIS_URL}")
    return client


def _database_url() -> str:
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


ENQUEUE = """
import django, sys
django.setup()
from aftersales.accounts.models import User
from aftersales.inbox.models import Ticket
from aftersales.inbox.services import ticket_reply
from aftersales.inbox.tasks import deliver_reply
agent = User.objects.get(username="alice")
ids = []
for ticket in Ticket.objects.filter(store__platform="email").order_by("pk"):
    ids.append(ticket_reply(ticket=ticket, author=agent, body=f"Reply for #{ticket.pk}").pk)
for message_id in ids:
    deliver_reply(message_id)  # a duplicate enqueue: the claim must make it harmless
print(len(ids))
"""


def test_replies_flow_through_redis_to_two_workers_exactly_once(world, smtp_server):
    client = _redis_or_fail()
    queue_name = f"aftersalestest{uuid.uuid4().hex[:8]}"  # huey keeps only alphanumerics
    store = StoreFactory(organization=world.org, name="Mailbox", platform=Platform.EMAIL)
    world.team_us.stores.add(store)
    for i in range(6):
        message_ingest(
            inbound=InboundMessage(
                store=store,
                external_id=f"<m{i}@example.net>",
                body=f"Where is my parcel {i}?",
                subject=f"Order {i}",
                customer_external_id=f"buyer{i}@example.net",
                customer_email=f"buyer{i}@example.net",
            )
        )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "aftersales.settings.test",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": REDIS_URL,
        "HUEY_NAME": queue_name,
        "HUEY_IMMEDIATE": "false",
        "AFTERSALES_TEST_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_server.port),
    }
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "aftersales.manage", "run_huey", "--workers", "2", "--quiet"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    try:
        out = subprocess.run(
            [sys.executable, "-c", ENQUEUE], env=env, capture_output=True, text=True, timeout=60, check=True
        )
        assert out.stdout.strip() == "6"
        deadline = time.monotonic() + 90  # generous: a loaded CI machine is slower
        while time.monotonic() < deadline:
            statuses = list(Message.objects.filter(direction="outbound").values_list("delivery_status", flat=True))
            if len(statuses) == 6 and all(s == DeliveryStatus.SENT for s in statuses):
                break
            time.sleep(0.2)
        assert statuses == [DeliveryStatus.SENT] * 6
        time.sleep(0.5)  # let the duplicate tasks run too
        assert len(smtp_server.received) == 6
        assert sorted(m["To"] for m in smtp_server.received) == sorted(f"buyer{i}@example.net" for i in range(6))
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(timeout=10)
        for key in client.scan_iter(f"*{queue_name}*"):
            client.delete(key)


def test_redis_cache_backend_round_trip(settings):
    _redis_or_fail()
    from django.core.cache.backends.redis import RedisCache

    cache = RedisCache(REDIS_URL, {})
    key = f"aftersales-test-{uuid.uuid4().hex}"
    cache.set(key, {"a": 1}, timeout=5)
    assert cache.get(key) == {"a": 1}
    assert cache.add(key, "other") is False  # add is atomic: usable as a lock
    cache.delete(key)
