"""eBay's closeInfo (ReturnCloseInfoType, the detail of GET /post-order/v2/return/{returnId}): a CLOSED
return the buyer withdrew reads `cancelled` (its RMA follows with reason buyer_cancelled), every other
close `closed`; the fake answers the detail beside the summary as eBay does."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from aftersales.channels.base import MappingError, ReturnState
from aftersales.channels.connectors.ebay import mapping
from aftersales.channels.connectors.ebay.connector import EbayConnector
from aftersales.channels.connectors.ebay.fake import EbayFake

from .test_mapping import load


def _detail(state: str, close_info: dict[str, Any] | None) -> dict[str, Any]:
    summary = copy.deepcopy(load("return.json"))
    summary["state"] = state
    out: dict[str, Any] = {"summary": summary}
    if close_info is not None:
        out["detail"] = {"closeInfo": close_info}
    return out


@pytest.mark.parametrize(
    ("close_info", "expected"),
    [
        ({"returnCloseReason": "BUYER_CLOSED", "buyerCloseReason": "BUYER_NO_LONGER_WANTS_RETURN"}, "cancelled"),
        ({"returnCloseReason": "BUYER_CLOSED", "buyerCloseReason": "BUYER_STARTED_RETURN_ACCIDENTALLY"}, "cancelled"),
        ({"returnCloseReason": "BUYER_CLOSED", "buyerCloseReason": "OTHER"}, "cancelled"),
        ({"returnCloseReason": "BUYER_CLOSED"}, "cancelled"),
        # the buyer closed it because the money came back, or eBay closed it for a chargeback
        ({"returnCloseReason": "BUYER_CLOSED", "buyerCloseReason": "BUYER_RECEIVED_REFUND"}, "closed"),
        ({"returnCloseReason": "CHARGEBACK_DISPUTE_FILED", "buyerCloseReason": "CHARGE_BACK_OPENED"}, "closed"),
        ({"returnCloseReason": "FULL_REFUNDED"}, "closed"),
        ({"returnCloseReason": "ESCALATED"}, "closed"),
        ({"returnCloseReason": "BUYER_NO_ACTION"}, "closed"),
        ({}, "closed"),
        (None, "closed"),  # a search summary: no closeInfo
    ],
)
def test_a_closed_return_reads_by_its_close_info(close_info: dict[str, Any] | None, expected: str) -> None:
    record = mapping.map_return(_detail("CLOSED", close_info))
    assert record.status == "CLOSED" and record.state == ReturnState(expected)


def test_close_info_only_speaks_for_a_closed_return() -> None:
    open_one = mapping.map_return(_detail("RETURN_REQUESTED", {"returnCloseReason": "BUYER_CLOSED"}))
    assert open_one.state == ReturnState.OPEN


def test_an_unknown_buyer_close_reason_is_quarantined_naming_the_field() -> None:
    with pytest.raises(MappingError) as caught:
        mapping.map_return(_detail("CLOSED", {"buyerCloseReason": "CHANGED_MY_MIND"}))
    assert caught.value.field == "detail.closeInfo.buyerCloseReason"
    with pytest.raises(MappingError) as caught:
        mapping.map_return(_detail("CLOSED", "nope"))  # type: ignore[arg-type]
    assert caught.value.field == "detail.closeInfo"


def test_the_close_reasons_make_a_version_of_their_own() -> None:
    summary_only = mapping.version_key("return", _detail("CLOSED", None))
    withdrawn = mapping.version_key("return", _detail("CLOSED", {"returnCloseReason": "BUYER_CLOSED"}))
    assert summary_only != withdrawn and withdrawn.endswith(":BUYER_CLOSED:None")
    assert summary_only == mapping.version_key("return", _detail("CLOSED", None)["summary"])


def test_the_fake_answers_the_detail_of_a_closed_return(fake: EbayFake, connector: EbayConnector, ctx: Any) -> None:
    item = copy.deepcopy(load("return.json"))
    fake.add_return(item)
    return_id = str(item["returnId"])
    fake.close_return(
        return_id,
        return_close_reason="BUYER_CLOSED",
        buyer_close_reason="BUYER_NO_LONGER_WANTS_RETURN",
        at="2026-11-25T10:00:00.000Z",
    )
    with connector.client(ctx) as client:
        data = client.json("GET", f"/post-order/v2/return/{return_id}", auth="iaf", bucket="ebay:post-order")
    assert data["detail"]["closeInfo"]["buyerCloseReason"] == "BUYER_NO_LONGER_WANTS_RETURN"
    record = mapping.map_return(data)
    assert (record.external_id, record.status, record.state) == (return_id, "CLOSED", ReturnState.CANCELLED)
