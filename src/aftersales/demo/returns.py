"""A handful of demo RMAs in various statuses, opened and moved through the RMA services (returns.rma,
returns.rma_actions) as the demo's admin, so the Returns pages show something after `make run`:
requested, approved, rejected, waiting for evidence, label issued. Orders are taken newest first; an
order the services refuse (e.g. outside the return window) is skipped."""

from __future__ import annotations

from django.db import transaction

from aftersales.accounts.models import User
from aftersales.catalog.models import Order
from aftersales.core.errors import DomainError
from aftersales.returns.rma import rma_approve, rma_create, rma_reject, rma_request_evidence
from aftersales.returns.rma_actions import rma_issue_label

REASONS = ("defective", "not_as_described", "damaged_in_transit", "wrong_item", "changed_mind", "defective")
WANTED = 6


def demo_rmas(*, organization_id: int, admin_username: str = "admin") -> int:
    """Open up to WANTED RMAs and move them to different statuses; returns how many were opened."""
    admin = User.objects.select_related("role", "organization").get(
        organization_id=organization_id, username=admin_username
    )
    made = 0
    orders = Order.objects.filter(organization_id=organization_id, lines__isnull=False).distinct()
    for order in orders.order_by("-placed_at", "-pk")[:60]:
        if made == WANTED:
            break
        line = order.lines.order_by("pk").first()
        if line is None:
            continue
        try:
            with transaction.atomic():
                rma = rma_create(
                    user=admin,
                    order_id=order.pk,
                    lines=[{"order_line_id": line.pk, "quantity": 1}],
                    reason=REASONS[made],
                    comment="",
                )
                step = made % WANTED
                if step in (1, 4, 5):
                    rma_approve(user=admin, rma_id=rma.pk)
                if step == 2:
                    rma_reject(user=admin, rma_id=rma.pk, reason="The item shows signs of use beyond testing.")
                if step == 3:
                    rma_request_evidence(
                        user=admin, rma_id=rma.pk, kinds=["photo"], message="Please send a photo of the damage."
                    )
                if step == 4:
                    tracking = f"1ZDEMO{made + 1:010d}"  # not the id: PostgreSQL sequences are not reset
                    rma_issue_label(
                        user=admin, rma_id=rma.pk, source="carrier", carrier="UPS", tracking_number=tracking
                    )
        except DomainError:
            continue
        made += 1
    return made
