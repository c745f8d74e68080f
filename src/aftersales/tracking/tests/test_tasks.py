"""The periodic sweep, the management command and key rotation."""

from __future__ import annotations

import json
from io import StringIO

from django.core.management import call_command
from django.db import connection

from aftersales.catalog.models import ShipmentStatus
from aftersales.channels.connectors.seventeentrack.fake import event
from aftersales.core.crypto import rotate_encrypted_fields
from aftersales.testing.factories import OrderFactory, ShipmentFactory
from aftersales.tracking.models import ShipmentTracking, TrackingAccount
from aftersales.tracking.tasks import tracking_sweep

CN = "RR123456785CN"


def test_sweep_registers_then_polls_active_accounts(world, account, fake, clock):
    shipment = ShipmentFactory(order=OrderFactory(store=world.store_us), tracking_number=CN, carrier="")
    TrackingAccount.objects.create(organization=world.foreign_org, credentials={}, endpoint_url=fake.url)  # no key
    tracking_sweep()  # Huey runs tasks immediately in tests
    tracking = ShipmentTracking.objects.get(shipment=shipment)
    assert tracking.registered_at == clock.at and tracking.last_polled_at == clock.at
    fake.set_tracking(CN, "OutForDelivery", "OutForDelivery_Other", [event("2026-11-22T07:00:00Z", "Out")])
    clock.advance(hours=7)
    tracking_sweep()
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.OUT_FOR_DELIVERY


def test_sweep_keeps_a_provider_error_on_the_account(world, account, fake, clock):
    ShipmentFactory(order=OrderFactory(store=world.store_us), tracking_number=CN, carrier="")
    fake.fail_next("/track/v2.2/register", status=500, times=3)
    tracking_sweep()  # does not raise
    account.refresh_from_db()
    assert "500" in account.last_error


def test_command_prints_one_line_per_account(world, account, fake, clock):
    ShipmentFactory(order=OrderFactory(store=world.store_us), tracking_number=CN, carrier="")
    out = StringIO()
    call_command("tracking_sync", stdout=out)
    line = json.loads(out.getvalue())
    assert line["account"] == account.pk and line["registered"] == 1 and line["polled"] == 1 and line["error"] == ""
    fake.token = "ROTATED"
    ShipmentFactory(order=OrderFactory(store=world.store_us), tracking_number="LP00000000000001", carrier="")
    out = StringIO()
    call_command("tracking_sync", "--account", str(account.pk), stdout=out)
    assert "key" in json.loads(out.getvalue())["error"]


def test_rotating_the_encryption_key_keeps_the_api_key(account, settings):
    from cryptography.fernet import Fernet

    def stored() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT credentials FROM tracking_trackingaccount WHERE id = %s", [account.pk])
            return cursor.fetchone()[0]

    before = stored()
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *settings.FIELD_ENCRYPTION_KEYS]
    assert rotate_encrypted_fields()["tracking.TrackingAccount.credentials"] == 1
    assert stored() != before
    assert TrackingAccount.objects.get(pk=account.pk).credentials == {"api_key": "ORG-17-KEY"}
    out = StringIO()
    call_command("rotate_credentials", stdout=out)  # the operator's command rotates tracking keys too
    assert "of tracking.TrackingAccount.credentials" in out.getvalue()
