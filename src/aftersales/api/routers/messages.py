"""Messages: sending a failed reply again."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm, check_ticket
from aftersales.inbox.selectors import message_get
from aftersales.inbox.services import message_retry_delivery

from ..auth import current_user
from ..schemas.common import Id, with_errors
from ..schemas.tickets import MessageOut

router = Router(tags=["tickets"])


@router.post("/messages/{message_id}/retry", response=with_errors({200: MessageOut}))
def retry_message(request: HttpRequest, message_id: Id) -> Any:
    """Queue a failed reply for delivery again (409 unless its delivery failed)."""
    user = current_user(request)
    message = message_get(user, message_id)
    check_ticket(user, message.ticket, Permission.PROCESS)
    check_perm(user, Permission.REPLY)
    return message_retry_delivery(message=message)
