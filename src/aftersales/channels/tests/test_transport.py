"""PlatformClient, the rate limiter, the write-back ledger, webhooks, delivery through a connector,
the sync command and the periodic task."""

from __future__ import annotations

import io
import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from django.core.management import call_command
from django.test import Client

from aftersales.channels import ratelimit
from aftersales.channels.base import AuthError, ConnectorError, RateLimited, RefundRequest, Stream
from aftersales.channels.http import PlatformClient, parse_retry_after
from aftersales.channels.models import RateBucket, RawEvent, StoreSync, WriteBack, WriteBackStatus
from aftersales.channels.sync import store_context, store_sync_for
from aftersales.channels.tasks import poll_notifications, stores_to_sync
from aftersales.channels.tests import testshop
from aftersales.channels.writeback import writeback_perform, writeback_resolve, writebacks_mark_unknown
from aftersales.core.actors import Actor
from aftersales.core.clock import now
from aftersales.inbox.models import DeliveryStatus, Ticket
from aftersales.inbox.services import message_deliver
from aftersales.testing.factories import StoreFactory
from aftersales.testing.fake_platform import FakePlatform, json_response

from .test_sync import msg

pytestmark = pytest.mark.django_db


# --- PlatformClient ----------------------------------------------------------------------------


class Echo(FakePlatform):
    def setup_routes(self) -> None:
        self.route("GET", r"/ok", lambda r: json_response({"ok": True}))
        self.route("GET", r"/bad", lambda r: json_response({"errors": [{"errorId": 1234, "longMessage": "no"}]}, 400))
        self.route("GET", r"/slow", self.slow)

    def slow(self, request):  # type: ignore[no-untyped-def]
        import time

        time.sleep(0.5)
        return json_response({})


@pytest.fixture
def echo():  # type: ignore[no-untyped-def]
    with Echo().running() as fake:
        yield fake


@pytest.fixture
def ctx(shop):  # type: ignore[no-untyped-def]
    return store_context(shop)


def client(ctx, echo, **kwargs):  # type: ignore[no-untyped-def]
    waits: list[float] = []
    return PlatformClient(ctx, base_url=echo.url, backoff=0.01, sleep=waits.append, **kwargs), waits


def test_parse_retry_after_seconds_and_http_date():
    assert parse_retry_after("12") == 12.0
    at = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now=at) == 30.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_429_is_rate_limited_with_retry_after_and_retried(ctx, echo):
    c, waits = client(ctx, echo)
    echo.throttle_next("/ok", retry_after=3)
    assert c.get("/ok").json() == {"ok": True}
    assert waits == [3.0]
    echo.throttle_next("/ok", retry_after=2, times=10)
    with pytest.raises(RateLimited) as caught:
        c.get("/ok")
    assert caught.value.retry_after == 2.0 and not caught.value.permanent


def test_5xx_and_dropped_connections_are_transient_and_retried(ctx, echo):
    c, waits = client(ctx, echo)
    echo.fail_next("/ok", status=503)
    echo.drop_next("/ok")
    assert c.get("/ok").status_code == 200
    assert len(echo.requests_to("/ok")) == 3 and len(waits) == 2
    echo.fail_next("/ok", status=500, times=10, body={"message": "boom"})
    with pytest.raises(ConnectorError) as caught:
        c.get("/ok", retry=False)
    assert not caught.value.permanent and caught.value.status == 500 and str(caught.value) == "boom"


def test_a_non_idempotent_call_is_resent_only_when_the_platform_surely_did_nothing(ctx, echo):
    c, _waits = client(ctx, echo)
    echo.fail_next("/ok", status=500)
    with pytest.raises(ConnectorError) as caught:
        c.get("/ok", idempotent=False)  # a 500 may have been acted on: not resent
    assert caught.value.status == 500 and len(echo.requests_to("/ok")) == 1
    echo.fail_next("/ok", status=503)
    echo.throttle_next("/ok", retry_after=1)
    assert c.get("/ok", idempotent=False).status_code == 200
    assert len(echo.requests_to("/ok")) == 4
    unreachable, _waits = client(ctx, echo)
    unreachable.base_url = "http://127.0.0.1:9"  # nothing listens: the request never left
    with pytest.raises(ConnectorError) as refused:
        unreachable.get("/ok", idempotent=False)
    assert getattr(refused.value, "not_sent", False)


def test_timeouts_are_transient(ctx, echo):
    c, _waits = client(ctx, echo, timeout=0.1, max_attempts=1)
    with pytest.raises(ConnectorError) as caught:
        c.get("/slow")
    assert not caught.value.permanent and "in time" in str(caught.value)


