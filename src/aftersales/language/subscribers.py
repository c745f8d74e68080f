"""The language engine listens to inbox events (the inbox does not know about it)."""

from aftersales.core.events import subscribe
from aftersales.inbox.events import MessageReceived


def _on_message_received(event: MessageReceived) -> None:
    from .tasks import translate_inbound_message

    translate_inbound_message(event.message_id)


subscribe(MessageReceived, _on_message_received)
