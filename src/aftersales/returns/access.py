"""Who sees which RMA (one definition for the RMA services, the RMA list and the API).

An RMA opened on a ticket is seen by whoever sees the ticket (accounts.permissions.ticket_scope_q);
an RMA without a ticket is seen by everyone of the organization with the view permission. Another
organization's RMA, or one outside the user's ticket scope, is "not found" (never "forbidden")."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import can_view_ticket, has_perm, is_admin, ticket_scope_q
from aftersales.core.actors import Actor
from aftersales.core.errors import NotFound
from aftersales.inbox.models import Ticket

from .models import Rma


@dataclass(frozen=True)
class Automation:
    """Trusted code acting on an organization's returns in place of a user (a rule: rules.actions),
    passed as `user` to rma_approve(_many), rma_reject, rma_request_evidence and exchange_create: no
    user permission applies, the organization check stays, audit rows and events name `actor`, and a
    refund it asks for is approved only within `approval_limit` (amount, currency), else it waits for
    an approver."""

    actor: Actor
    organization_id: int
    approval_limit: tuple[Decimal, str] | None = None


def actor_of(user: Any) -> Actor:
    """Who is recorded for `user`: the automation's actor, else the user."""
    return user.actor if isinstance(user, Automation) else Actor.user(user)


def rma_scope_q(user: Any) -> Q:
    """Q over Rma restricting to what `user` may see. Always includes the organization."""
    if not has_perm(user, Permission.VIEW):
        return Q(pk__in=[])
    base = Q(organization_id=user.organization_id)
    if is_admin(user):
        return base
    visible_tickets = Ticket.objects.filter(ticket_scope_q(user)).values("pk")
    return base & (Q(ticket_id__isnull=True) | Q(ticket_id__in=visible_tickets))


def can_view_rma(user: Any, rma: Rma) -> bool:
    if isinstance(user, Automation):
        return rma.organization_id == user.organization_id
    if not has_perm(user, Permission.VIEW) or rma.organization_id != getattr(user, "organization_id", None):
        return False
    if rma.ticket_id is None or is_admin(user):
        return True
    ticket = rma.ticket
    return ticket is not None and can_view_ticket(user, ticket)


def check_rma_visible(user: Any, rma: Rma | None) -> Rma:
    """The RMA if `user` may see it, else NotFound (field rma_id)."""
    if rma is None or not can_view_rma(user, rma):
        raise NotFound(_("RMA not found"), field="rma_id")
    return rma
