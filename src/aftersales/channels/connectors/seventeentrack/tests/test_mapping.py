"""The pure 17TRACK mapping: status tables, events, carriers, responses and the push signature."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aftersales.catalog.models import ShipmentStatus
from aftersales.channels.base import MappingError, SignatureInvalid
from aftersales.channels.connectors.seventeentrack import mapping
from aftersales.channels.connectors.seventeentrack.mapping import (
    guess_carrier,
    map_track_item,
    normalise_status,
    parse_batch,
    parse_push,
    push_signature,
    verify_push,
)

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


MAIN = [
    ("NotFound", "", ShipmentStatus.PENDING),
    ("InfoReceived", "", ShipmentStatus.INFO_RECEIVED),
    ("InTransit", "", ShipmentStatus.IN_TRANSIT),
    ("Expired", "", ShipmentStatus.EXCEPTION),
    ("AvailableForPickup", "", ShipmentStatus.ARRIVED),
    ("OutForDelivery", "", ShipmentStatus.OUT_FOR_DELIVERY),
    ("DeliveryFailure", "", ShipmentStatus.FAILED_ATTEMPT),
    ("Delivered", "", ShipmentStatus.DELIVERED),
    ("Exception", "", ShipmentStatus.EXCEPTION),
]
SUB = [
    ("NotFound", "NotFound_InvalidCode", ShipmentStatus.EXCEPTION),
    ("NotFound", "NotFound_Other", ShipmentStatus.PENDING),
    ("InTransit", "InTransit_PickedUp", ShipmentStatus.PICKED_UP),
    ("InTransit", "InTransit_Departure", ShipmentStatus.DEPARTED),
    ("InTransit", "InTransit_Arrival", ShipmentStatus.ARRIVED),
    ("InTransit", "InTransit_CustomsProcessing", ShipmentStatus.IN_TRANSIT),
    ("InTransit", "InTransit_CustomsReleased", ShipmentStatus.CUSTOMS_CLEARED),
    ("InTransit", "InTransit_CustomsRequiringInformation", ShipmentStatus.CUSTOMS_HOLD),
    ("DeliveryFailure", "DeliveryFailure_InvalidAddress", ShipmentStatus.FAILED_ATTEMPT),
    ("Exception", "Exception_Returning", ShipmentStatus.RETURNED),
    ("Exception", "Exception_Returned", ShipmentStatus.RETURNED),
    ("Exception", "Exception_Lost", ShipmentStatus.LOST),
    ("Exception", "Exception_Destroyed", ShipmentStatus.LOST),
    ("Exception", "Exception_Security", ShipmentStatus.CUSTOMS_HOLD),
    ("Exception", "Exception_Delayed", ShipmentStatus.EXCEPTION),
    ("Delivered", "Delivered_Other", ShipmentStatus.DELIVERED),
    # a sub-status 17TRACK adds later maps like its main status
    ("InTransit", "InTransit_SomethingNew", ShipmentStatus.IN_TRANSIT),
]


@pytest.mark.parametrize(("status", "sub", "expected"), MAIN + SUB)
def test_status_table(status, sub, expected):
    assert normalise_status(status, sub) == expected


def test_every_documented_sub_status_and_main_status_maps_onto_a_known_shipment_status():
    assert set(mapping.MAIN_STATUS) == {s for s, _, _ in MAIN}
    assert len(mapping.SUB_STATUS) == 30  # the 30 sub-statuses of API v2.2
    for value in [*mapping.MAIN_STATUS.values(), *mapping.SUB_STATUS.values(), *mapping.STAGE.values()]:
        assert value in ShipmentStatus.values
    for sub in mapping.SUB_STATUS:
        assert sub == "InfoReceived" or sub.split("_")[0] in mapping.MAIN_STATUS


def test_unknown_main_status_is_a_mapping_error_naming_the_field():
    with pytest.raises(MappingError) as caught:
        normalise_status("Teleported", "")
    assert caught.value.field == "latest_status.status"


def test_final_statuses():
    assert mapping.is_final("Delivered", "Delivered_Other")
    assert mapping.is_final("Exception", "Exception_Returned")
    assert not mapping.is_final("Exception", "Exception_Returning")
    assert not mapping.is_final("InTransit", "InTransit_Other")


def test_track_item_maps_events_oldest_first_deduplicated_and_in_utc():
    item = fixture("gettrackinfo_intransit.json")["data"]["accepted"][0]
    info = map_track_item(item)
    record = info.record
    assert record.tracking_number == "RR123456785CN"
    assert record.carrier == "China Post"
    assert record.status == ShipmentStatus.IN_TRANSIT
    assert info.provider_status == "InTransit"
    assert info.sub_status == "InTransit_CustomsProcessing"
    assert info.carrier_code == "3011"
    assert not info.final
    assert info.skipped_events == 1  # the scan without any time
    assert [(e.at, e.status) for e in record.events] == [
        (datetime(2026, 11, 17, 1, 30, tzinfo=UTC), ShipmentStatus.PICKED_UP),
        (datetime(2026, 11, 18, 12, 0, tzinfo=UTC), ShipmentStatus.DEPARTED),  # from its stage
        (datetime(2026, 11, 20, 8, 5, tzinfo=UTC), ShipmentStatus.IN_TRANSIT),
    ]
    assert record.events[1].location == "Shenzhen, Guangdong, CN"  # from the address
    assert record.events[2].location == "GUANGZHOU"
    assert info.last_event_at == datetime(2026, 11, 20, 8, 5, tzinfo=UTC)


def test_time_iso_is_used_when_time_utc_is_missing():
    item = fixture("gettrackinfo_intransit.json")["data"]["accepted"][0]
    event = item["track_info"]["tracking"]["providers"][0]["events"][0]
    event["time_utc"] = None
    info = map_track_item(item)
    assert info.record.events[-1].at == datetime(2026, 11, 20, 8, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda i: i.pop("number"), "number"),
        (lambda i: i["track_info"]["latest_status"].update(status="Teleported"), "latest_status.status"),
        (lambda i: i["track_info"]["latest_status"].update(sub_status=7), "latest_status.sub_status"),
        (lambda i: i["track_info"]["tracking"].update(providers="many"), "tracking.providers"),
        (lambda i: i["track_info"]["tracking"]["providers"][0]["events"][0].update(time_utc="yesterday"), "time_utc"),
        (
            lambda i: i["track_info"]["tracking"]["providers"][0]["events"][0].update(time_utc="2026-11-20T08:05:00"),
            "time_utc",
        ),
        (lambda i: i.update(track_info=[1]), "track_info"),
    ],
)
def test_malformed_items_are_mapping_errors_naming_the_field(change, field):
    item = fixture("gettrackinfo_intransit.json")["data"]["accepted"][0]
    change(item)
    with pytest.raises(MappingError) as caught:
        map_track_item(item)
    assert caught.value.field == field


def test_a_number_not_found_yet_has_no_events():
    info = map_track_item({"number": "LP00123456789012", "carrier": 0, "track_info": None})
    assert info.record.status == ShipmentStatus.PENDING
    assert info.record.events == []
    assert info.carrier_code == ""
    assert info.last_event_at is None


def test_parse_batch_keeps_rejections_with_their_codes():
    result = parse_batch(fixture("gettrackinfo_intransit.json")["data"])
    assert len(result.accepted) == 1
    assert [(r.number, r.code) for r in result.rejected] == [("XX000", -18019902)]
    with pytest.raises(MappingError):
        parse_batch({"accepted": "x"})


# --- push ---------------------------------------------------------------------------------------


def test_push_signature_is_sha256_of_body_slash_key():
    body = b'{"event":"TRACKING_UPDATED","data":{"number":"X"}}'
    import hashlib

    assert push_signature(body, "KEY") == hashlib.sha256(body + b"/KEY").hexdigest()
    verify_push(body, push_signature(body, "KEY"), "KEY")
    verify_push(body, push_signature(body, "KEY").upper(), "KEY")  # hex case does not matter


@pytest.mark.parametrize("sign", [None, "", "00" * 32, push_signature(b"other body", "KEY")])
def test_wrong_or_missing_signature_is_refused(sign):
    with pytest.raises(SignatureInvalid):
        verify_push(b'{"event":"TRACKING_UPDATED"}', sign, "KEY")


def test_no_key_verifies_nothing():
    body = b"{}"
    with pytest.raises(SignatureInvalid):
        verify_push(body, push_signature(body, ""), "")


def test_parse_push():
    body = json.dumps(fixture("push_delivered.json")).encode()
    push = parse_push(body)
    assert (push.event, push.number) == ("TRACKING_UPDATED", "1Z999AA10123456784")
    info = map_track_item(push.data)
    assert info.record.status == ShipmentStatus.DELIVERED
    assert info.final
    assert [e.status for e in info.record.events] == [ShipmentStatus.OUT_FOR_DELIVERY, ShipmentStatus.DELIVERED]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", "body"),
        (b"[]", "body"),
        (b'{"event": "SOMETHING"}', "event"),
        (b'{"event": "TRACKING_UPDATED", "data": {}}', "data.number"),
        (b'{"event": "TRACKING_UPDATED", "data": "x"}', "data"),
    ],
)
def test_unreadable_pushes(body, field):
    with pytest.raises(MappingError) as caught:
        parse_push(body)
    assert caught.value.field == field


# --- carriers -----------------------------------------------------------------------------------

CARRIER_CASES = [
    ("1Z999AA10123456784", "ups"),
    ("1z999aa1 0123456784", "ups"),  # spaces and case as typed
    ("9400111899223100912345", "usps"),
    ("420100019400111899223100912345", "usps"),
    ("RR123456785CN", "china_post"),
    ("LX123456785CN", "china_post"),
    ("EA123456785CN", "china_ems"),
    ("AB123456785GB", "royal_mail"),
    ("EA123456785US", "usps"),
    ("UG123456789YP", "yanwen"),
    ("4PX3000123456789CN", "4px"),
    ("LP00123456789012", "cainiao"),
    ("YT2312345678901234", "yunexpress"),
    ("1234567890", "dhl"),
    ("JJD0001234567890123", "dhl"),
    ("123456789012", "fedex"),
    ("9612345678901234567890", "fedex"),
]


@pytest.mark.parametrize(("number", "code"), CARRIER_CASES)
def test_guess_carrier(number, code):
    guess = guess_carrier(number)
    assert guess is not None and guess.code == code
    assert guess.name == mapping.CARRIERS[code]


@pytest.mark.parametrize("number", ["", "hello", "RR123456789CN", "RR123456785DE", "12345"])
def test_no_guess(number):
    """RR123456789CN has a wrong S10 check digit; RR...DE is a postal number of another country."""
    assert guess_carrier(number) is None
