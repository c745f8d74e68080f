"""The 17TRACK client against the local fake (real HTTP on 127.0.0.1): exact requests, batches of 40,
per-number refusals, auth errors, 429 with Retry-After, 5xx, dropped connections, malformed bodies."""

from __future__ import annotations

import json

import pytest

from aftersales.channels.base import AuthError, ConnectorError, RateLimited
from aftersales.channels.connectors.seventeentrack.client import RegisterItem, SeventeenTrackClient
from aftersales.channels.connectors.seventeentrack.fake import FakeSeventeenTrack, event


@pytest.fixture
def fake():
    with FakeSeventeenTrack(token="T0KEN").running() as running:
        yield running


@pytest.fixture
def waits():
    return []


@pytest.fixture
def client(fake, waits):
    return SeventeenTrackClient("T0KEN", base_url=fake.url, sleep=waits.append, max_attempts=3)


def test_register_sends_the_documented_request(fake, client):
    result = client.register([RegisterItem("RR123456785CN", tag="41"), RegisterItem("1Z999AA10123456784")])
    assert sorted(a["number"] for a in result.accepted) == ["1Z999AA10123456784", "RR123456785CN"]
    assert {a["number"]: a["carrier"] for a in result.accepted}["RR123456785CN"] == 3011
    [request] = fake.requests_to("/track/v2.2/register", "POST")
    assert request.headers["17token"] == "T0KEN"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.body) == [{"number": "RR123456785CN", "tag": "41"}, {"number": "1Z999AA10123456784"}]


def test_register_splits_batches_of_40_and_keeps_refusals(fake, client):
    fake.undetectable.add("AB123456785GB")
    numbers = [f"LP{n:014d}" for n in range(85)] + ["AB123456785GB", "!!bad!!"]
    result = client.register([RegisterItem(n) for n in numbers])
    sizes = [len(json.loads(r.body)) for r in fake.requests_to("/track/v2.2/register")]
    assert sizes == [40, 40, 7]
    assert len(result.accepted) == 85
    assert sorted((r.number, r.code) for r in result.rejected) == [("!!bad!!", -18010012), ("AB123456785GB", -18019903)]
    again = client.register([RegisterItem(numbers[0])])
    assert [(r.number, r.code) for r in again.rejected] == [(numbers[0], -18019901)]


def test_track_info_and_not_registered(fake, client):
    client.register([RegisterItem("RR123456785CN")])
    fake.set_tracking(
        "RR123456785CN",
        "InTransit",
        "InTransit_PickedUp",
        [event("2026-11-17T01:30:00Z", "Accepted", sub_status="InTransit_PickedUp")],
    )
    result = client.get_track_info([("RR123456785CN", 3011), ("LP00000000000099", None)])
    [item] = result.accepted
    assert item["track_info"]["latest_status"]["sub_status"] == "InTransit_PickedUp"
    assert [(r.number, r.code) for r in result.rejected] == [("LP00000000000099", -18019902)]
    body = json.loads(fake.requests_to("/track/v2.2/gettrackinfo")[0].body)
    assert body == [{"number": "RR123456785CN", "carrier": 3011}, {"number": "LP00000000000099"}]


def test_change_carrier_stop_and_quota(fake, client):
    client.register([RegisterItem("RR123456785CN")])
    changed = client.change_carrier([("RR123456785CN", 3011, 3013)])
    assert changed.accepted[0]["carrier"] == 3013
    assert json.loads(fake.requests_to("/track/v2.2/changecarrier")[0].body) == [
        {"number": "RR123456785CN", "carrier_old": 3011, "carrier_new": 3013}
    ]
    stopped = client.stop_track([("RR123456785CN", 3013)])
    assert stopped.accepted[0]["number"] == "RR123456785CN" and fake.parcels["RR123456785CN"].stopped
    quota = client.get_quota()
    assert (quota.total, quota.used, quota.remaining) == (100, 1, 99)


def test_wrong_key_is_a_permanent_auth_error_without_the_key_in_it(fake):
    client = SeventeenTrackClient("WRONG-SECRET", base_url=fake.url, sleep=lambda s: None)
    with pytest.raises(AuthError) as caught:
        client.get_quota()
    assert caught.value.permanent and caught.value.status == 401 and caught.value.code == "-18010002"
    assert "WRONG-SECRET" not in str(caught.value) and "WRONG-SECRET" not in repr(client)
    assert len(fake.requests) == 1  # not retried


def test_429_waits_retry_after_then_succeeds(fake, client, waits):
    fake.throttle_next("/track/v2.2/getquota", retry_after=7, times=2)
    assert client.get_quota().total == 100
    assert waits == [7.0, 7.0]


def test_429_until_the_attempts_run_out(fake, client, waits):
    fake.throttle_next(retry_after=2, times=5)
    with pytest.raises(RateLimited) as caught:
        client.get_quota()
    assert caught.value.retry_after == 2 and not caught.value.permanent
    assert len(fake.requests) == 3 and waits == [2.0, 2.0]


def test_5xx_and_dropped_connections_are_retried_with_backoff(fake, client, waits):
    fake.fail_next(status=503)
    fake.drop_next()
    assert client.get_quota().total == 100
    assert waits == [1.0, 2.0]


def test_malformed_answers_are_transient_errors(fake, client, waits):
    fake.malformed_next(times=3)
    with pytest.raises(ConnectorError) as caught:
        client.get_quota()
    assert caught.value.code == "malformed" and not caught.value.permanent
    assert len(waits) == 2


def test_a_refused_call_is_permanent(fake, client):
    fake.fail_next(
        status=400,
        body={"code": -18010013, "data": {"errors": [{"code": -18010013, "message": "Invalid submitted data."}]}},
    )
    with pytest.raises(ConnectorError) as caught:
        client.register([RegisterItem("RR123456785CN")])
    assert caught.value.permanent and caught.value.code == "-18010013"


def test_the_fake_refuses_more_than_40_and_non_lists(fake):
    import httpx

    headers = {"17token": "T0KEN"}
    too_many = httpx.post(
        f"{fake.url}/track/v2.2/register", json=[{"number": f"LP{n:014d}"} for n in range(41)], headers=headers
    )
    assert too_many.json()["code"] == -18010014
    not_a_list = httpx.post(f"{fake.url}/track/v2.2/register", json={"number": "x"}, headers=headers)
    assert not_a_list.json()["code"] == -18010013


def test_calls_are_paced_to_three_per_second(fake):
    waits: list[float] = []
    client = SeventeenTrackClient("T0KEN", base_url=fake.url, sleep=waits.append, monotonic=lambda: 100.0)
    for _ in range(3):
        client.get_quota()
    assert waits == pytest.approx([1 / 3, 1 / 3])
