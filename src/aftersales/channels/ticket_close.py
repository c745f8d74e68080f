"""Close the platform's own ticket (Wish: a buyer ticket or an escalation to Wish) from the agent UI or
the API (issue 12): one service for both. Offered only for tickets whose store's connector declares
CLOSE_TICKET and whose conversation is the platform's ticket. The platform is called through the
write-back ledger under the key `ticket:<conversation id>:close`: a second click or an API replay
answers the recorded outcome and never closes twice. A transient failure leaves the row pending and
answers it, so the next click tries again. Our own ticket's status is not changed here.

Escalating the platform's ticket to the platform's own support (Wish: state AWAITING_WISH) works the
same way: connectors with an `escalate_ticket(ctx, conversation_id)` method, ledger kind ESCALATE,
key `ticket:<conversation id>:escalate`. Once the platform's ticket is closed (connectors with
`closed_state`: Wish's state as last pulled, or our own close) it is no longer offered and the service
answers 409 naming the state, before any call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from aftersales.accounts.permissions import Permission, check_ticket, organization_of
from aftersales.core.actors import Actor
from aftersales.core.errors import Conflict, NotFound, ValidationFailed

from .base import Capability, ConnectorError
from .models import WriteBack, WriteBackKind
from .registry import get_connector


def _connector_of(ticket: Any) -> Any:
    """The connector of a platform ticket's store; None for a ticket without a platform conversation."""
    if not ticket.conversation_id:
        return None
    try:
        return get_connector(ticket.store.platform)
    except ConnectorError:
        return None


def can_close_platform_ticket(ticket: Any) -> bool:
    """Whether this ticket is a platform ticket its store's connector can close."""
    connector = _connector_of(ticket)
    return connector is not None and Capability.CLOSE_TICKET in connector.capabilities


def close_key(conversation_id: str) -> str:
    return f"ticket:{conversation_id}:close"


def platform_ticket_close_state(ticket: Any) -> WriteBack | None:
    """The ledger row of closing this ticket on its platform, if one was asked."""
    if not ticket.conversation_id:
        return None
    return WriteBack.objects.filter(store_id=ticket.store_id, idempotency_key=close_key(ticket.conversation_id)).first()


def can_escalate_platform_ticket(ticket: Any) -> bool:
    """Whether this ticket is a platform ticket its store's connector can escalate to the platform,
    and the platform's ticket is not closed there (platform_ticket_closed)."""
    connector = _connector_of(ticket)
    return callable(getattr(connector, "escalate_ticket", None)) and not platform_ticket_closed(ticket, connector)


def platform_ticket_closed(ticket: Any, connector: Any = None) -> str:
    """The platform's state of its ticket when closed there (Wish: CLOSED, PERMANENTLY_CLOSED), as
    last known here (connectors with `closed_state(store_id, conversation_id)`); "" otherwise."""
    probe = getattr(connector or _connector_of(ticket), "closed_state", None)
    return str(probe(ticket.store_id, ticket.conversation_id)) if callable(probe) else ""


def escalate_key(conversation_id: str) -> str:
    return f"ticket:{conversation_id}:escalate"


def platform_ticket_escalate_state(ticket: Any) -> WriteBack | None:
    """The ledger row of escalating this ticket on its platform, if one was asked."""
    if not ticket.conversation_id:
        return None
    key = escalate_key(ticket.conversation_id)
    return WriteBack.objects.filter(store_id=ticket.store_id, idempotency_key=key).first()


def ticket_close_on_platform(*, user: Any, ticket_id: int) -> WriteBack:
    """Close the ticket's platform ticket (PROCESS, the ticket's scope): 404 outside the user's sight,
    422 naming `ticket` when the store cannot. Returns the ledger row (succeeded, failed with the
    platform's words, or pending after a transient error)."""
    return _on_platform(
        user=user,
        ticket_id=ticket_id,
        kind=WriteBackKind.CLOSE_TICKET,
        offered=can_close_platform_ticket,
        key=close_key,
        method="close_ticket",
        refusal=_("This ticket's marketplace connection cannot close it there: close it on the marketplace."),
    )


def ticket_escalate_on_platform(*, user: Any, ticket_id: int) -> WriteBack:
    """Escalate the ticket's platform ticket to the platform's support (PROCESS, the ticket's scope),
    at most once: as ticket_close_on_platform."""
    return _on_platform(
        user=user,
        ticket_id=ticket_id,
        kind=WriteBackKind.ESCALATE,
        offered=can_escalate_platform_ticket,
        key=escalate_key,
        method="escalate_ticket",
        refusal=_("This ticket's marketplace connection cannot escalate it: escalate it on the marketplace."),
    )


def _on_platform(
    *,
    user: Any,
    ticket_id: int,
    kind: WriteBackKind,
    offered: Callable[[Any], bool],
    key: Callable[[str], str],
    method: str,
    refusal: str,
) -> WriteBack:
    from aftersales.inbox.models import Ticket

    from .writeback import writeback_perform

    ticket = Ticket.objects.select_related("store").filter(pk=ticket_id).first()
    if ticket is None or ticket.organization_id != organization_of(user):
        raise NotFound(_("No such ticket."))
    check_ticket(user, ticket, Permission.PROCESS)
    closed = platform_ticket_closed(ticket) if kind == WriteBackKind.ESCALATE else ""
    if closed:
        raise Conflict(
            _("This ticket is %(state)s on the marketplace: a closed ticket cannot be escalated.") % {"state": closed},
            field="ticket",
            code="ticket_closed",
        )
    if not offered(ticket):
        raise ValidationFailed(refusal, field="ticket")
    call = getattr(get_connector(ticket.store.platform), method)
    conversation_id = ticket.conversation_id
    ledger_key = key(conversation_id)
    try:
        return writeback_perform(
            store=ticket.store,
            kind=kind,
            key=ledger_key,
            request={"conversation_id": conversation_id},
            actor=Actor.user(user),
            call=lambda ctx: call(ctx, conversation_id),
        )
    except ConnectorError:  # transient: the row is pending again with the error's words
        return WriteBack.objects.get(store=ticket.store, idempotency_key=ledger_key)
