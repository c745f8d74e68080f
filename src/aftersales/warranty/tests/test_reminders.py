"""Expiry reminders: queued once per unit, last covered day and N, in the buyer's language."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aftersales.warranty.models import WarrantyReminder
from aftersales.warranty.services import UnitInput, reminders_queue, settings_save, units_register
from aftersales.warranty.tasks import warranty_reminders

from .conftest import OTHER_IMEI, VALID_IMEI

pytestmark = pytest.mark.django_db


def _units(world, stock):
    return units_register(
        user=world.agent,
        rows=[
            UnitInput(imei=VALID_IMEI, order_line_id=stock.line.pk),
            UnitInput(imei=OTHER_IMEI, sku="PH-1", sold_at=datetime(2026, 9, 1, tzinfo=UTC)),
        ],
    )


def test_due_reminders_are_queued_once(world, stock, published, django_capture_on_commit_callbacks):
    unit, later = _units(world, stock)  # ends 2027-03-02 (Berlin); the other 2027-09-01
    settings_save(user=world.admin, reminders_enabled=True, reminder_days_before=30)
    assert reminders_queue(at=datetime(2027, 1, 30, 12, tzinfo=UTC)) == 0  # 31 days left
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_queue(at=datetime(2027, 1, 31, 12, tzinfo=UTC)) == 1  # 30 days left
    assert reminders_queue(at=datetime(2027, 1, 31, 18, tzinfo=UTC)) == 0  # the same run again
    assert reminders_queue(at=datetime(2027, 2, 10, 12, tzinfo=UTC)) == 0  # a later day
    reminder = WarrantyReminder.objects.get()
    assert reminder.unit == unit and reminder.key == f"warranty-reminder:{unit.pk}:2027-03-02:30"
    assert reminder.state == "queued" and "2. März 2027" in reminder.body  # the buyer reads German
    assert [type(e).__name__ for e in published] == ["WarrantyReminderQueued"]
    assert published[0].actor.kind == "system"
    # the unit without a customer (imported by SKU) is never reminded
    assert reminders_queue(at=datetime(2027, 8, 20, tzinfo=UTC)) == 0
    assert later.customer is None
    # expired units are not reminded
    assert reminders_queue(at=datetime(2027, 3, 3, tzinfo=UTC)) == 0


def test_a_missed_run_catches_up_and_a_new_n_reminds_again(world, stock):
    _units(world, stock)
    settings_save(user=world.admin, reminders_enabled=True, reminder_days_before=30)
    assert reminders_queue(at=datetime(2027, 2, 20, tzinfo=UTC)) == 1  # 10 days left, never reminded
    settings_save(user=world.admin, reminders_enabled=True, reminder_days_before=7)
    assert reminders_queue(at=datetime(2027, 2, 24, tzinfo=UTC)) == 1
    assert WarrantyReminder.objects.count() == 2


def test_disabled_organizations_get_none_and_the_task_runs(world, stock):
    _units(world, stock)
    assert reminders_queue(at=datetime(2027, 2, 20, tzinfo=UTC)) == 0
    assert warranty_reminders.call_local() == 0


def test_the_reminder_is_written_in_the_buyers_language(world, stock):
    from aftersales.language.templates import reply_template_save

    template = reply_template_save(
        user=world.admin,
        name="Warranty ends",
        source_language="en",
        bodies={
            "en": "Hi {{ customer.first_name }}, your warranty ends soon.",
            "de": "Hallo {{ customer.first_name }}, Ihre Garantie endet bald.",
        },
    )
    _units(world, stock)
    settings_save(user=world.admin, reminders_enabled=True, reminder_days_before=30, reminder_template_id=template.pk)
    assert reminders_queue(at=datetime(2027, 2, 20, tzinfo=UTC)) == 1
    reminder = WarrantyReminder.objects.get()
    assert reminder.language == "de" and reminder.body.startswith("Hallo ")
