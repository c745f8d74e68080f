"""Property (hypothesis): whatever sequence of refund requests (full, partial with or without lines,
shipping; valid or not), approvals, rejections, cancellations, executions (succeeded, refused,
pending on the platform), retries and manual completions happens, the refunds that count against
an order (REFUND_COMMITTED_STATUSES) never exceed what was paid per order line nor the shipping,
and the platform is never asked twice to pay the same refund."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersales.channels import registry
from aftersales.core.errors import DomainError
from aftersales.returns.models import Refund, RefundEvent, RefundLine
from aftersales.returns.refunds import (
    refund_approve,
    refund_cancel,
    refund_execute,
    refund_mark_done,
    refund_reconcile,
    refund_reject,
    refund_request,
    refund_retry,
)
from aftersales.returns.workflow import REFUND_COMMITTED_STATUSES
from aftersales.testing.factories import OrderFactory, OrderLineFactory, StoreFactory

from .refund_connector import PATH, PLATFORM, RecordingConnector

pytestmark = pytest.mark.django_db

USERS = ("agent", "approver", "admin")
cents = st.integers(min_value=-100, max_value=12_000)
requests = st.tuples(
    st.just("request"),
    st.sampled_from(("full", "partial", "partial_lines", "shipping")),
    st.lists(st.tuples(st.integers(0, 1), cents, st.integers(0, 3)), min_size=1, max_size=2),
    cents,
    st.sampled_from(USERS),
)
decisions = st.tuples(
    st.sampled_from(("approve", "reject", "cancel", "retry", "mark_done", "reconcile")),
    st.integers(0, 5),
    st.sampled_from(USERS),
)
executions = st.tuples(st.just("execute"), st.integers(0, 5), st.sampled_from(("succeeded", "pending", "refuse")))
operations = st.lists(st.one_of(requests, decisions, executions), min_size=1, max_size=14)


@pytest.fixture
def recording() -> Iterator[type[RecordingConnector]]:
    RecordingConnector.reset()
    registry.register(PLATFORM, PATH)
    yield RecordingConnector
    registry.unregister(PLATFORM)
    RecordingConnector.reset()


def _money(value: int) -> str:
    return str(Decimal(value) / 100)


def _check_invariants(order, lines, recording) -> None:  # type: ignore[no-untyped-def]
    committed = Refund.objects.filter(order=order, status__in=REFUND_COMMITTED_STATUSES)
    for line in lines:
        taken = RefundLine.objects.filter(refund__in=committed, order_line=line).aggregate(s=Sum("amount"))["s"]
        assert (taken or 0) <= line.unit_price_amount * line.quantity, line.sku
    paid_lines = sum(line.unit_price_amount * line.quantity for line in lines)
    total = committed.aggregate(s=Sum("amount"))["s"] or 0
    lines_taken = RefundLine.objects.filter(refund__in=committed).aggregate(s=Sum("amount"))["s"] or 0
    assert total - lines_taken <= order.total_amount - paid_lines  # the shipping part
    assert total <= order.total_amount
    # the platform is asked once per refund, and once more per retry after a refusal: never twice for one payment
    calls = Counter(c.idempotency_key for c in recording.calls)
    for refund in Refund.objects.filter(order=order):
        retries = RefundEvent.objects.filter(refund=refund, type="status_changed", payload__reason="retry").count()
        assert calls[f"refund:{refund.idempotency_key}"] <= 1 + retries


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_refunds_never_exceed_what_was_paid(world, recording, ops):
    users = {name: getattr(world, name) for name in USERS}
    with transaction.atomic():
        store = StoreFactory(organization=world.org, platform=PLATFORM, site="x", currency="USD")
        order = OrderFactory(store=store, total_amount=Decimal("110.00"), currency="USD")
        lines = [
            OrderLineFactory(order=order, quantity=2, unit_price_amount=Decimal("30.00"), currency="USD"),
            OrderLineFactory(order=order, quantity=1, unit_price_amount=Decimal("45.50"), currency="USD"),
        ]  # 105.50 of goods, 4.50 of shipping
        refunds: list[int] = []
        for op in ops:
            try:
                if op[0] == "request":
                    _, kind, parts, amount, who = op
                    kwargs: dict = {"kind": kind, "currency": "USD"}
                    if kind == "partial_lines":
                        kwargs["kind"] = "partial"
                        kwargs["lines"] = [
                            {"order_line_id": lines[i].pk, "amount": _money(c), "quantity": q} for i, c, q in parts
                        ]
                    elif kind != "full":
                        kwargs["amount"] = _money(amount)
                    refund = refund_request(user=users[who], order_id=order.pk, **kwargs)
                    refunds.append(refund.pk)
                elif refunds:
                    refund_id = refunds[op[1] % len(refunds)]
                    if op[0] == "execute":
                        recording.answer = op[2]
                        refund_execute(refund_id=refund_id)
                    elif op[0] == "approve":
                        refund_approve(user=users[op[2]], refund_id=refund_id)
                    elif op[0] == "reject":
                        refund_reject(user=users[op[2]], refund_id=refund_id, reason="no")
                    elif op[0] == "cancel":
                        refund_cancel(user=users[op[2]], refund_id=refund_id)
                    elif op[0] == "retry":
                        refund_retry(user=users[op[2]], refund_id=refund_id)
                    elif op[0] == "mark_done":
                        refund_mark_done(user=users[op[2]], refund_id=refund_id, platform_refund_id="HAND-1")
                    elif op[0] == "reconcile":
                        refund_reconcile(refund_id=refund_id)
            except DomainError:
                pass  # refused as it should be (bounds, states, permissions): nothing written
            _check_invariants(order, lines, recording)
        transaction.set_rollback(True)
    RecordingConnector.calls = []
