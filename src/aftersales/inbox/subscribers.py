"""Wiring of inbox events to background work. Runs after commit (see core.events)."""

from aftersales.catalog.events import CustomerTierChanged
from aftersales.core.events import subscribe

from .events import ReplyQueued


def _deliver(event: ReplyQueued) -> None:
    from .tasks import deliver_reply

    deliver_reply(event.message_id)


subscribe(ReplyQueued, _deliver)


def _copy_tier(event: CustomerTierChanged) -> None:
    from .models import Ticket

    Ticket.objects.filter(customer_id=event.customer_id).update(customer_tier=event.new_tier)


subscribe(CustomerTierChanged, _copy_tier)
