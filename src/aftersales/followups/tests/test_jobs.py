"""The periodic follow-up jobs: each run twice sends one message; what is skipped is recorded with
its reason (and noted on the ticket when an agent should see it); sampling is deterministic."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import transaction

from aftersales.core.clock import now
from aftersales.followups import jobs
from aftersales.followups.models import Coupon, FollowUp, FollowUpKind, FollowUpOutcome
from aftersales.inbox.models import Message, MessageDirection, Ticket, TicketEvent, TicketEventType
from aftersales.inbox.workflow import StatusCategory, TicketStatus
from aftersales.testing.factories import OrderFactory, ShipmentFactory, TicketFactory
from aftersales.tracking.models import ShipmentTracking, TrackingAccount

pytestmark = pytest.mark.django_db


def outbound(ticket: Ticket) -> list[Message]:
    return list(Message.objects.filter(ticket=ticket, direction=MessageDirection.OUTBOUND))


def notes(ticket: Ticket) -> list[Message]:
    return list(Message.objects.filter(ticket=ticket, direction=MessageDirection.NOTE))


# --- sampling --------------------------------------------------------------------------------------


def test_sampling_is_deterministic_by_ticket_and_nested():
    picks = {p: {t for t in range(1, 2001) if jobs.is_sampled(t, p)} for p in (0, 10, 50, 90, 100)}
    assert picks[0] == set() and len(picks[100]) == 2000
    assert picks[10] <= picks[50] <= picks[90]  # a larger share keeps every ticket a smaller one had
    assert 900 <= len(picks[50]) <= 1100
    assert all(jobs.is_sampled(t, 50) == (t in picks[50]) for t in range(1, 2001))  # same answer again


def test_the_csat_job_surveys_exactly_the_sampled_tickets(world, config, solved):
    config.csat_sample_percent = 50
    config.save()
    tickets = [solved() for _ in range(12)]
    jobs.csat_surveys_send()
    for ticket in tickets:
        row = FollowUp.objects.get(ticket=ticket, kind=FollowUpKind.CSAT_SURVEY)
        expected = FollowUpOutcome.SENT if jobs.is_sampled(ticket.pk, 50) else FollowUpOutcome.SKIPPED
        assert row.outcome == expected
        assert len(outbound(ticket)) == (1 if expected == FollowUpOutcome.SENT else 0)
        if expected == FollowUpOutcome.SKIPPED:
            assert row.reason == jobs.SkipReason.NOT_SAMPLED and notes(ticket) == []


# --- CSAT ------------------------------------------------------------------------------------------


def test_csat_survey_sent_once_as_the_system_in_the_buyers_language(world, config, solved):
    ticket = solved(language="de")
    assert jobs.csat_surveys_send() == 1
    assert jobs.csat_surveys_send() == 0  # run twice -> one message
    (message,) = outbound(ticket)
    assert message.author_id is None
    assert "Wie waren wir?" in message.body
    assert re.search(r"http://[^ ]+/r/[^ /]+/", message.body)
    row = FollowUp.objects.get(ticket=ticket)
    assert row.outcome == FollowUpOutcome.SENT and row.message_id == message.pk and row.language == "de"
    assert row.expires_at is not None and row.expires_at > now() + timedelta(days=13)
    replied = TicketEvent.objects.get(ticket=ticket, type=TicketEventType.REPLIED)
    assert (replied.actor_kind, replied.actor_ref) == ("system", "followups")


def test_csat_waits_for_the_delay_and_ignores_open_tickets(world, config, solved):
    early = solved(hours_ago=2)
    still_open = world.ticket(store=world.store_de)
    assert jobs.csat_surveys_send() == 0
    assert outbound(early) == [] and outbound(still_open) == []
    assert jobs.csat_surveys_send(at=now() + timedelta(hours=23)) == 1


def test_amazon_gets_a_survey_without_a_link_answered_by_a_reply(world, config, solved):
    """Amazon's messaging forbids links: the survey asks for a reply with a number, in the buyer's
    language; the reply "4" rates the ticket as the link would, once."""
    from aftersales.followups.models import CsatResponse
    from aftersales.followups.services import csat_rate_by_reply

    ticket = solved(store=world.store_us, language="de")
    assert jobs.csat_surveys_send() == 1
    assert jobs.csat_surveys_send() == 0
    (message,) = outbound(ticket)
    assert "http" not in message.body and "/r/" not in message.body
    assert "Antworten Sie auf diese Nachricht mit einer Zahl von 1" in message.body
    row = FollowUp.objects.get(ticket=ticket)
    assert row.outcome == FollowUpOutcome.SENT and row.expires_at is not None and notes(ticket) == []

    def buyer(body: str, at=None) -> Message:  # type: ignore[no-untyped-def]
        return Message.objects.create(
            ticket=ticket,
            store=ticket.store,
            direction=MessageDirection.INBOUND,
            channel="amazon",
            body=body,
            sent_at=at or now(),
        )

    assert csat_rate_by_reply(message_id=buyer("4 please call me back").pk) is None
    assert csat_rate_by_reply(message_id=buyer("Danke!").pk) is None
    four = buyer(" 4/5 ")
    response = csat_rate_by_reply(message_id=four.pk)
    assert response is not None and (response.rating, response.changes, response.language) == (4, 0, "de")
    assert csat_rate_by_reply(message_id=four.pk) == response  # the same reply counted once
    assert CsatResponse.objects.get().changes == 0
    assert csat_rate_by_reply(message_id=buyer("５").pk).rating == 5  # type: ignore[union-attr]
    late = buyer("1", at=row.expires_at + timedelta(minutes=1))  # type: ignore[operator]
    assert csat_rate_by_reply(message_id=late.pk) is None
    assert CsatResponse.objects.get().rating == 5


def test_a_rating_reply_reaches_the_survey_through_the_inbox_event(
    world, config, solved, django_capture_on_commit_callbacks
):
    from aftersales.core.actors import Actor
    from aftersales.core.events import jobs_for, publish
    from aftersales.followups.models import CsatResponse
    from aftersales.inbox.events import MessageReceived

    ticket = solved(store=world.store_us, language="en")
    jobs.csat_surveys_send()
    reply = Message.objects.create(
        ticket=ticket, store=ticket.store, direction=MessageDirection.INBOUND, channel="amazon", body="3", sent_at=now()
    )
    event = MessageReceived(
        message_id=reply.pk,
        ticket_id=ticket.pk,
        organization_id=ticket.organization_id,
        actor=Actor.customer(ticket.customer),
    )
    assert ("aftersales.followups.tasks.followups_csat_reply", (reply.pk,)) in jobs_for([event])
    with django_capture_on_commit_callbacks(execute=True):
        publish(event)  # the event's fan-out task runs the job (immediate in tests)
    assert CsatResponse.objects.get(ticket=ticket).rating == 3


def test_a_second_resolution_gets_a_second_survey(world, config, solved):
    ticket = solved()
    jobs.csat_surveys_send()
    FollowUp.objects.update(created_at=now() - timedelta(days=2))  # reopened since, and solved again:
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=now() - timedelta(hours=24, minutes=30))
    jobs.csat_surveys_send()
    assert FollowUp.objects.filter(ticket=ticket, kind=FollowUpKind.CSAT_SURVEY).count() == 2


def test_a_reply_the_channel_refuses_is_recorded_as_skipped(world, config, solved):
    ticket = solved()
    world.store_de.is_active = False
    world.store_de.save()
    jobs.csat_surveys_send()
    row = FollowUp.objects.get(ticket=ticket)
    assert (row.outcome, row.reason) == (FollowUpOutcome.SKIPPED, jobs.SkipReason.REPLY_REFUSED)
    assert outbound(ticket) == [] and len(notes(ticket)) == 1


def test_disabled_organizations_get_nothing(world, config, solved):
    config.csat_enabled = config.thanks_enabled = config.stall_enabled = False
    config.save()
    solved(category="complaint")
    assert jobs.csat_surveys_send() == jobs.complaint_thanks_send() == jobs.stalled_parcels_notify() == 0
    assert not FollowUp.objects.exists()


# --- thank-you coupons -----------------------------------------------------------------------------


def test_thanks_with_a_coupon_from_the_pool_each_code_once(world, config, solved):
    for code in ("SORRY-1", "SORRY-2"):
        Coupon.objects.create(organization=world.org, code=code, imported_at=now())
    first, second = solved(category="complaint"), solved(category="complaint")
    other = solved(category="usage_question")
    assert jobs.complaint_thanks_send() == 2
    assert jobs.complaint_thanks_send() == 0
    assert "SORRY-1" in outbound(first)[0].body and "SORRY-2" in outbound(second)[0].body
    assert outbound(other) == []
    assert not Coupon.objects.filter(used_at__isnull=True).exists()
    assert FollowUp.objects.get(ticket=first).coupon_code == "SORRY-1"


def test_thanks_from_the_pattern_when_the_pool_is_empty(world, config, solved):
    config.coupon_pattern = "THX-{code}"
    config.save()
    ticket = solved(category="complaint")
    jobs.complaint_thanks_send()
    row = FollowUp.objects.get(ticket=ticket)
    assert re.fullmatch(r"THX-[A-Z0-9]{8}", row.coupon_code)
    assert row.coupon_code in outbound(ticket)[0].body
    assert Coupon.objects.get(code=row.coupon_code).used_by == row


def test_thanks_skipped_without_any_coupon(world, config, solved):
    ticket = solved(category="complaint")
    jobs.complaint_thanks_send()
    jobs.complaint_thanks_send()
    row = FollowUp.objects.get(ticket=ticket)
    assert (row.outcome, row.reason) == (FollowUpOutcome.SKIPPED, jobs.SkipReason.NO_COUPON)
    assert outbound(ticket) == [] and len(notes(ticket)) == 1


# --- stalled parcels -------------------------------------------------------------------------------


def _stalled_shipment(world, days: int = 10):  # type: ignore[no-untyped-def]
    account = TrackingAccount.objects.create(organization=world.org)
    order = OrderFactory(store=world.store_de, organization=world.org)
    order.customer.preferred_language = "fr"
    order.customer.save()
    shipment = ShipmentFactory(order=order, status="in_transit")
    at = now() - timedelta(days=days)
    ShipmentTracking.objects.create(shipment=shipment, account=account, registered_at=at, last_event_at=at)
    return shipment


def test_a_stalled_parcel_opens_one_ticket_with_one_message(world, config):
    shipment = _stalled_shipment(world)
    assert jobs.stalled_parcels_notify() == 1
    assert jobs.stalled_parcels_notify() == 0
    (ticket,) = Ticket.objects.filter(order=shipment.order)
    assert ticket.status == TicketStatus.OPEN and ticket.status_category == StatusCategory.OPEN
    (message,) = outbound(ticket)
    assert shipment.tracking_number in message.body and "colis" in message.body  # the buyer's French
    created = TicketEvent.objects.get(ticket=ticket, type=TicketEventType.CREATED)
    assert (created.actor_kind, created.actor_ref, created.payload["source"]) == ("system", "followups", "proactive")


def test_a_stalled_parcel_uses_the_orders_open_ticket(world, config):
    shipment = _stalled_shipment(world)
    ticket = TicketFactory(store=world.store_de, order=shipment.order, customer=shipment.order.customer)
    jobs.stalled_parcels_notify()
    assert Ticket.objects.filter(order=shipment.order).count() == 1
    assert len(outbound(ticket)) == 1


def test_a_parcel_that_moves_and_stalls_again_is_a_new_stall(world, config):
    shipment = _stalled_shipment(world, days=20)
    jobs.stalled_parcels_notify()
    ShipmentTracking.objects.filter(shipment=shipment).update(last_event_at=now() - timedelta(days=8))
    jobs.stalled_parcels_notify()
    assert FollowUp.objects.filter(kind=FollowUpKind.PARCEL_STALLED).count() == 2


def test_a_recent_parcel_is_left_alone(world, config):
    _stalled_shipment(world, days=3)
    assert jobs.stalled_parcels_notify() == 0
    assert not Ticket.objects.exists() or not FollowUp.objects.exists()


# --- warranty reminders ----------------------------------------------------------------------------


def _reminder(world, order):  # type: ignore[no-untyped-def]
    from aftersales.testing.factories import ProductFactory
    from aftersales.warranty.models import SoldUnit, WarrantyReminder

    unit = SoldUnit.objects.create(
        organization=world.org,
        product=ProductFactory(organization=world.org),
        order=order,
        store=order.store,
        customer=order.customer,
        serial_number="SN-1",
        sold_at=now() - timedelta(days=700),
    )
    return WarrantyReminder.objects.create(
        organization=world.org,
        unit=unit,
        customer=order.customer,
        key=f"warranty-reminder:{unit.pk}:x:30",
        ends_on=(now() + timedelta(days=30)).date(),
        days_before=30,
        language="de",
        body="Die Garantie endet bald.",
        created_at=now(),
    )


def test_a_warranty_reminder_is_delivered_once_on_the_orders_ticket(world, config):
    order = OrderFactory(store=world.store_de, organization=world.org)
    ticket = TicketFactory(store=world.store_de, order=order, customer=order.customer, status=TicketStatus.SOLVED)
    reminder = _reminder(world, order)
    assert jobs.warranty_reminder_deliver(reminder_id=reminder.pk).sent
    assert not jobs.warranty_reminder_deliver(reminder_id=reminder.pk).sent
    assert jobs.warranty_reminders_deliver() == 0
    (message,) = outbound(ticket)
    assert message.body == "Die Garantie endet bald."


def test_a_warranty_reminder_without_a_thread_is_skipped_with_its_reason(world, config):
    order = OrderFactory(store=world.store_de, organization=world.org)
    reminder = _reminder(world, order)
    assert jobs.warranty_reminders_deliver() == 0
    row = FollowUp.objects.get(key=f"warranty:{reminder.pk}")
    assert (row.outcome, row.reason) == (FollowUpOutcome.SKIPPED, jobs.SkipReason.NO_TICKET)


def test_the_queued_event_delivers_the_reminder(world, config, django_capture_on_commit_callbacks):
    from aftersales.core import events
    from aftersales.warranty.events import WarrantyReminderQueued

    order = OrderFactory(store=world.store_de, organization=world.org)
    ticket = TicketFactory(store=world.store_de, order=order, customer=order.customer)
    reminder = _reminder(world, order)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        events.publish(
            WarrantyReminderQueued(
                reminder_id=reminder.pk,
                unit_id=reminder.unit_id,
                organization_id=world.org.pk,
                customer_id=order.customer_id,
                ends_on=reminder.ends_on.isoformat(),
                actor=jobs.ACTOR,
            )
        )
    assert FollowUp.objects.get(key=f"warranty:{reminder.pk}").outcome == FollowUpOutcome.SENT
    assert len(outbound(ticket)) == 1


def test_one_failing_follow_up_does_not_stop_the_others(world, config, solved, monkeypatch, caplog):
    broken, fine = solved(), solved()
    real = jobs.csat_survey_send

    def flaky(*, ticket, **kw):  # type: ignore[no-untyped-def]
        if ticket.pk == broken.pk:
            raise RuntimeError("template engine down")
        return real(ticket=ticket, **kw)

    monkeypatch.setattr(jobs, "csat_survey_send", flaky)
    assert jobs.csat_surveys_send() == 1
    assert outbound(broken) == [] and len(outbound(fine)) == 1
    assert not FollowUp.objects.filter(ticket=broken).exists()  # not claimed: the next run tries again
    assert "follow-up failed" in caplog.text
    monkeypatch.setattr(jobs, "csat_survey_send", real)
    assert jobs.csat_surveys_send() == 1


def test_the_organizations_template_in_the_buyers_language_with_the_link_below(world, config, solved):
    from aftersales.language.models import ReplyTemplate, ReplyTemplateVariant

    template = ReplyTemplate.objects.create(organization=world.org, name="CSAT", source_language="en")
    ReplyTemplateVariant.objects.create(template=template, language="en", body="Hi {{ customer.first_name }}!")
    ReplyTemplateVariant.objects.create(
        template=template, language="de", body="Hallo {{ customer.first_name }}, wie war unser Service?"
    )
    config.csat_template = template
    config.save()
    ticket = solved(language="de")
    jobs.csat_surveys_send()
    (message,) = outbound(ticket)
    first_name = ticket.customer.name.split()[0]
    assert message.body.startswith(f"Hallo {first_name}, wie war unser Service?\n\nhttp://")
    assert re.search(r"/r/[^ /]+/$", message.body)


def test_arabic_messages_isolate_the_order_number_but_not_the_link(world, config, solved):
    ticket = solved(language="ar")
    jobs.csat_surveys_send()
    (message,) = outbound(ticket)
    assert f"\u2068{ticket.order.external_id}\u2069" in message.body
    assert re.search(r" http://[^\u2068\u2069 ]+/r/[^ /\u2069]+/$", message.body)


def test_the_command_runs_the_jobs_once(world, config, solved):
    from io import StringIO

    from django.core.management import call_command

    solved()
    out = StringIO()
    call_command("followups_run", stdout=out)
    call_command("followups_run", "--job", "csat", stdout=out)
    assert out.getvalue().splitlines() == [
        "csat: 1 sent",
        "thanks: 0 sent",
        "stalled: 0 sent",
        "warranty: 0 sent",
        "csat: 0 sent",
    ]
