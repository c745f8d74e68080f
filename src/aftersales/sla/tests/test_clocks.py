"""sla.clocks: a ticket's clocks from its history (pure): start at arrival, pause while waiting,
stop at the first delivered reply / at resolution, reopen resumes, the marketplace's clock beside it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aftersales.sla.business_time import calendar_from_spec
from aftersales.sla.clocks import Targets, TicketHistory, compute_clocks, pauses_from

H = timedelta(hours=1)
SPLIT = [["09:00", "12:00"], ["13:30", "18:30"]]
OFFICE = calendar_from_spec(timezone="UTC", weekly=dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), SPLIT))
MON = datetime(2026, 12, 7, tzinfo=UTC)  # a Monday
T = Targets(first_response=2 * H, resolution=12 * H, warning_percent=75)


def history(**kw) -> TicketHistory:  # type: ignore[no-untyped-def]
    base = {
        "started_at": MON + 9 * H,
        "category_changes": [],
        "first_reply_at": None,
        "inbound_at": [MON + 9 * H],
        "replies_at": [],
        "platform": "amazon",
        "respond_by": [],
    }
    base.update(kw)
    return TicketHistory(**base)


def test_a_new_ticket_runs_on_business_time() -> None:
    c = compute_clocks(history(), T, OFFICE, now=MON + 10 * H)
    assert c.first_response_due == MON + 11 * H
    assert c.first_response_warn_at == MON + 10.5 * H  # 75% of 2 h
    assert c.resolution_due == MON + 24 * H + 14.5 * H  # 8 h Monday, 4 h Tuesday from 09:00 (lunch)
    assert c.marketplace_source == "elapsed_hours" and c.marketplace_due == MON + 33 * H
    assert not c.is_paused and c.paused_seconds == 0


def test_waiting_pauses_and_reopening_resumes() -> None:
    changes = [(MON + 10 * H, "waiting"), (MON + 15 * H, "open")]
    paused = compute_clocks(history(category_changes=changes[:1]), T, OFFICE, now=MON + 12 * H)
    assert paused.is_paused and paused.paused_since == MON + 10 * H
    assert paused.first_response_due is None and paused.resolution_due is None  # not running towards anything
    assert paused.paused_seconds == 2 * 3600
    resumed = compute_clocks(history(category_changes=changes), T, OFFICE, now=MON + 16 * H)
    # 1 h used before the pause; 1 h more from 15:00
    assert resumed.first_response_due == MON + 16 * H
    assert resumed.paused_seconds == 5 * 3600


def test_first_reply_stops_first_response_and_keeps_its_due() -> None:
    h = history(first_reply_at=MON + 10 * H, replies_at=[MON + 10 * H], category_changes=[(MON + 10 * H, "waiting")])
    c = compute_clocks(h, T, OFFICE, now=MON + 30 * H)
    assert c.first_response_at == MON + 10 * H and c.first_response_due == MON + 11 * H  # met
    assert c.resolution_due is None and c.is_paused
    assert c.marketplace_due is None  # the buyer was answered


def test_a_late_first_reply_keeps_the_due_it_missed() -> None:
    h = history(first_reply_at=MON + 24 * H + 10 * H, replies_at=[MON + 34 * H])
    c = compute_clocks(h, T, OFFICE, now=MON + 40 * H)
    assert c.first_response_due == MON + 11 * H and c.first_response_at > c.first_response_due


def test_resolution_stops_the_clock_and_a_reopen_resumes() -> None:
    solved = [(MON + 12 * H, "resolved")]
    c = compute_clocks(history(category_changes=solved), T, OFFICE, now=MON + 48 * H)
    assert c.resolved_at == MON + 12 * H and not c.is_paused
    assert c.resolution_due == MON + 24 * H + 14.5 * H  # the due it had: met
    assert c.paused_seconds == 0  # a resolution is not a pause
    reopened = [*solved, (MON + 24 * H + 9 * H, "open")]
    c2 = compute_clocks(history(category_changes=reopened), T, OFFICE, now=MON + 34 * H)
    assert c2.resolved_at is None
    # 3 h used Monday morning; 9 h more from Tuesday 09:00: 3 h + 5 h Tuesday, 1 h Wednesday
    assert c2.resolution_due == MON + 48 * H + 10 * H


def test_waiting_then_resolved_is_one_pause() -> None:
    changes = [(MON + 10 * H, "waiting"), (MON + 11 * H, "resolved")]
    pauses, current, resolved_since = pauses_from(history(category_changes=changes))
    assert pauses == [(MON + 10 * H, None)] and current == "resolved" and resolved_since == MON + 11 * H
    c = compute_clocks(history(category_changes=changes), T, OFFICE, now=MON + 20 * H)
    assert c.resolved_at == MON + 11 * H and c.paused_seconds == 3600


def test_marketplace_stretch_restarts_with_a_new_customer_message() -> None:
    h = history(
        inbound_at=[MON + 9 * H, MON + 30 * H, MON + 31 * H],
        replies_at=[MON + 10 * H],
        first_reply_at=MON + 10 * H,
        platform="tiktok",
    )
    c = compute_clocks(h, T, OFFICE, now=MON + 32 * H)
    assert c.marketplace_started_at == MON + 30 * H and c.marketplace_due == MON + 78 * H
    assert c.marketplace_warn_at == MON + 30 * H + 36 * H


def test_respond_by_from_the_payload_until_resolved() -> None:
    due = MON + 72 * H
    h = history(platform="ebay", respond_by=[due, due + H])
    c = compute_clocks(h, T, OFFICE, now=MON + 10 * H)
    assert c.marketplace_source == "respond_by" and c.marketplace_due == due and c.marketplace_warn_at == due - 24 * H
    done = compute_clocks(
        history(platform="ebay", respond_by=[due], category_changes=[(MON + 11 * H, "resolved")]),
        T,
        OFFICE,
        now=MON + 12 * H,
    )
    assert done.marketplace_due is None
    assert compute_clocks(history(platform="shopify"), T, OFFICE, now=MON).marketplace_source == ""


def test_no_policy_no_targets() -> None:
    c = compute_clocks(history(), Targets(None, None, 75), OFFICE, now=MON)
    assert c.first_response_due is None and c.resolution_due is None and c.marketplace_due is not None


def test_recomputing_is_a_function_of_history() -> None:
    h = history(category_changes=[(MON + 10 * H, "waiting"), (MON + 11 * H, "open")])
    assert compute_clocks(h, T, OFFICE, now=MON + 12 * H) == compute_clocks(h, T, OFFICE, now=MON + 12 * H)
