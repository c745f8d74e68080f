"""No illegal transition is reachable: the tables, and random sequences of agent actions through
the services (hypothesis), only ever move along the tables, and each move leaves an audit row."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersales.core.errors import DomainError
from aftersales.warranty.models import RepairOrder, WarrantyClaim
from aftersales.warranty.services import (
    UnitInput,
    claim_change_status,
    claim_open,
    claim_resolve,
    repair_advance,
    units_register,
)
from aftersales.warranty.workflow import (
    CLAIM_FINAL,
    CLAIM_TRANSITIONS,
    REPAIR_FINAL,
    REPAIR_TRANSITIONS,
    ClaimStatus,
    RepairStatus,
    can_claim_transition,
    can_repair_transition,
)

from .conftest import VALID_IMEI, make_phone_line


def test_tables_cover_every_status_and_finals_are_final():
    assert set(CLAIM_TRANSITIONS) == set(ClaimStatus.values)
    assert set(REPAIR_TRANSITIONS) == set(RepairStatus.values)
    for table in (CLAIM_TRANSITIONS, REPAIR_TRANSITIONS):
        for source, targets in table.items():
            assert source not in targets and targets <= set(table)
    assert {"rejected", "closed", "cancelled"} == CLAIM_FINAL and {"closed", "cancelled"} == REPAIR_FINAL


@given(st.lists(st.sampled_from(ClaimStatus.values), max_size=30))
def test_a_walk_over_the_claim_table_stays_legal(targets):
    current = ClaimStatus.SUBMITTED
    for target in targets:
        if can_claim_transition(current, target):
            current = target
    assert current in CLAIM_TRANSITIONS


ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("claim"), st.sampled_from(ClaimStatus.values), st.sampled_from(["approver", "agent"])),
        st.tuples(st.just("resolve"), st.sampled_from(["repair", "replacement", "refund"]), st.just("agent")),
        st.tuples(st.just("repair"), st.sampled_from(RepairStatus.values), st.just("agent")),
    ),
    min_size=1,
    max_size=14,
)


@pytest.mark.django_db
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(actions=ACTIONS)
def test_random_actions_only_move_along_the_tables(world, actions):
    with transaction.atomic():
        stock = make_phone_line(world, quantity=1)
        unit = units_register(user=world.agent, rows=[UnitInput(imei=VALID_IMEI, order_line_id=stock.line.pk)])[0]
        claim = claim_open(user=world.agent, unit_id=unit.pk, problem="p", claimed_at=datetime(2026, 6, 1, tzinfo=UTC))
        for kind, value, who in actions:
            user = getattr(world, who)
            before_claim = WarrantyClaim.objects.get(pk=claim.pk).status
            repair = RepairOrder.objects.filter(claim=claim).order_by("-id").first()
            before_repair = repair.status if repair else None
            try:
                if kind == "claim":
                    claim_change_status(user=user, claim_id=claim.pk, status=value, reason="r")
                elif kind == "resolve":
                    claim_resolve(user=user, claim_id=claim.pk, resolution=value)
                elif repair is not None:
                    repair_advance(user=user, repair_id=repair.pk, status=value, reason="r", tracking_number="T1")
            except DomainError:
                pass
            after = WarrantyClaim.objects.get(pk=claim.pk).status
            if after != before_claim:
                assert can_claim_transition(before_claim, after), (before_claim, after)
            if repair is not None:
                repair.refresh_from_db()
                if repair.status != before_repair:
                    assert can_repair_transition(before_repair, repair.status)
        claim.refresh_from_db()
        moves = [e.payload for e in claim.events.filter(type="status_changed").order_by("id")]
        current = "submitted"
        for move in moves:
            assert move["old"] == current and can_claim_transition(current, move["new"])
            current = move["new"]
        assert current == claim.status
        for repair in RepairOrder.objects.filter(claim=claim):
            current = "awaiting_unit"
            for move in [e.payload for e in repair.events.filter(type="status_changed").order_by("id")]:
                assert move["old"] == current and can_repair_transition(current, move["new"])
                current = move["new"]
            assert current == repair.status
        transaction.set_rollback(True)
