"""The warranty-expiry reminder's default template (issue 10 §6, issue 11 §5): written in every notice
language with the same variables (product, masked IMEI / serial number, the last covered day in the
buyer's locale, days left), seeded for new and existing organizations without overwriting an admin's
edit, rendered in the buyer's language by the sweep and delivered once by the follow-up job."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from aftersales.inbox.models import Message, MessageDirection
from aftersales.language.models import ReplyTemplate, ReplyTemplateVariant
from aftersales.language.templates import VARIABLE_PATHS, check_body, render_body, reply_template_update
from aftersales.returns.notify_templates import (
    LANGUAGES,
    REMINDER_TEMPLATES,
    WARRANTY_REMINDER,
    rma_templates_seed,
    seed_every_organization,
)
from aftersales.returns.tests.test_notify_languages import _variables
from aftersales.testing.factories import TicketFactory
from aftersales.warranty.models import WarrantyReminder
from aftersales.warranty.notify import format_day, masked, reminder_context
from aftersales.warranty.services import UnitInput, reminders_queue, settings_save, units_register

from .conftest import VALID_IMEI

DUE = datetime(2027, 1, 31, 12, tzinfo=UTC)  # 30 days before the last covered day, 2027-03-02 in Berlin
ENDS = date(2027, 3, 2)
REMINDER_VARIABLES = {
    "product.name",
    "warranty.ends_on",
    "warranty.days_left",
    "warranty.imei",
    "warranty.serial_number",
}
# the last covered day as each language writes it, and a word of the text that is only in that language
WRITTEN = {
    "en": ("March 2, 2027", "ends on"),
    "es": ("2 de marzo de 2027", "vence el"),
    "de": ("2. März 2027", "endet am"),
    "fr": ("2 mars 2027", "prend fin le"),
    "pt": ("2 de março de 2027", "termina em"),
    "it": ("2 marzo 2027", "scade il"),
    "zh": ("2027年3月2日", "到期"),
    "ja": ("2027年3月2日", "保証期間"),
    "ar": (None, "ينتهي ضمان"),
}


def test_the_reminder_is_written_in_every_language_with_the_same_variables() -> None:
    bodies = REMINDER_TEMPLATES[WARRANTY_REMINDER]
    assert tuple(bodies) == LANGUAGES
    english = _variables(bodies["en"])
    assert REMINDER_VARIABLES <= english <= VARIABLE_PATHS
    for language, body in bodies.items():
        check_body(body)
        assert _variables(body) == english, language
    assert any("\u3040" <= ch <= "\u30ff" for ch in bodies["ja"])
    assert any("\u0600" <= ch <= "\u06ff" for ch in bodies["ar"])


def test_identifiers_are_masked_and_days_written_in_the_buyers_locale() -> None:
    assert masked(VALID_IMEI, 6) == "••••237518"
    assert masked("C02XK1ABJGH5", 4) == "••••JGH5"
    assert masked("AB1", 4) == "••••1" and masked("", 4) == ""
    assert format_day(ENDS, "de") == "2. März 2027"
    assert format_day(ENDS, "xx") == "2027-03-02"


def _units(world, stock, language: str):
    stock.line.order.customer.preferred_language = language
    stock.line.order.customer.save()
    return units_register(user=world.agent, rows=[UnitInput(imei=VALID_IMEI, order_line_id=stock.line.pk)])


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_sweep_renders_the_default_template_in_the_buyers_language(world, stock, language) -> None:
    rma_templates_seed(organization_id=world.org.pk)
    _units(world, stock, language)
    settings_save(user=world.admin, reminders_enabled=True, reminder_days_before=30)
    assert reminders_queue(at=DUE) == 1
    reminder = WarrantyReminder.objects.get()
    day, phrase = WRITTEN[language]
    assert reminder.language == language
    assert phrase in reminder.body and "Phone X" in reminder.body and "30" in reminder.body
    assert format_day(ENDS, language) in reminder.body
    if day is not None:
        assert day in reminder.body
    assert "••••237518" in reminder.body and VALID_IMEI not in reminder.body
    assert "{{" not in reminder.body and "2027-03-02" not in reminder.body
    if language == "ar":
        assert "\u2068••••237518\u2069" in reminder.body  # the IMEI keeps its left-to-right order
    if language != "en":
        assert "warranty" not in reminder.body.lower() and "days left" not in reminder.body


@pytest.mark.django_db
def test_without_a_template_the_written_text_in_the_buyers_language(world, stock) -> None:
    _units(world, stock, "it")  # the organization has no reminder template (deleted, or never seeded)
    settings_save(user=world.admin, reminders_enabled=True, reminder_days_before=30)
    assert reminders_queue(at=DUE) == 1
    reminder = WarrantyReminder.objects.get()
    assert reminder.language == "it" and "scade il 2 marzo 2027" in reminder.body


@pytest.mark.django_db
def test_an_admins_edit_is_used_and_survives_the_data_migration(world, stock) -> None:
    from django.apps import apps

    rma_templates_seed(organization_id=world.org.pk)
    template = ReplyTemplate.objects.get(organization=world.org, name=WARRANTY_REMINDER)
    assert template.category == "warranty_repair"
    edited = "Hallo {{ customer.first_name }}, Ihre Garantie für {{ product.name }} endet am {{ warranty.ends_on }}."
    reply_template_update(user=world.admin, template_id=template.pk, bodies={"de": edited})
    ReplyTemplateVariant.objects.filter(template=template, language="ja").delete()
    seed_every_organization(apps, None, REMINDER_TEMPLATES)  # language 0004's step, run again
    variants = dict(ReplyTemplateVariant.objects.filter(template=template).values_list("language", "body"))
    assert variants["de"] == edited  # the admin's text is kept
    assert variants["ja"] == REMINDER_TEMPLATES[WARRANTY_REMINDER]["ja"]  # a missing language is written back
    _units(world, stock, "de")
    settings_save(user=world.admin, reminders_enabled=True, reminder_days_before=30)
    assert reminders_queue(at=DUE) == 1
    assert WarrantyReminder.objects.get().body.endswith("Ihre Garantie für Phone X endet am 2. März 2027.")


@pytest.mark.django_db
def test_an_existing_organization_gets_the_template_from_the_migration(world) -> None:
    from django.apps import apps

    assert not ReplyTemplate.objects.filter(organization=world.org, name=WARRANTY_REMINDER).exists()
    seed_every_organization(apps, None, REMINDER_TEMPLATES)
    template = ReplyTemplate.objects.get(organization=world.org, name=WARRANTY_REMINDER)
    assert set(template.variants.values_list("language", flat=True)) == set(LANGUAGES)
    assert not ReplyTemplate.objects.filter(organization=world.org, name__startswith="RMA:").exists()


@pytest.mark.django_db
def test_the_periodic_jobs_deliver_one_reminder_in_the_buyers_language(
    world, stock, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    from aftersales.followups import jobs
    from aftersales.followups.tasks import followups_warranty_reminders
    from aftersales.warranty import services
    from aftersales.warranty.tasks import warranty_reminders

    monkeypatch.setattr(services, "now", lambda: DUE)
    monkeypatch.setattr(jobs, "now", lambda: DUE)
    rma_templates_seed(organization_id=world.org.pk)
    _units(world, stock, "ja")
    order = stock.line.order
    ticket = TicketFactory(store=order.store, order=order, customer=order.customer, language="ja")
    settings_save(user=world.admin, reminders_enabled=True, reminder_days_before=30)
    for _run in range(2):  # a rerun of both jobs sends nothing twice
        with django_capture_on_commit_callbacks(execute=True):
            warranty_reminders.call_local()
        followups_warranty_reminders.call_local()
    (message,) = Message.objects.filter(ticket=ticket, direction=MessageDirection.OUTBOUND)
    assert message.body == WarrantyReminder.objects.get().body
    assert "2027年3月2日" in message.body and "保証期間" in message.body


def test_the_context_isolates_identifiers_only_right_to_left() -> None:
    template = "{{ warranty.imei }}|{{ product.sku }}"

    class _Unit:
        customer = None
        order = None
        store = None
        imei = VALID_IMEI
        serial_number = ""
        product = type("P", (), {"title": "Phone X", "sku": "PH-1"})()

    left = render_body(template, reminder_context(_Unit(), ends_on=ENDS, days_left=3, language="de"))  # type: ignore[arg-type]
    right = render_body(template, reminder_context(_Unit(), ends_on=ENDS, days_left=3, language="ar"))  # type: ignore[arg-type]
    assert left == "••••237518|PH-1"
    assert right == "\u2068••••237518\u2069|\u2068PH-1\u2069"
