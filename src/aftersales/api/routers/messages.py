"""Messages: sending a failed reply again."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from aftersales.inbox.selectors import message_get
from aftersales.inbox.services import message_retry_delivery

from ..auth import current_user
from ..schemas.common import Id, with_errors
from ..schemas.tickets import MessageOut

router = Router(tags=["tickets"])


@router.post("/messages/{message_id}/retry", response=with_errors({200: MessageOut}))
def retry_message(request: HttpRequest, message_id: Id) -> Any:
    """Queue a failed reply for delivery again (409 unless its delivery failed). Needs the reply
    permission on the message's ticket; the retry is recorded on the ticket with its actor."""
    user = current_user(request)
    return message_retry_delivery(message=message_get(user, message_id), actor=user)