def test_401_is_an_auth_error_and_4xx_permanent_with_the_platforms_words(ctx, echo):
    c, waits = client(ctx, echo)
    echo.fail_next("/ok", status=401, body={"error_description": "token expired"})
    with pytest.raises(AuthError) as caught:
        c.get("/ok")
    assert caught.value.permanent and str(caught.value) == "token expired" and waits == []
    with pytest.raises(ConnectorError) as bad:
        c.get("/bad")
    assert bad.value.permanent and str(bad.value) == "no" and bad.value.code == "1234" and bad.value.status == 400


def test_every_call_is_throttled_and_credentials_are_not_logged(shop, echo, caplog):
    calls: list[tuple[str, float]] = []

    class Signed(PlatformClient):
        bucket = "orders"

        def auth_headers(self, ctx):  # type: ignore[no-untyped-def]
            return {"Authorization": f"Bearer {ctx.credentials['token']}"}

    base = store_context(shop)
    from dataclasses import replace

    ctx = replace(base, throttle=lambda bucket, cost: calls.append((bucket, cost)))
    caplog.set_level("DEBUG")
    Signed(ctx, base_url=echo.url).get("/ok", cost=2)
    assert calls == [("orders", 2)]
    assert echo.requests_to("/ok")[0].headers["authorization"] == f"Bearer {testshop.TOKEN}"
    assert testshop.TOKEN not in caplog.text


# --- the rate limiter --------------------------------------------------------------------------


def test_database_token_bucket_admits_the_burst_then_waits(shop):
    waits: list[float] = []
    limiter = ratelimit.Limiter(shop.pk, {"api": (2.0, 3)}, backend_=ratelimit.DatabaseBackend(), sleep=waits.append)
    for _ in range(3):
        assert limiter.throttle("api") == 0.0
    waited = limiter.throttle("api")
    assert waits and 0.3 < waits[0] <= 0.5 and waited == pytest.approx(sum(waits))
    assert RateBucket.objects.get(store=shop, bucket="api").tokens < 1
    assert limiter.throttle("undeclared") == 0.0  # no "default" declared: not limited


def test_database_bucket_penalty_after_a_429(shop):
    waits: list[float] = []
    limiter = ratelimit.Limiter(
        shop.pk, {"default": (10.0, 10)}, backend_=ratelimit.DatabaseBackend(), sleep=waits.append
    )
    limiter.penalise("api", 2.0)
    limiter.throttle("api")
    assert waits[0] == pytest.approx(2.1, abs=0.15)  # 2 s of penalty + one token at 10/s


REDIS_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_backend():  # type: ignore[no-untyped-def]
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.ConnectionError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis must be reachable at {REDIS_URL} in CI")
        pytest.skip(f"no Redis at {REDIS_URL}")
    return ratelimit.RedisBackend(REDIS_URL)


@pytest.mark.redis
def test_redis_token_bucket_is_shared_and_atomic(redis_backend):
    store_id = uuid.uuid4().int % 10**9  # a bucket of its own on the shared Redis
    waits: list[float] = []
    first = ratelimit.Limiter(store_id, {"api": (5.0, 4)}, backend_=redis_backend, sleep=waits.append)
    second = ratelimit.Limiter(store_id, {"api": (5.0, 4)}, backend_=redis_backend, sleep=waits.append)
    assert [first.throttle("api"), second.throttle("api"), first.throttle("api"), second.throttle("api")] == [0.0] * 4
    second.throttle("api")
    assert waits and 0.1 < waits[0] <= 0.2  # one token at 5/s
    # Many concurrent takers never get more than the burst at once.
    from concurrent.futures import ThreadPoolExecutor

    other = store_id + 1
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: redis_backend.take(other, "api", 0.001, 5, 1), range(40)))
    assert sum(1 for r in results if r == 0.0) == 5
    redis_backend.penalise(other + 1, "api", 1.0, 5, 3.0)
    assert redis_backend.take(other + 1, "api", 1.0, 5, 1) > 3.0


# --- the write-back ledger ---------------------------------------------------------------------


def refund(key: str = "refund-1") -> RefundRequest:
    return RefundRequest(idempotency_key=key, order_external_id="O-1", amount=Decimal("12.50"), currency="EUR")


def perform(shop, request):  # type: ignore[no-untyped-def]
    connector = testshop.TestShopConnector()
    return writeback_perform(
        store=shop,
        kind="issue_refund",
        key=request.idempotency_key,
        request=request,
        actor=Actor.system("test"),
        call=lambda ctx: connector.issue_refund(ctx, request),
    )


