"""Two approvers at once on PostgreSQL (threads, each with its own connection): refunding the same
RMA yields exactly one refund; approving the same refund approves it once; two executions of it
call the platform once. The order row lock (taken first, then the RMA, then the refund) and the
unique idempotency key make it so."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from aftersales.accounts.models import DEFAULT_ROLE_PERMISSIONS, Role, RoleKind
from aftersales.channels import registry
from aftersales.channels.models import WriteBack
from aftersales.core.clock import now
from aftersales.core.errors import ValidationFailed
from aftersales.returns.models import Refund, RefundEvent, RefundLine, RefundStatus, Rma, RmaLine
from aftersales.returns.refunds import refund_approve, refund_execute, refund_request
from aftersales.testing.factories import OrderFactory, OrderLineFactory, StoreFactory, UserFactory
from aftersales.testing.threads import run_together

from .refund_connector import PATH, PLATFORM, RecordingConnector

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"),
]


def _together(*work: Callable[[], Any]) -> list[Any]:
    return run_together(*work, timeout=60)


@pytest.fixture
def recording() -> Iterator[type[RecordingConnector]]:
    RecordingConnector.reset()
    registry.register(PLATFORM, PATH)
    yield RecordingConnector
    registry.unregister(PLATFORM)
    RecordingConnector.reset()


@pytest.fixture
def scene(recording):  # type: ignore[no-untyped-def]
    store = StoreFactory(platform=PLATFORM, site="x", currency="USD")
    org = store.organization
    role = Role.objects.create(
        organization=org,
        kind=RoleKind.APPROVER,
        name="approver",
        permissions=[str(p) for p in DEFAULT_ROLE_PERMISSIONS[RoleKind.APPROVER]],
        approval_limit_amount=Decimal("1000"),
        approval_limit_currency="USD",
    )
    agent_role = Role.objects.create(
        organization=org,
        kind=RoleKind.AGENT,
        name="agent",
        permissions=[str(p) for p in DEFAULT_ROLE_PERMISSIONS[RoleKind.AGENT]],
    )
    order = OrderFactory(store=store, total_amount=Decimal("120.00"), currency="USD")
    line = OrderLineFactory(order=order, quantity=2, unit_price_amount=Decimal("60.00"), currency="USD")
    rma = Rma.objects.create(
        organization=org, store=store, number="RMA-2026-000001", order=order, reason="defective", requested_at=now()
    )
    RmaLine.objects.create(
        rma=rma, order_line=line, sku=line.sku, quantity=2, unit_price_amount=Decimal("60.00"), currency="USD"
    )
    return {
        "order": order,
        "line": line,
        "rma": rma,
        "first": UserFactory(username="peter", organization=org, role=role),
        "second": UserFactory(username="paula", organization=org, role=role),
        "agent": UserFactory(username="alice", organization=org, role=agent_role),
    }


def test_two_approvers_refunding_the_same_rma_make_one_refund(scene, recording):
    recording.delay = 0.2  # the first execution is still talking to the platform when the second arrives
    order, rma = scene["order"], scene["rma"]

    def refund_by(user):  # type: ignore[no-untyped-def]
        return lambda: refund_request(user=user, order_id=order.pk, rma_id=rma.pk, kind="full", currency="USD").pk

    results = _together(refund_by(scene["first"]), refund_by(scene["second"]))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert results[0] == results[1]  # both were answered with the one refund (key rma:<id>:refund)
    refund = Refund.objects.get()
    assert refund.amount == Decimal("120.00") and RefundLine.objects.filter(refund=refund).count() == 1
    assert RefundEvent.objects.filter(refund=refund, type="requested").count() == 1
    approvals = RefundEvent.objects.filter(refund=refund, type="status_changed", payload__to="approved")
    assert approvals.count() == 1
    # approved within the limit: executed after commit (Huey runs immediately in tests), once
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED and len(recording.calls) == 1

    # two more workers executing it at once (a redelivered task, a second click) call nothing
    results = _together(lambda: refund_execute(refund_id=refund.pk), lambda: refund_execute(refund_id=refund.pk))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(recording.calls) == 1 and WriteBack.objects.count() == 1
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED


def test_two_refunds_with_different_keys_cannot_both_take_the_money(scene):
    order, line = scene["order"], scene["line"]

    def refund_by(user, key):  # type: ignore[no-untyped-def]
        return lambda: (
            refund_request(
                user=user,
                order_id=order.pk,
                kind="partial",
                currency="USD",
                lines=[{"order_line_id": line.pk, "amount": "100.00"}],
                idempotency_key=key,
            ).pk
        )

    results = _together(refund_by(scene["first"], "click-1"), refund_by(scene["second"], "click-2"))
    refused = [r for r in results if isinstance(r, ValidationFailed)]
    assert len(refused) == 1 and refused[0].field == "lines[0].amount", results
    assert Refund.objects.count() == 1
    assert sum(RefundLine.objects.values_list("amount", flat=True)) == Decimal("100.00")


def test_two_approvers_approving_at_once_approve_once(scene, recording):
    order = scene["order"]
    refund = refund_request(user=scene["agent"], order_id=order.pk, kind="full", currency="USD")
    assert refund.status == RefundStatus.PENDING_APPROVAL
    results = _together(
        lambda: refund_approve(user=scene["first"], refund_id=refund.pk).status,
        lambda: refund_approve(user=scene["second"], refund_id=refund.pk).status,
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    approvals = RefundEvent.objects.filter(refund=refund, type="status_changed", payload__to="approved")
    assert approvals.count() == 1
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED and len(recording.calls) == 1  # executed once


def test_two_workers_executing_one_approved_refund_call_the_platform_once(scene, recording, monkeypatch):
    monkeypatch.setattr("aftersales.returns.refund_subscribers.refund_execute_task", lambda refund_id: None)
    refund = refund_request(user=scene["first"], order_id=scene["order"].pk, kind="full", currency="USD")
    assert refund.status == RefundStatus.APPROVED and recording.calls == []
    recording.delay = 0.3  # the first worker is still waiting for the platform when the second claims
    results = _together(lambda: refund_execute(refund_id=refund.pk), lambda: refund_execute(refund_id=refund.pk))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(recording.calls) == 1 and WriteBack.objects.count() == 1
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED and refund.platform_refund_id == "RF-1"
    executing = RefundEvent.objects.filter(refund=refund, type="status_changed", payload__to="executing")
    assert executing.count() == 1
