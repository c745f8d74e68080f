"""The RMA state machine: every (from, to) pair against RMA_TRANSITIONS through rma_transition
(table-driven: allowed moves write their event, stamp their time and publish; the others are refused
and change nothing); a hypothesis property over random sequences of the RMA actions (no illegal
transition is ever reachable, a refused action writes nothing); RMA numbering under two concurrent
requests on PostgreSQL (distinct numbers, no gaps)."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersales.core import events
from aftersales.core.actors import Actor
from aftersales.core.errors import Conflict, DomainError, ValidationFailed
from aftersales.returns import rma_actions
from aftersales.returns.events import RmaStatusChanged
from aftersales.returns.models import Rma, RmaEvent, RmaStatus
from aftersales.returns.rma import rma_approve, rma_create, rma_reject, rma_request_evidence, rma_transition
from aftersales.returns.workflow import RMA_TRANSITIONS

from .rma_fixtures import delivered_order, first_line, return_hub

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")
PAIRS = list(itertools.product(RmaStatus.values, RmaStatus.values))


@pytest.fixture
def base_rma(world):  # type: ignore[no-untyped-def]
    order = delivered_order(world)
    return rma_create(
        user=world.agent,
        order_id=order.pk,
        lines=[{"order_line_id": first_line(order).pk, "quantity": 1}],
        reason="changed_mind",
    )


@pytest.mark.parametrize(("old", "new"), [p for p in PAIRS if p[0] != p[1]], ids=lambda v: str(v))
def test_every_pair_against_the_table(base_rma, old, new) -> None:
    Rma.objects.filter(pk=base_rma.pk).update(**{"status": old})  # the test sets up a state on purpose
    with transaction.atomic():
        rma = Rma.objects.select_for_update().get(pk=base_rma.pk)
        before = RmaEvent.objects.filter(rma=rma).count()
        if new in RMA_TRANSITIONS[old]:
            assert rma_transition(rma, new, actor=ACTOR, reason="test") is True
            row = RmaEvent.objects.filter(rma=rma).latest("id")
            assert row.payload["old"] == old and row.payload["new"] == new and row.actor_kind == "system"
            stored = Rma.objects.get(pk=rma.pk)
            assert stored.status == new
            stamp = {"label_issued": "label_issued_at", "received": "received_at", "resolved": "resolved_at"}.get(new)
            if stamp:
                assert getattr(stored, stamp) is not None
        else:
            with pytest.raises(Conflict):
                rma_transition(rma, new, actor=ACTOR)
            assert Rma.objects.get(pk=rma.pk).status == old
            assert RmaEvent.objects.filter(rma=rma).count() == before


def test_the_change_is_published_after_commit(base_rma, django_capture_on_commit_callbacks) -> None:
    seen: list[RmaStatusChanged] = []
    events.subscribe(RmaStatusChanged, seen.append)
    try:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            rma = Rma.objects.select_for_update().get(pk=base_rma.pk)
            rma_transition(rma, RmaStatus.UNDER_REVIEW, actor=ACTOR, reason="look")
            assert seen == []  # not before the commit
        assert [(e.old_status, e.new_status, e.reason, e.actor) for e in seen] == [
            ("requested", "under_review", "look", ACTOR)
        ]
    finally:
        from aftersales.core.events import _subscribers

        _subscribers[RmaStatusChanged].remove(seen.append)


def test_unknown_status_and_no_op(base_rma) -> None:
    with transaction.atomic():
        rma = Rma.objects.select_for_update().get(pk=base_rma.pk)
        with pytest.raises(ValidationFailed) as err:
            rma_transition(rma, "teleported", actor=ACTOR)
        assert err.value.field == "status"
        assert rma_transition(rma, rma.status, actor=ACTOR) is False


def test_outside_a_transaction_is_refused(base_rma) -> None:
    from unittest import mock

    with mock.patch.object(transaction.get_connection(), "in_atomic_block", False), pytest.raises(RuntimeError):
        rma_transition(Rma.objects.get(pk=base_rma.pk), RmaStatus.UNDER_REVIEW, actor=ACTOR)


ACTIONS = st.sampled_from(
    [
        "approve",
        "approve_exchange",
        "reject",
        "request_evidence",
        "add_imei",
        "offer",
        "accept",
        "decline",
        "label",
        "transit",
        "receive",
        "inspect_pass",
        "inspect_fail",
        "resolve_refund",
        "resolve_return",
        "cancel",
    ]
)


def _act(world: Any, rma: Rma, action: str) -> None:
    a = world.admin
    line = rma.lines.first()
    call = {
        "approve": lambda: rma_approve(user=a, rma_id=rma.pk),
        "approve_exchange": lambda: rma_approve(user=a, rma_id=rma.pk, resolution="exchange"),
        "reject": lambda: rma_reject(user=a, rma_id=rma.pk, reason="no"),
        "request_evidence": lambda: rma_request_evidence(user=a, rma_id=rma.pk, kinds=["imei"]),
        "add_imei": lambda: rma_actions.rma_add_evidence(user=a, rma_id=rma.pk, kind="imei", value="490154203237518"),
        "offer": lambda: rma_actions.rma_offer_partial(user=a, rma_id=rma.pk, amount="5.00"),
        "accept": lambda: rma_actions.rma_accept_partial(user=a, rma_id=rma.pk),
        "decline": lambda: rma_actions.rma_decline_partial(user=a, rma_id=rma.pk),
        "label": lambda: rma_actions.rma_issue_label(
            user=a, rma_id=rma.pk, source="carrier", carrier="UPS", tracking_number="1Z999AA10123456784"
        ),
        "transit": lambda: rma_actions.rma_mark_in_transit(user=a, rma_id=rma.pk),
        "receive": lambda: rma_actions.rma_receive(user=a, rma_id=rma.pk),
        "inspect_pass": lambda: rma_actions.rma_inspect(
            user=a,
            rma_id=rma.pk,
            lines=[{"line_id": line.pk, "checklist": {"complete_undamaged": True}}],  # type: ignore[union-attr]
        ),
        "inspect_fail": lambda: rma_actions.rma_inspect(
            user=a,
            rma_id=rma.pk,
            lines=[{"line_id": line.pk, "checklist": {"complete_undamaged": False}}],  # type: ignore[union-attr]
        ),
        "resolve_refund": lambda: rma_actions.rma_resolve(user=a, rma_id=rma.pk, outcome="refunded"),
        "resolve_return": lambda: rma_actions.rma_resolve(user=a, rma_id=rma.pk, outcome="returned_to_customer"),
        "cancel": lambda: rma_actions.rma_cancel(user=a, rma_id=rma.pk, reason="x"),
    }[action]
    call()


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(actions=st.lists(ACTIONS, min_size=1, max_size=12))
def test_no_illegal_transition_is_reachable(world, actions) -> None:
    return_hub(world, code=f"H{Rma.objects.count()}")
    order = delivered_order(world, lines=(("electronic_accessories", "30.00", 1, "USD"),))
    rma = rma_create(
        user=world.agent,
        order_id=order.pk,
        lines=[{"order_line_id": first_line(order).pk, "quantity": 1}],
        reason="changed_mind",
    )
    for action in actions:
        before_status = Rma.objects.get(pk=rma.pk).status
        before_events = RmaEvent.objects.filter(rma=rma).count()
        try:
            with transaction.atomic():
                _act(world, rma, action)
        except DomainError:
            assert Rma.objects.get(pk=rma.pk).status == before_status  # refused: nothing written
            assert RmaEvent.objects.filter(rma=rma).count() == before_events
        moves = list(
            RmaEvent.objects.filter(rma=rma, type="status_changed")
            .order_by("id")
            .values_list("payload__old", "payload__new")
        )
        current = RmaStatus.REQUESTED
        for old, new in moves:
            assert old == current and new in RMA_TRANSITIONS[old], (moves, action)
            current = new
        assert Rma.objects.get(pk=rma.pk).status == current


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
def test_numbering_under_concurrency() -> None:
    from aftersales.testing.personas import build_world

    world = build_world()
    orders = [delivered_order(world, lines=(("home", "20.00", 1, "USD"),)) for _ in range(6)]
    barrier = threading.Barrier(len(orders))
    results: list[Any] = [None] * len(orders)

    def run(i: int) -> None:
        from django.db import connections

        try:
            barrier.wait()
            order = orders[i]
            results[i] = rma_create(
                user=world.agent,
                order_id=order.pk,
                lines=[{"order_line_id": first_line(order).pk, "quantity": 1}],
                reason="changed_mind",
            ).number
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(orders))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(isinstance(r, str) for r in results), results
    year = results[0].split("-")[1]
    assert sorted(results) == [f"RMA-{year}-{n:06d}" for n in range(1, len(orders) + 1)]