def test_writeback_calls_the_platform_once_per_key(shop, fake):
    first = perform(shop, refund())
    assert first.status == WriteBackStatus.SUCCEEDED and first.external_id == "r1"
    assert first.request["amount"] == "12.50" and first.response["state"] == "succeeded"
    again = perform(shop, refund())
    assert again.pk == first.pk and again.status == WriteBackStatus.SUCCEEDED
    assert len(fake.requests_to("/v1/refunds")) == 1
    assert fake.requests_to("/v1/refunds")[0].headers["idempotency-key"] == "refund-1"


def test_writeback_permanent_failure_is_recorded_and_not_retried(shop, fake):
    fake.fail_next("/v1/refunds", status=422, body={"message": "order already refunded"})
    row = perform(shop, refund())
    assert row.status == WriteBackStatus.FAILED and row.detail == "order already refunded"
    assert perform(shop, refund()).status == WriteBackStatus.FAILED
    assert len(fake.requests_to("/v1/refunds")) == 1


def test_writeback_transient_failure_goes_back_to_pending_and_succeeds_later(shop, fake, settings):
    settings.CHANNELS_HTTP_MAX_ATTEMPTS = 1
    fake.fail_next("/v1/refunds", status=503)
    with pytest.raises(ConnectorError):
        perform(shop, refund())
    assert WriteBack.objects.get().status == WriteBackStatus.PENDING
    assert perform(shop, refund()).status == WriteBackStatus.SUCCEEDED


def test_a_writeback_left_sending_becomes_unknown_and_is_never_resent(shop, fake):
    request = refund()
    row = WriteBack.objects.create(
        organization=shop.organization,
        store=shop,
        kind="issue_refund",
        idempotency_key=request.idempotency_key,
        status=WriteBackStatus.SENDING,
        started_at=now() - timedelta(hours=1),
    )
    assert writebacks_mark_unknown() == 1
    assert perform(shop, request).status == WriteBackStatus.UNKNOWN
    assert fake.requests_to("/v1/refunds") == []
    row.refresh_from_db()
    resolved = writeback_resolve(writeback=row, succeeded=True, actor=Actor.system("t"), external_id="r9")
    assert resolved.status == WriteBackStatus.SUCCEEDED and resolved.external_id == "r9"


# --- webhooks ------------------------------------------------------------------------------------


def hook_url(shop) -> str:  # type: ignore[no-untyped-def]
    return f"/hooks/{shop.platform}/{store_sync_for(shop).webhook_token}"


def test_webhook_with_a_valid_signature_is_stored_and_processed(shop, fake):
    body, headers = fake.signed({"stream": "messages", "items": [msg(1), msg(2)]})
    response = Client().post(hook_url(shop), body, content_type="application/json", headers=headers)
    assert response.status_code == 200
    assert response.json() == {"received": 2, "actions": {"new_ticket": 1, "thread": 1}}
    assert RawEvent.objects.filter(store=shop, source="webhook").count() == 2
    again = Client().post(hook_url(shop), body, content_type="application/json", headers=headers)
    assert again.json()["actions"] == {"duplicate": 2}


def test_webhook_with_a_bad_signature_is_refused_and_nothing_stored(shop, fake):
    body, headers = fake.signed({"stream": "messages", "items": [msg(1)]}, secret="wrong")
    response = Client().post(hook_url(shop), body, content_type="application/json", headers=headers)
    assert response.status_code == 401 and response.json()["code"] == "signature_invalid"
    assert not RawEvent.objects.exists()


def test_webhook_unknown_token_platform_or_oversized_body(shop, fake, settings):
    body, headers = fake.signed({"stream": "messages", "items": [msg(1)]})
    assert Client().post(f"/hooks/{shop.platform}/nope", body, content_type="application/json").status_code == 404
    other = f"/hooks/amazon/{store_sync_for(shop).webhook_token}"
    assert Client().post(other, body, content_type="application/json").status_code == 404
    assert Client().put(hook_url(shop)).status_code == 405
    assert Client().get(hook_url(shop), {"challenge_code": "abc"}).status_code == 404  # testshop has none
    settings.CHANNELS_WEBHOOK_MAX_BYTES = 10
    response = Client().post(hook_url(shop), body, content_type="application/json", headers=headers)
    assert response.status_code == 413


