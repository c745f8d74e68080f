"""Close the platform's own ticket (Wish: a buyer ticket or an escalation to Wish) from the agent UI or
the API (issue 12): one service for both. Offered only for tickets whose store's connector declares
CLOSE_TICKET and whose conversation is the platform's ticket. The platform is called through the
write-back ledger under the key `ticket:<conversation id>:close`: a second click or an API replay
answers the recorded outcome and never closes twice. A transient failure leaves the row pending and
answers it, so the next click tries again. Our own ticket's status is not changed here."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from aftersales.accounts.permissions import Permission, check_ticket, organization_of
from aftersales.core.actors import Actor
from aftersales.core.errors import NotFound, ValidationFailed

from .base import Capability, ConnectorError
from .models import WriteBack, WriteBackKind
from .registry import get_connector


def can_close_platform_ticket(ticket: Any) -> bool:
    """Whether this ticket is a platform ticket its store's connector can close."""
    if not ticket.conversation_id:
        return False
    try:
        connector = get_connector(ticket.store.platform)
    except ConnectorError:
        return False
    return connector is not None and Capability.CLOSE_TICKET in connector.capabilities


def close_key(conversation_id: str) -> str:
    return f"ticket:{conversation_id}:close"


def platform_ticket_close_state(ticket: Any) -> WriteBack | None:
    """The ledger row of closing this ticket on its platform, if one was asked."""
    if not ticket.conversation_id:
        return None
    return WriteBack.objects.filter(store_id=ticket.store_id, idempotency_key=close_key(ticket.conversation_id)).first()


def ticket_close_on_platform(*, user: Any, ticket_id: int) -> WriteBack:
    """Close the ticket's platform ticket (PROCESS, the ticket's scope): 404 outside the user's sight,
    422 naming `ticket` when the store cannot. Returns the ledger row (succeeded, failed with the
    platform's words, or pending after a transient error)."""
    from aftersales.inbox.models import Ticket

    from .writeback import writeback_perform

    ticket = Ticket.objects.select_related("store").filter(pk=ticket_id).first()
    if ticket is None or ticket.organization_id != organization_of(user):
        raise NotFound(_("No such ticket."))
    check_ticket(user, ticket, Permission.PROCESS)
    if not can_close_platform_ticket(ticket):
        raise ValidationFailed(
            _("This ticket's marketplace connection cannot close it there: close it on the marketplace."),
            field="ticket",
        )
    connector: Any = get_connector(ticket.store.platform)
    conversation_id = ticket.conversation_id
    key = close_key(conversation_id)
    try:
        return writeback_perform(
            store=ticket.store,
            kind=WriteBackKind.CLOSE_TICKET,
            key=key,
            request={"conversation_id": conversation_id},
            actor=Actor.user(user),
            call=lambda ctx: connector.close_ticket(ctx, conversation_id),
        )
    except ConnectorError:  # transient: the row is pending again with the error's words
        return WriteBack.objects.get(store=ticket.store, idempotency_key=key)
