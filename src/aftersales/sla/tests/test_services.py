"""SLA services: calendars and policies (validation, scoping, precedence), the clock row following the
inbox's events, recomputation from history (twice = once), the sweep's warnings and breaches (events
once, notifications to the assignee)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aftersales.core import events
from aftersales.core.actors import Actor
from aftersales.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from aftersales.inbox.models import Message, MessageDirection, TicketEvent, TicketEventType
from aftersales.inbox.services import InboundMessage, message_ingest, ticket_change_status
from aftersales.notifications.models import Notification
from aftersales.returns.models import ReturnRequest
from aftersales.sla import services
from aftersales.sla.events import SlaBreached, SlaWarning
from aftersales.sla.models import SlaPolicy, TicketSla
from aftersales.sla.selectors import sla_preview, ticket_clocks

H = timedelta(hours=1)
SPLIT = [["09:00", "12:00"], ["13:30", "18:30"]]
WEEKDAYS = dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), SPLIT)
MON = datetime(2026, 12, 7, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def make_calendar(world, name: str = "Office", **kw):  # type: ignore[no-untyped-def]
    spec = {"timezone": "UTC", "weekly_hours": WEEKDAYS, "holidays": [], "special_days": {}}
    spec.update(kw)
    return services.calendar_save(user=world.admin, name=name, **spec)


def make_policy(world, name: str = "Default", **kw):  # type: ignore[no-untyped-def]
    data = {"name": name, "first_response_minutes": 120, "resolution_minutes": 720}
    data.update(kw)
    return services.policy_save(user=world.admin, data=data)


# --------------------------------------------------------------------------- configuration


def test_calendar_validation_names_the_field(world) -> None:  # type: ignore[no-untyped-def]
    bad = [
        ({"timezone": "Europe/Nowhere"}, "timezone"),
        ({"weekly_hours": {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}}, "weekly_hours.mon[1]"),
        ({"weekly_hours": {"funday": []}}, "weekly_hours.funday"),
        ({"holidays": ["2026-13-01"]}, "holidays[0]"),
        ({"special_days": {"2026-12-24": [["25:00", "26:00"]]}}, "special_days.2026-12-24[0]"),
    ]
    for kw, field in bad:
        with pytest.raises(ValidationFailed) as info:
            make_calendar(world, **kw)
        assert info.value.field == field, kw
    with pytest.raises(ValidationFailed) as info:
        make_calendar(world, name="  ")
    assert info.value.field == "name"
    from aftersales.sla.models import BusinessCalendar

    assert not BusinessCalendar.objects.exists()


def test_calendar_admins_only_and_scoped(world) -> None:  # type: ignore[no-untyped-def]
    cal = make_calendar(world)
    with pytest.raises(PermissionDenied):
        services.calendar_save(user=world.agent, name="X", timezone="UTC", weekly_hours={})
    with pytest.raises(NotFound):
        services.calendar_save(user=world.foreign_user, name="X", timezone="UTC", weekly_hours={}, calendar_id=cal.pk)
    with pytest.raises(ValidationFailed) as info:
        make_calendar(world)  # same name
    assert info.value.field == "name"
    make_policy(world, calendar_id=cal.pk)
    with pytest.raises(Conflict):
        services.calendar_delete(user=world.admin, calendar_id=cal.pk)
    with pytest.raises(NotFound) as nf:
        make_policy(
            world,
            name="Foreign cal",
            calendar_id=services.calendar_save(
                user=world.foreign_user, name="Theirs", timezone="UTC", weekly_hours={}
            ).pk,
        )
    assert nf.value.field == "calendar_id"


def test_policy_validation_and_no_two_active_policies_match_the_same(world) -> None:  # type: ignore[no-untyped-def]
    make_policy(world, urgency="high", platform="amazon")
    with pytest.raises(ValidationFailed) as info:
        make_policy(world, name="Other", urgency="high", platform="amazon")
    assert info.value.field == "urgency"
    make_policy(world, name="Inactive twin", urgency="high", platform="amazon", is_active=False)
    for kw, field in [
        ({"urgency": "extreme"}, "urgency"),
        ({"platform": "myspace"}, "platform"),
        ({"first_response_minutes": 0}, "first_response_minutes"),
        ({"resolution_minutes": "12h"}, "resolution_minutes"),
        ({"warning_percent": 100}, "warning_percent"),
        ({"calendar_id": 999999}, "calendar_id"),
    ]:
        with pytest.raises((ValidationFailed, NotFound)) as exc:
            make_policy(world, name=f"bad {field}", **kw)
        assert exc.value.field == field


def test_policy_precedence(world) -> None:  # type: ignore[no-untyped-def]
    base = make_policy(world, name="Base")
    amazon = make_policy(world, name="Amazon", platform="amazon", first_response_minutes=60)
    vip_cat = make_policy(world, name="VIP returns", customer_tier="vip", category="return", first_response_minutes=45)
    high = make_policy(world, name="High", urgency="high", first_response_minutes=30)

    def preview(**facts):  # type: ignore[no-untyped-def]
        return sla_preview(world.agent, arrival=MON + 9 * H, **facts).policy_name

    assert preview(platform="ebay") == base.name
    assert preview(platform="amazon") == amazon.name
    assert preview(platform="amazon", customer_tier="vip", category="return") == amazon.name  # platform 4 > 2 + 1
    assert preview(platform="ebay", customer_tier="vip", category="return") == vip_cat.name
    assert preview(platform="amazon", urgency="high", customer_tier="vip", category="return") == high.name


def test_preview_both_deadlines_and_bad_input(world) -> None:  # type: ignore[no-untyped-def]
    cal = make_calendar(world)
    make_policy(world, name="High", urgency="high", first_response_minutes=120, calendar_id=cal.pk)
    arrival = datetime(2026, 12, 7, 10, tzinfo=UTC)
    p = sla_preview(
        world.agent, arrival=arrival, platform="amazon", urgency="high", pauses=[(arrival + H, arrival + 2 * H)]
    )
    assert p.first_response_due == datetime(2026, 12, 7, 14, 30, tzinfo=UTC)  # 1 h, the pause, lunch, 1 h
    assert p.marketplace_due == arrival + 24 * H and p.calendar_name == "Office"
    assert not TicketSla.objects.exists()
    with pytest.raises(ValidationFailed) as info:
        sla_preview(world.agent, arrival=datetime(2026, 12, 7, 10), urgency="high")
    assert info.value.field == "arrival"
    with pytest.raises(ValidationFailed) as info:
        sla_preview(world.agent, arrival=arrival, urgency="high", pauses=[(arrival + 2 * H, arrival + H)])
    assert info.value.field == "pauses[0]"
    with pytest.raises(ValidationFailed) as info:
        sla_preview(world.agent, arrival=arrival, calendar={"timezone": "UTC", "weekly_hours": {"mon": [["9", "10"]]}})
    assert info.value.field == "calendar.weekly_hours.mon[0]"
    with pytest.raises(NotFound):
        sla_preview(world.foreign_user, arrival=arrival, policy_id=SlaPolicy.objects.get().pk)


# --------------------------------------------------------------------------- clocks following the inbox


def ingest(world, external_id: str, sent_at: datetime, store=None):  # type: ignore[no-untyped-def]
    return message_ingest(
        inbound=InboundMessage(
            store=store or world.store_us,
            external_id=external_id,
            body="My phone screen arrived broken",
            customer_external_id="buyer-1",
            conversation_id="conv-1",
            sent_at=sent_at,
        )
    )


def test_clock_starts_at_arrival_through_the_events(world, django_capture_on_commit_callbacks, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    make_policy(world, calendar_id=make_calendar(world).pk)
    arrival = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    # The status change happens "now": half an hour after the arrival, before the 11:30 first-response due
    # (with the real clock, any day after 2026-12-07 11:30 found that due breached, and a breached due stays).
    monkeypatch.setattr("django.utils.timezone.now", lambda: arrival + timedelta(minutes=30))
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest(world, "m1", arrival)
    row = TicketSla.objects.get(ticket=result.ticket)
    assert row.started_at == arrival
    assert row.first_response_due == arrival + 2 * H  # 11:30, before lunch
    assert row.marketplace_source == "elapsed_hours" and row.marketplace_due == arrival + 24 * H
    # waiting on the customer pauses; the status change is an event the clock follows
    with django_capture_on_commit_callbacks(execute=True):
        ticket_change_status(ticket=result.ticket, actor=world.admin, status="pending_customer")
    row.refresh_from_db()
    assert row.is_paused and row.first_response_due is None and row.resolution_due is None
    clocks = ticket_clocks(world.agent, result.ticket)
    assert clocks.first_response.state == "paused" and clocks.marketplace.due == arrival + 24 * H
    with pytest.raises(NotFound):
        ticket_clocks(world.outsider, result.ticket)


def test_recompute_from_history_twice_is_once(world) -> None:  # type: ignore[no-untyped-def]
    make_policy(world, calendar_id=make_calendar(world).pk)
    ticket = world.ticket()
    arrival = MON + 9 * H
    msg = Message.objects.create(
        ticket=ticket,
        store=ticket.store,
        direction=MessageDirection.INBOUND,
        channel="amazon",
        body="x",
        sent_at=arrival,
    )
    reply = Message.objects.create(
        ticket=ticket,
        store=ticket.store,
        direction=MessageDirection.OUTBOUND,
        channel="amazon",
        body="y",
        sent_at=arrival + 3 * H,
    )

    def event(type_: str, at: datetime, **payload) -> None:  # type: ignore[no-untyped-def]
        TicketEvent.objects.create(ticket=ticket, type=type_, at=at, payload=payload, actor_kind="system")

    event(TicketEventType.STATUS_CHANGED, arrival + H, old="open", new="on_hold", reason="")
    event(TicketEventType.STATUS_CHANGED, arrival + 2 * H, old="on_hold", new="open", reason="")
    event(TicketEventType.REPLY_SENT, arrival + 3 * H + 5 * timedelta(seconds=1), message_id=reply.pk)
    assert msg.pk
    now = MON + 20 * H
    first = services.ticket_sla_recompute(ticket_id=ticket.pk, now=now)
    values = TicketSla.objects.filter(pk=ticket.pk).values().get()
    second = services.ticket_sla_recompute(ticket_id=ticket.pk, now=now)
    assert TicketSla.objects.filter(pk=ticket.pk).values().get() == values and first and second
    assert TicketSla.objects.count() == 1
    row = TicketSla.objects.get()
    # 1 h counted, 1 h on hold, then 1 h more from 11:00 -> 12:00; the reply at 12:00 is exactly on time
    assert row.first_response_due == MON + 12 * H and row.first_response_at == MON + 12 * H
    assert row.paused_seconds == 3600 and row.marketplace_due is None


def test_sweep_warns_then_breaches_once_and_notifies_the_assignee(world, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    make_policy(world)  # around the clock: 2 h first response, 12 h resolution, warn at 75%
    ticket = world.ticket(assignee=world.agent)
    Message.objects.create(
        ticket=ticket, store=ticket.store, direction=MessageDirection.INBOUND, channel="amazon", body="x", sent_at=MON
    )
    TicketSla.objects.all().delete()
    services.ticket_sla_recompute(ticket_id=ticket.pk, now=MON)
    seen: list[object] = []
    events.subscribe(SlaWarning, seen.append)
    events.subscribe(SlaBreached, seen.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert services.sla_sweep(now=MON + H) == {"warnings": 0, "breaches": 0}
            assert services.sla_sweep(now=MON + 1.6 * H) == {"warnings": 1, "breaches": 0}
            assert services.sla_sweep(now=MON + 1.7 * H) == {"warnings": 0, "breaches": 0}
            assert services.sla_sweep(now=MON + 2 * H) == {"warnings": 0, "breaches": 1}
            assert services.sla_sweep(now=MON + 3 * H) == {"warnings": 0, "breaches": 0}
    finally:
        from aftersales.core.events import _subscribers

        _subscribers[SlaWarning].remove(seen.append)
        _subscribers[SlaBreached].remove(seen.append)
    assert [(type(e).__name__, e.clock) for e in seen] == [
        ("SlaWarning", "first_response"),
        ("SlaBreached", "first_response"),
    ]  # type: ignore[attr-defined]
    assert seen[0].actor == Actor.system("sla")  # type: ignore[attr-defined]
    row = TicketSla.objects.get()
    assert row.first_response_warned_at == MON + 1.5 * H and row.first_response_breached_at == MON + 2 * H
    notes = list(Notification.objects.filter(user=world.agent).values_list("text", flat=True))
    assert len(notes) == 2 and all(f"#{ticket.pk}" in n for n in notes)
    # recomputing keeps the flags (same due) and a rerun of the notification adds nothing
    services.ticket_sla_recompute(ticket_id=ticket.pk, now=MON + 3 * H)
    assert TicketSla.objects.get().first_response_breached_at == MON + 2 * H
    services.sla_notify(ticket_id=ticket.pk, clock="first_response", due_at=MON + 2 * H, breached=True)
    assert Notification.objects.filter(user=world.agent).count() == 2


def test_a_met_clock_is_not_flagged_and_a_late_one_is(world) -> None:  # type: ignore[no-untyped-def]
    make_policy(world)
    on_time, late = world.ticket(), world.ticket()
    for ticket, reply_after in ((on_time, H), (late, 3 * H)):
        Message.objects.create(
            ticket=ticket,
            store=ticket.store,
            direction=MessageDirection.INBOUND,
            channel="amazon",
            body="x",
            sent_at=MON,
        )
        TicketEvent.objects.create(
            ticket=ticket, type=TicketEventType.REPLY_SENT, at=MON + reply_after, payload={}, actor_kind="connector"
        )
        services.ticket_sla_recompute(ticket_id=ticket.pk, now=MON + 4 * H)
    services.sla_sweep(now=MON + 4 * H)
    assert TicketSla.objects.get(pk=on_time.pk).first_response_breached_at is None
    assert TicketSla.objects.get(pk=on_time.pk).first_response_warned_at is None
    assert TicketSla.objects.get(pk=late.pk).first_response_breached_at == MON + 2 * H


def test_config_change_marks_rows_stale_and_refresh_recomputes(world) -> None:  # type: ignore[no-untyped-def]
    ticket = world.ticket(urgency="high")
    Message.objects.create(
        ticket=ticket, store=ticket.store, direction=MessageDirection.INBOUND, channel="amazon", body="x", sent_at=MON
    )
    services.ticket_sla_recompute(ticket_id=ticket.pk, now=MON)
    assert TicketSla.objects.get().first_response_due is None  # no policy yet
    make_policy(world, name="High", urgency="high", first_response_minutes=30)
    assert TicketSla.objects.get().is_stale
    services.sla_refresh(now=MON + H)
    row = TicketSla.objects.get()
    assert not row.is_stale and row.first_response_due == MON + 0.5 * H and row.policy.name == "High"


def test_team_calendar_wins_over_the_policy_calendar(world) -> None:  # type: ignore[no-untyped-def]
    office = make_calendar(world)
    nights = make_calendar(world, name="Nights", weekly_hours={d: [["22:00", "06:00"]] for d in WEEKDAYS})
    make_policy(world, calendar_id=office.pk)
    services.team_calendar_set(user=world.admin, team_id=world.team_us.pk, calendar_id=nights.pk)
    with pytest.raises(NotFound):
        services.team_calendar_set(user=world.foreign_user, team_id=world.team_us.pk, calendar_id=None)
    ticket = world.ticket(team=world.team_us)
    Message.objects.create(
        ticket=ticket,
        store=ticket.store,
        direction=MessageDirection.INBOUND,
        channel="amazon",
        body="x",
        sent_at=MON + 9 * H,
    )
    row = services.ticket_sla_recompute(ticket_id=ticket.pk, now=MON + 9 * H)
    assert row is not None and row.calendar_name == "Nights"
    assert row.first_response_due == MON + 24 * H  # Monday 22:00 + 2 h


def test_respond_by_from_a_return_request(world) -> None:  # type: ignore[no-untyped-def]
    ticket = world.ticket(store=world.store_de)
    Message.objects.create(
        ticket=ticket, store=ticket.store, direction=MessageDirection.INBOUND, channel="ebay", body="x", sent_at=MON
    )
    ReturnRequest.objects.create(
        organization=world.org,
        store=world.store_de,
        external_id="R1",
        kind="return",
        platform_status="OPEN",
        ticket=ticket,
        respond_by=MON + 72 * H,
        created_on_platform=MON,
    )
    row = services.ticket_sla_recompute(ticket_id=ticket.pk, now=MON)
    assert row is not None and row.marketplace_source == "respond_by" and row.marketplace_due == MON + 72 * H


def test_refresh_follows_a_ticket_changed_without_an_event(world) -> None:  # type: ignore[no-untyped-def]
    make_policy(world, name="Base", first_response_minutes=120)
    make_policy(world, name="High", urgency="high", first_response_minutes=30)
    ticket = world.ticket(urgency="medium")
    services.ticket_sla_recompute(ticket_id=ticket.pk)
    assert TicketSla.objects.get().policy.name == "Base"
    ticket.urgency = "high"  # e.g. an agent's urgency change: no event the clocks subscribe to
    ticket.save()
    assert services.sla_refresh() == 1
    assert TicketSla.objects.get().policy.name == "High"
    assert services.sla_refresh() == 0  # nothing left to do