def test_webhook_with_an_unreadable_body_is_a_400_not_a_500(shop, fake):
    body, headers = fake.signed({"stream": "messages"})  # no items
    response = Client().post(hook_url(shop), body, content_type="application/json", headers=headers)
    assert response.status_code == 400


# --- delivery through the connector --------------------------------------------------------------


def test_a_reply_is_delivered_through_send_message_with_the_store_context(fake, installed, world):
    from aftersales.channels.base import RawRecord
    from aftersales.channels.sync import receive_records
    from aftersales.inbox.services import ticket_reply

    shop = StoreFactory(
        organization=world.org,
        platform=testshop.PLATFORM,
        endpoint_url=fake.url,
        credentials={"token": testshop.TOKEN},
    )
    (outcome,) = receive_records(store=shop, records=[RawRecord(Stream.MESSAGES, "m1", msg(1))], source="pull")
    ticket = Ticket.objects.get(pk=outcome.ticket_id)
    reply = ticket_reply(ticket=ticket, author=world.admin, body="On its way")
    assert message_deliver(reply.pk) == DeliveryStatus.SENT
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.SENT and reply.external_id == "m1"
    (sent,) = fake.requests_to("/v1/messages")
    assert sent.json() == {"to": "b1", "conversation": "conv-b1", "text": "On its way"}
    assert sent.headers["authorization"] == f"Bearer {testshop.TOKEN}"


# --- command and periodic task -------------------------------------------------------------------


def test_sync_command_prints_one_json_line_per_run(shop, fake):
    fake.add("messages", msg(1), msg(2, buyer="b2"))
    out = io.StringIO()
    call_command("sync", "--store", str(shop.pk), "--stream", "messages", "--since", "2026-10-01", stdout=out)
    (line,) = [json.loads(x) for x in out.getvalue().splitlines()]
    assert line["stream"] == "messages" and line["status"] == "succeeded" and line["created"] == 2
    out = io.StringIO()
    call_command("sync", "--store", str(shop.pk), stdout=out)
    assert [json.loads(x)["stream"] for x in out.getvalue().splitlines()] == [
        "orders",
        "messages",
        "returns",
        "tracking",
    ]


def test_periodic_sync_covers_active_unpaused_stores(shop):
    paused = StoreFactory(platform=testshop.PLATFORM, organization=shop.organization)
    StoreSync.objects.create(store=paused, paused=True, paused_reason="token revoked")
    StoreFactory(platform=testshop.PLATFORM, organization=shop.organization, is_active=False)
    never_connected = StoreFactory(platform=testshop.PLATFORM, organization=shop.organization, credentials={})
    work = stores_to_sync()
    assert never_connected.pk not in {store_id for store_id, _ in work}
    assert {store_id for store_id, _ in work} >= {shop.pk}
    assert paused.pk not in {store_id for store_id, _ in work}
    assert {stream for store_id, stream in work if store_id == shop.pk} == {"orders", "messages", "returns", "tracking"}


def test_httpx_transport_override_is_accepted(ctx):
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"via": "transport"}))
    assert PlatformClient(ctx, base_url="http://127.0.0.1:9", transport=transport).get("/x").json() == {
        "via": "transport"
    }


def test_webhook_challenge_is_answered_by_the_connector(shop, monkeypatch):
    seen = []

    def webhook_challenge(self, ctx, code, endpoint):  # type: ignore[no-untyped-def]
        seen.append((ctx.store_id, code, endpoint))
        return {"challengeResponse": f"hash-of-{code}"}

    monkeypatch.setattr(testshop.TestShopConnector, "webhook_challenge", webhook_challenge, raising=False)
    response = Client().get(hook_url(shop), {"challenge_code": "abc"})
    assert response.status_code == 200 and response.json() == {"challengeResponse": "hash-of-abc"}
    assert seen == [(shop.pk, "abc", f"http://testserver{hook_url(shop)}")]


def test_notification_polls_run_once_a_minute_per_store_and_record_errors(shop, monkeypatch):
    from django.core.cache import cache

    polled = []

    def notification_poll(self, store):  # type: ignore[no-untyped-def]
        polled.append(store.pk)
        raise ConnectorError("SQS unreachable")

    monkeypatch.setattr(testshop.TestShopConnector, "notification_poll", notification_poll, raising=False)
    cache.delete(f"channels:notification-poll:{shop.pk}")
    assert poll_notifications() == 1 and polled == [shop.pk]
    assert StoreSync.objects.get(store=shop).last_error == "SQS unreachable"
    assert poll_notifications() == 0  # claimed for this minute
