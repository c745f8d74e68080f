"""Closed eBay returns (issue 9 §4, issue 10's platform close path): eBay's return search answers open
returns only unless `return_state` says otherwise (CountSummaryType: the default is ALL_OPEN), so the
sync runs a second return search with return_state=CLOSED and reads each closed return's detail
(closeInfo: who closed it) once; the ids read are carried in the cursor. Against the fake, over HTTP."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from django.utils import timezone

from aftersales.channels.base import ReturnState, Stream
from aftersales.channels.connectors.ebay import connector as connector_module
from aftersales.channels.connectors.ebay.connector import EbayConnector
from aftersales.channels.connectors.ebay.fake import EbayFake, iso
from aftersales.channels.models import RawEvent
from aftersales.channels.sync import sync_stream
from aftersales.core.actors import Actor
from aftersales.returns.models import PlatformReturnState, ReturnRequest, ReturnRequestLine, RmaStatus
from aftersales.returns.rma import rma_create_from_return_request
from aftersales.returns.tests.rma_fixtures import delivered_order, first_line
from aftersales.returns.tests.test_rma_writeback import ebay_store

from .test_connector import drain
from .test_mapping import load

SEARCH = "/post-order/v2/return/search"
DETAIL = r"/post-order/v2/return/[0-9]+"


def _return(return_id: str, *, state: str = "RETURN_REQUESTED", minutes: int = 30, **extra: Any) -> dict[str, Any]:
    item = copy.deepcopy(load("return.json"))
    item.update(returnId=return_id, state=state, status=state, **extra)
    item["creationInfo"]["creationDate"]["value"] = iso(datetime.now(UTC) - timedelta(minutes=minutes))
    return item


def _search(fake: EbayFake, **query: str) -> tuple[int, Any]:
    with httpx.Client(base_url=fake.url) as http:
        token = http.post(
            "/identity/v1/oauth2/token",
            auth=(fake.client_id, fake.client_secret),
            data={"grant_type": "refresh_token", "refresh_token": fake.refresh_token},
        ).json()["access_token"]
        answer = http.get(SEARCH, params=query, headers={"Authorization": f"IAF {token}"})
    return answer.status_code, answer.json()


def test_the_fake_searches_open_returns_unless_return_state_says_otherwise(fake: EbayFake) -> None:
    fake.add_return(_return("5000000001"))
    fake.add_return(_return("5000000002", state="ITEM_SHIPPED"))
    fake.add_return(_return("5000000003", state="CLOSED"))
    fake.add_return(_return("5000000004", currentType="REPLACEMENT"))

    def ids(**query: str) -> list[str]:
        status, body = _search(fake, **query)
        assert status == 200, body
        return [m["returnId"] for m in body["members"]]

    assert ids() == ids(return_state="ALL_OPEN") == ["5000000001", "5000000002", "5000000004"]
    assert ids(return_state="CLOSED") == ["5000000003"]
    assert ids(return_state="ALL_OPEN_RETURN") == ["5000000001", "5000000002"]
    assert ids(return_state="ITEM_SHIPPED") == ["5000000002"]
    for refused in ("ALL_OPEN_REPLACEMENT", "EBAY_PLUS", "OPEN", "closed"):
        status, body = _search(fake, return_state=refused)
        assert status == 400 and "return_state" in body["errors"][0]["message"], refused


def test_a_closed_return_is_read_with_its_detail_once(fake: EbayFake, connector: EbayConnector, ctx: Any) -> None:
    fake.add_return(_return("5000000011"))
    fake.add_return(_return("5000000012"))
    first, cursor = drain(connector, ctx, Stream.RETURNS)
    assert [r.payload["data"]["returnId"] for r in first] == ["5000000011", "5000000012"]
    searches = fake.requests_to(SEARCH)
    assert [s.arg("return_state") for s in searches] == [None, "CLOSED"]
    closed_search = searches[1]
    assert closed_search.method == "GET"
    assert closed_search.headers["authorization"].startswith("IAF ")
    assert closed_search.headers["x-ebay-c-marketplace-id"] == "EBAY_US"
    assert closed_search.headers["accept"] == "application/json"
    assert set(closed_search.query) == {
        "creation_date_range_from",
        "creation_date_range_to",
        "limit",
        "offset",
        "return_state",
    }
    assert closed_search.arg("creation_date_range_from") == searches[0].arg("creation_date_range_from")
    assert closed_search.arg("creation_date_range_to") == searches[0].arg("creation_date_range_to")
    assert (closed_search.arg("limit"), closed_search.arg("offset")) == ("50", "1")
    assert not fake.requests_to(DETAIL)

    fake.close_return(
        "5000000011", return_close_reason="BUYER_CLOSED", buyer_close_reason="BUYER_NO_LONGER_WANTS_RETURN"
    )
    fake.close_return("5000000012", return_close_reason="ESCALATED")
    second, cursor = drain(connector, ctx, Stream.RETURNS, cursor)
    details = fake.requests_to(DETAIL)
    assert [d.path for d in details] == ["/post-order/v2/return/5000000011", "/post-order/v2/return/5000000012"]
    assert all(d.method == "GET" and d.headers["authorization"].startswith("IAF ") for d in details)
    mapped = {r.payload["data"]["summary"]["returnId"]: connector.map_record(ctx, r)[0] for r in second}
    assert {k: (m.status, m.state) for k, m in mapped.items()} == {  # type: ignore[attr-defined]
        "5000000011": ("CLOSED", ReturnState.CANCELLED),
        "5000000012": ("CLOSED", ReturnState.CLOSED),
    }
    assert json.loads(cursor)["closed_detailed"] == ["5000000011", "5000000012"]

    third, cursor = drain(connector, ctx, Stream.RETURNS, cursor)
    assert third == [] and len(fake.requests_to(DETAIL)) == 2  # read once: neither called nor emitted again
    assert json.loads(cursor)["closed_detailed"] == ["5000000011", "5000000012"]


def test_the_ids_kept_are_bounded(
    fake: EbayFake, connector: EbayConnector, ctx: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connector_module, "CLOSED_DETAILS_KEPT", 2)
    for n in range(3):
        fake.add_return(_return(f"500000002{n}", minutes=30 - n))
        fake.close_return(f"500000002{n}", return_close_reason="FULL_REFUNDED")
    records, cursor = drain(connector, ctx, Stream.RETURNS)
    assert len(records) == 3 and json.loads(cursor)["closed_detailed"] == ["5000000021", "5000000022"]


@pytest.mark.parametrize(
    "old",
    [
        None,
        {"next_from": "2026-12-01T00:00:00.000Z"},
        {"from": "2026-11-10T00:00:00.000Z", "to": "2026-12-10T00:00:00.000Z", "phase": "return", "page": 1},
        {"from": "2026-11-10T00:00:00.000Z", "to": "2026-12-10T00:00:00.000Z", "phase": "inquiry", "page": 1},
    ],
)
def test_old_cursors_keep_working(
    fake: EbayFake, connector: EbayConnector, ctx: Any, old: dict[str, Any] | None
) -> None:
    fake.add_return(_return("5000000031"))
    fake.close_return("5000000031", return_close_reason="BUYER_CLOSED")
    records, cursor = drain(connector, ctx, Stream.RETURNS, json.dumps(old) if old else None)
    if old and old.get("phase") == "inquiry":  # that pass had searched returns already: the next one reads it
        assert records == []
        records, cursor = drain(connector, ctx, Stream.RETURNS, cursor)
    assert [connector.map_record(ctx, r)[0].state for r in records] == [ReturnState.CANCELLED]  # type: ignore[union-attr]
    assert json.loads(cursor)["closed_detailed"] == ["5000000031"]


@pytest.mark.django_db
def test_a_buyer_closing_the_return_cancels_the_rma_and_a_close_by_ebay_reads_closed(
    world: Any, fake: EbayFake
) -> None:
    store = ebay_store(world, fake)
    order = delivered_order(world, store=store, lines=(("home", "40.00", 1, "EUR"),))
    fake.add_return(_return("5000000041", orderId=order.external_id))
    fake.add_return(_return("5000000042", orderId=order.external_id))
    sync_stream(store_id=store.pk, stream=Stream.RETURNS)
    request = ReturnRequest.objects.get(store=store, external_id="5000000041")
    assert request.platform_state == PlatformReturnState.OPEN
    if not request.lines.exists():
        ReturnRequestLine.objects.create(return_request=request, sku=first_line(order).sku, quantity=1)
    rma = rma_create_from_return_request(
        return_request_id=request.pk, actor=Actor.connector(store_id=store.pk, platform="ebay")
    )
    assert rma.status not in (RmaStatus.CANCELLED, RmaStatus.IN_TRANSIT)

    fake.close_return(
        "5000000041",
        return_close_reason="BUYER_CLOSED",
        buyer_close_reason="BUYER_NO_LONGER_WANTS_RETURN",
        at=iso(timezone.now()),
    )
    fake.close_return("5000000042", return_close_reason="BUYER_NO_ACTION")
    sync_stream(store_id=store.pk, stream=Stream.RETURNS)
    request.refresh_from_db()
    assert (request.platform_status, request.platform_state) == ("CLOSED", PlatformReturnState.CANCELLED)
    rma.refresh_from_db()
    assert rma.status == RmaStatus.CANCELLED
    row = rma.events.filter(payload__reason="buyer_cancelled").get()
    assert row.actor_kind == "connector"
    other = ReturnRequest.objects.get(store=store, external_id="5000000042")
    assert (other.platform_status, other.platform_state) == ("CLOSED", PlatformReturnState.CLOSED)
    assert len(fake.requests_to(DETAIL)) == 2

    events = RawEvent.objects.filter(store=store).count()
    again = sync_stream(store_id=store.pk, stream=Stream.RETURNS)
    assert (again.created, again.updated) == (0, 0)
    assert len(fake.requests_to(DETAIL)) == 2 and RawEvent.objects.filter(store=store).count() == events
    request.refresh_from_db()
    assert request.platform_state == PlatformReturnState.CANCELLED


def test_a_return_gone_before_its_detail_is_read_is_stored_as_its_summary(
    fake: EbayFake, connector: EbayConnector, ctx: Any
) -> None:
    fake.add_return(_return("5000000051", state="CLOSED"))
    fake.fail_next("/post-order/v2/return/5000000051", status=404, body={"errors": [{"errorId": 1702}]})
    records, cursor = drain(connector, ctx, Stream.RETURNS)
    assert [r.payload["data"]["returnId"] for r in records] == ["5000000051"]
    assert connector.map_record(ctx, records[0])[0].state == ReturnState.CLOSED  # type: ignore[union-attr]
    assert json.loads(cursor)["closed_detailed"] == ["5000000051"]
