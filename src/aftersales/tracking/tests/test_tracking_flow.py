"""Register, poll and push end to end against the local 17TRACK (real HTTP), with a controlled clock:
idempotency (run twice, push twice), bad signatures, rejected numbers, errors kept for the admin."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.test import Client

from aftersales.catalog.models import Shipment, ShipmentStatus, TrackingEvent
from aftersales.channels.base import AuthError, ConnectorError
from aftersales.channels.connectors.seventeentrack.fake import FakeParcel, event
from aftersales.core.actors import ActorKind
from aftersales.testing.factories import OrderFactory, ShipmentFactory
from aftersales.tracking.events import ShipmentStatusChanged, TrackingRegistrationRejected
from aftersales.tracking.models import ShipmentTracking, TrackingPush
from aftersales.tracking.selectors import shipments_stalled
from aftersales.tracking.services import shipments_register, tracking_poll

CN = "RR123456785CN"
UPS = "1Z999AA10123456784"


def shipment(world, number: str, **kwargs) -> Shipment:
    order = OrderFactory(store=world.store_us)
    return ShipmentFactory(order=order, tracking_number=number, carrier="", **kwargs)


def test_register_is_batched_idempotent_and_keeps_refusals(
    world, account, fake, clock, published, django_capture_on_commit_callbacks
):
    fake.undetectable.add("AB123456785GB")
    shipments = [shipment(world, f"LP{n:014d}") for n in range(45)]
    bad = shipment(world, "AB123456785GB")
    shipment(world, "")  # no number: not followed
    delivered = shipment(world, "LP99999999999999", status=ShipmentStatus.DELIVERED)
    with django_capture_on_commit_callbacks(execute=True):
        report = shipments_register(account_id=account.pk)
    assert (report.registered, report.rejected) == (45, 1)
    assert [len(json.loads(r.body)) for r in fake.requests_to("/track/v2.2/register")] == [40, 6]
    assert set(fake.parcels) == {s.tracking_number for s in shipments}
    assert not ShipmentTracking.objects.filter(shipment=delivered).exists()
    refused = ShipmentTracking.objects.get(shipment=bad)
    assert refused.registered_at is None and refused.last_error.startswith("-18019903")
    assert [(type(e), e.shipment_id, e.code) for e in published] == [
        (TrackingRegistrationRejected, bad.pk, "-18019903")
    ]
    assert published[0].actor.kind == ActorKind.CONNECTOR and published[0].actor.id == str(world.store_us.pk)
    tracked = ShipmentTracking.objects.get(shipment=shipments[0])
    assert tracked.carrier_guess == "cainiao" and tracked.registered_at == clock.at

    again = shipments_register(account_id=account.pk)  # nothing left to do
    assert (again.registered, again.rejected) == (0, 0)
    assert len(fake.requests_to("/track/v2.2/register")) == 2


def test_already_registered_counts_as_registered(world, account, fake, clock):
    s = shipment(world, CN)
    fake.parcels[CN] = FakeParcel(number=CN, carrier=3011)  # registered earlier (e.g. by hand)
    report = shipments_register(account_id=account.pk)
    assert report.registered == 1
    assert ShipmentTracking.objects.get(shipment=s).registered_at is not None


def test_poll_applies_events_and_status_once(
    world, account, fake, clock, published, django_capture_on_commit_callbacks
):
    s = shipment(world, CN)
    shipments_register(account_id=account.pk)
    fake.set_tracking(
        CN,
        "InTransit",
        "InTransit_Departure",
        [
            event("2026-11-18T12:00:00Z", "Departed", sub_status="InTransit_Departure", location="SHENZHEN"),
            event("2026-11-17T01:30:00Z", "Accepted", sub_status="InTransit_PickedUp"),
        ],
    )
    with django_capture_on_commit_callbacks(execute=True):
        report = tracking_poll(account_id=account.pk)
    assert (report.polled, report.events_created, report.status_changes) == (1, 2, 1)
    s.refresh_from_db()
    assert s.status == ShipmentStatus.DEPARTED and s.carrier == "China Post"
    assert list(TrackingEvent.objects.filter(shipment=s).values_list("status", "location")) == [
        ("picked_up", ""),
        ("departed", "SHENZHEN"),
    ]
    tracking = ShipmentTracking.objects.get(shipment=s)
    assert tracking.last_event_at == datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
    assert (tracking.provider_status, tracking.provider_sub_status, tracking.carrier_code) == (
        "InTransit",
        "InTransit_Departure",
        "3011",
    )
    [changed] = published
    assert isinstance(changed, ShipmentStatusChanged)
    assert (changed.old_status, changed.new_status, changed.tracking_number) == ("", "departed", CN)
    assert changed.actor.kind == ActorKind.CONNECTOR and changed.actor.label == "17track"

    # the same run again: not due yet, nothing fetched
    assert tracking_poll(account_id=account.pk).polled == 0
    assert len(fake.requests_to("/track/v2.2/gettrackinfo")) == 1
    # due again after the interval: same data, nothing new
    clock.advance(hours=6, seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        report = tracking_poll(account_id=account.pk)
    assert (report.polled, report.events_created, report.status_changes) == (1, 0, 0)
    assert TrackingEvent.objects.filter(shipment=s).count() == 2
    assert len(published) == 1

    # delivered: final, no longer polled
    fake.set_tracking(
        CN,
        "Delivered",
        "Delivered_Other",
        [event("2026-11-25T09:00:00Z", "Delivered", sub_status="Delivered_Other"), *fake.parcels[CN].events],
    )
    clock.advance(hours=7)
    with django_capture_on_commit_callbacks(execute=True):
        tracking_poll(account_id=account.pk)
    s.refresh_from_db()
    assert s.status == ShipmentStatus.DELIVERED and s.delivered_at == datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    assert ShipmentTracking.objects.get(shipment=s).stopped_at is not None
    clock.advance(hours=7)
    assert tracking_poll(account_id=account.pk).polled == 0


def test_poll_errors_give_the_claim_back_and_are_shown(world, account, fake, clock):
    s = shipment(world, CN)
    shipments_register(account_id=account.pk)
    fake.fail_next("/track/v2.2/gettrackinfo", status=503, times=3)
    with pytest.raises(ConnectorError):
        tracking_poll(account_id=account.pk)
    account.refresh_from_db()
    assert "503" in account.last_error
    assert ShipmentTracking.objects.get(shipment=s).last_polled_at is None  # due again
    assert tracking_poll(account_id=account.pk).polled == 1
    account.refresh_from_db()
    assert account.last_error == ""


def test_a_revoked_key_is_an_auth_error_kept_on_the_account(world, account, fake, clock):
    shipment(world, CN)
    fake.token = "ROTATED"
    with pytest.raises(AuthError):
        shipments_register(account_id=account.pk)
    account.refresh_from_db()
    assert account.last_check_ok is False and "key" in account.last_check_detail
    assert ShipmentTracking.objects.get().register_claimed_at is None  # tried again next time


def test_429_with_retry_after_is_waited_through(world, account, fake, clock, no_waits):
    shipment(world, CN)
    fake.throttle_next("/track/v2.2/register", retry_after=3)
    assert shipments_register(account_id=account.pk).registered == 1
    assert no_waits == [3.0]


def test_a_malformed_item_is_kept_with_its_reason_and_the_rest_goes_on(world, account, fake, clock):
    good, bad = shipment(world, CN), shipment(world, UPS)
    shipments_register(account_id=account.pk)
    fake.set_tracking(UPS, "Teleported", "", [])
    fake.set_tracking(CN, "InTransit", "InTransit_Other", [event("2026-11-19T00:00:00Z", "Sorted")])
    report = tracking_poll(account_id=account.pk)
    assert (report.polled, report.unmappable) == (1, 1)
    assert (
        ShipmentTracking.objects.get(shipment=bad).last_error
        == "latest_status.status: unknown 17TRACK status 'Teleported'"
    )
    good.refresh_from_db()
    assert good.status == ShipmentStatus.IN_TRANSIT


def test_a_number_forgotten_by_the_provider_is_registered_again(world, account, fake, clock):
    s = shipment(world, CN)
    shipments_register(account_id=account.pk)
    del fake.parcels[CN]
    tracking_poll(account_id=account.pk)
    assert ShipmentTracking.objects.get(shipment=s).registered_at is None
    assert shipments_register(account_id=account.pk).registered == 1


# --- pushes -------------------------------------------------------------------------------------


def push_url(account) -> str:
    return f"/hooks/tracking/17track/{account.push_token}"


def test_push_is_verified_stored_and_applied_once(
    world, account, fake, clock, published, django_capture_on_commit_callbacks
):
    s = shipment(world, UPS)
    shipments_register(account_id=account.pk)
    fake.set_tracking(
        UPS,
        "Delivered",
        "Delivered_Other",
        [
            event("2026-11-21T19:02:00Z", "DELIVERED", sub_status="Delivered_Other"),
            event("2026-11-21T13:10:00Z", "Out for delivery", sub_status="OutForDelivery_Other"),
        ],
    )
    body, headers = fake.push_request(UPS, "ORG-17-KEY")
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            push_url(account), body, content_type="application/json", headers={"sign": headers["sign"]}
        )
    assert response.status_code == 200 and response.json() == {"status": "applied"}
    s.refresh_from_db()
    assert s.status == ShipmentStatus.DELIVERED
    assert TrackingEvent.objects.filter(shipment=s).count() == 2
    assert len(published) == 1
    push = TrackingPush.objects.get()
    assert (push.event, push.number, push.error) == ("TRACKING_UPDATED", UPS, "")
    assert json.loads(push.body)["data"]["number"] == UPS

    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(push_url(account), body, content_type="application/json", headers={"sign": headers["sign"]})
    assert again.status_code == 200 and again.json() == {"status": "duplicate"}
    assert TrackingPush.objects.count() == 1 and TrackingEvent.objects.filter(shipment=s).count() == 2
    assert len(published) == 1


@pytest.mark.parametrize("how", ["wrong key", "no sign", "tampered body", "unknown token", "inactive account"])
def test_bad_pushes_are_401_and_store_nothing(world, account, fake, clock, how):
    s = shipment(world, UPS)
    shipments_register(account_id=account.pk)
    fake.set_tracking(
        UPS, "Delivered", "Delivered_Other", [event("2026-11-21T19:02:00Z", "DELIVERED", sub_status="Delivered_Other")]
    )
    body, headers = fake.push_request(UPS, "other-key" if how == "wrong key" else "ORG-17-KEY")
    extra = {} if how == "no sign" else {"sign": headers["sign"]}
    if how == "tampered body":
        body = body.replace(b"DELIVERED", b"RETURNED!")
    url = push_url(account) if how != "unknown token" else "/hooks/tracking/17track/not-a-token"
    if how == "inactive account":
        account.is_active = False
        account.save()
    response = Client().post(url, body, content_type="application/json", headers=extra)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "signature_invalid"
    assert TrackingPush.objects.count() == 0 and TrackingEvent.objects.count() == 0
    s.refresh_from_db()
    assert s.status == ""


def test_push_endpoint_refuses_get_and_unknown_providers(account):
    assert Client().get(push_url(account)).status_code == 405
    assert (
        Client()
        .post(f"/hooks/tracking/aftership/{account.push_token}", b"{}", content_type="application/json")
        .status_code
        == 404
    )


def test_a_signed_push_we_cannot_read_is_kept_with_its_reason(world, account, fake, clock):
    from aftersales.channels.connectors.seventeentrack.mapping import push_signature

    shipment(world, UPS)
    body = b'{"event": "TRACKING_UPDATED", "data": {"number": "NOT-OURS-123"}}'
    response = Client().post(
        push_url(account), body, content_type="application/json", headers={"sign": push_signature(body, "ORG-17-KEY")}
    )
    assert response.status_code == 200 and response.json() == {"status": "quarantined"}
    assert TrackingPush.objects.get().error == "no shipment has this tracking number"
    garbage = b'{"event": "TRACKING_UPDATED", "data": "x"}'
    response = Client().post(
        push_url(account),
        garbage,
        content_type="application/json",
        headers={"sign": push_signature(garbage, "ORG-17-KEY")},
    )
    assert response.json() == {"status": "quarantined"}
    assert TrackingPush.objects.get(body=garbage.decode()).error == "data: data must be an object"


def test_tracking_stopped_push_stops_polling(world, account, fake, clock):
    s = shipment(world, CN)
    shipments_register(account_id=account.pk)
    body, headers = fake.push_request(CN, "ORG-17-KEY", event="TRACKING_STOPPED")
    response = Client().post(
        push_url(account), body, content_type="application/json", headers={"sign": headers["sign"]}
    )
    assert response.json() == {"status": "stopped"}
    assert ShipmentTracking.objects.get(shipment=s).stopped_at == clock.at
    assert tracking_poll(account_id=account.pk).polled == 0


def test_a_late_push_adds_its_events_but_never_moves_the_status_back(world, account, fake, clock):
    s = shipment(world, CN)
    shipments_register(account_id=account.pk)
    old_events = [event("2026-11-17T01:30:00Z", "Accepted", sub_status="InTransit_PickedUp")]
    fake.set_tracking(CN, "InTransit", "InTransit_PickedUp", old_events)
    late_body, late_headers = fake.push_request(CN, "ORG-17-KEY")
    fake.set_tracking(
        CN,
        "OutForDelivery",
        "OutForDelivery_Other",
        [event("2026-11-22T08:00:00Z", "Out", sub_status="OutForDelivery_Other")],
    )
    tracking_poll(account_id=account.pk)
    s.refresh_from_db()
    assert s.status == ShipmentStatus.OUT_FOR_DELIVERY
    Client().post(push_url(account), late_body, content_type="application/json", headers={"sign": late_headers["sign"]})
    s.refresh_from_db()
    assert s.status == ShipmentStatus.OUT_FOR_DELIVERY
    assert TrackingEvent.objects.filter(shipment=s).count() == 2


def test_a_push_stored_but_not_processed_is_processed_by_the_sweep(world, account, fake, clock):
    from aftersales.tracking.services import tracking_pushes_process_pending

    s = shipment(world, CN)
    shipments_register(account_id=account.pk)
    fake.set_tracking(CN, "InTransit", "InTransit_Other", [event("2026-11-19T00:00:00Z", "Sorted")])
    body, _headers = fake.push_request(CN, "ORG-17-KEY")
    TrackingPush.objects.create(account=account, received_at=clock.at, body_sha256="x" * 64, body=body.decode())
    clock.advance(minutes=2)
    assert tracking_pushes_process_pending() == 1
    s.refresh_from_db()
    assert s.status == ShipmentStatus.IN_TRANSIT
    assert tracking_pushes_process_pending() == 0


@pytest.mark.django_db(transaction=True)
def test_push_from_the_fake_over_real_http(live_server, world, account, fake, clock):
    s = shipment(world, CN)
    shipments_register(account_id=account.pk)
    fake.set_tracking(
        CN, "InTransit", "InTransit_Arrival", [event("2026-11-21T00:00:00Z", "Arrived", sub_status="InTransit_Arrival")]
    )
    url = live_server.url + push_url(account)
    assert fake.send_push(url, CN, "ORG-17-KEY", valid=False).status_code == 401
    assert fake.send_push(url, CN, "ORG-17-KEY").status_code == 200
    assert fake.send_push(url, CN, "ORG-17-KEY").json() == {"status": "duplicate"}
    s.refresh_from_db()
    assert s.status == ShipmentStatus.ARRIVED
    assert TrackingPush.objects.count() == 1


# --- stalled ------------------------------------------------------------------------------------


def test_stalled_days_selector_with_a_controlled_clock(world, account, fake, clock):
    moving, stuck, fresh = shipment(world, CN), shipment(world, UPS), shipment(world, "LP00000000000001")
    shipments_register(account_id=account.pk)
    fake.set_tracking(CN, "InTransit", "InTransit_Other", [event("2026-11-21T12:00:00Z", "Moving")])
    fake.set_tracking(UPS, "InTransit", "InTransit_Other", [event("2026-11-12T11:00:00Z", "Last seen")])
    tracking_poll(account_id=account.pk)
    # clock: 2026-11-22 12:00; UPS last event 10 days + 1 hour ago; CN 1 day; the third has no
    # event and counts from its registration (now)
    assert list(shipments_stalled(world.org.pk, 10)) == [stuck]
    assert list(shipments_stalled(world.org.pk, 11)) == []
    assert set(shipments_stalled(world.org.pk, 1)) == {stuck, moving}
    clock.advance(days=3)
    assert set(shipments_stalled(world.org.pk, 3)) == {stuck, moving, fresh}
    assert shipments_stalled(world.org.pk, 10).first().tracking_last_event_at == datetime(
        2026, 11, 12, 11, 0, tzinfo=UTC
    )
    assert list(shipments_stalled(world.foreign_org.pk, 0)) == []
    from aftersales.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        shipments_stalled(world.org.pk, -1)
    assert caught.value.field == "days"


def test_numbers_are_registered_without_spaces_and_a_changed_number_is_registered_again(world, account, fake, clock):
    s = shipment(world, " rr 1234-56785cn ")
    assert shipments_register(account_id=account.pk).registered == 1
    assert CN in fake.parcels
    assert ShipmentTracking.objects.get(shipment=s).number == CN
    fake.set_tracking(CN, "InTransit", "InTransit_Other", [event("2026-11-19T00:00:00Z", "Sorted")])
    body, headers = fake.push_request(CN, "ORG-17-KEY")
    response = Client().post(
        push_url(account), body, content_type="application/json", headers={"sign": headers["sign"]}
    )
    assert response.json() == {"status": "applied"}
    s.refresh_from_db()
    assert s.status == ShipmentStatus.IN_TRANSIT

    Shipment.objects.filter(pk=s.pk).update(tracking_number=UPS)  # the marketplace corrected it
    clock.advance(hours=7)
    assert tracking_poll(account_id=account.pk).polled == 0
    tracking = ShipmentTracking.objects.get(shipment=s)
    assert (tracking.number, tracking.registered_at) == (UPS, None)
    assert shipments_register(account_id=account.pk).registered == 1
    assert UPS in fake.parcels


def test_a_refused_number_is_tried_again_once_corrected(world, account, fake, clock):
    fake.undetectable.add("AB123456785GB")
    s = shipment(world, "AB123456785GB")
    assert shipments_register(account_id=account.pk).rejected == 1
    assert shipments_register(account_id=account.pk).rejected == 0  # not retried as it is
    Shipment.objects.filter(pk=s.pk).update(tracking_number=CN)
    assert shipments_register(account_id=account.pk).registered == 1
    assert ShipmentTracking.objects.get(shipment=s).last_error == ""
