"""Wiring of inbox events to background work. Runs after commit (see core.events)."""

from aftersales.core.events import subscribe

from .events import ReplyQueued


def _deliver(event: ReplyQueued) -> None:
    from .tasks import deliver_reply

    deliver_reply(event.message_id)


subscribe(ReplyQueued, _deliver)
