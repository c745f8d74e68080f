"""A marketplace return linked to a ticket shows on the ticket's timeline: received, then each status
change on the platform, with the connector as the actor and the platform's own words."""

from __future__ import annotations

import pytest
from django.utils import translation

from aftersales.channels.base import RawRecord, Stream
from aftersales.channels.sync import receive_records
from aftersales.inbox.models import TicketEvent, TicketEventType
from aftersales.returns.models import ReturnRequest
from aftersales.web.timeline import event_sentence

from .test_sync import order, ret

pytestmark = pytest.mark.django_db


def test_return_received_and_status_changes_are_on_the_ticket_timeline(shop):
    receive_records(store=shop, records=[RawRecord(Stream.ORDERS, "o", order(1))], source="pull")
    (first,) = receive_records(store=shop, records=[RawRecord(Stream.RETURNS, "r1", ret(1))], source="pull")
    later = "2026-11-02T10:00:00+00:00"
    receive_records(
        store=shop, records=[RawRecord(Stream.RETURNS, "r1b", ret(1, status="RMA_SENT", updated=later))], source="pull"
    )
    # The same version again, and a newer version with only other fields changed: no new status row.
    receive_records(
        store=shop, records=[RawRecord(Stream.RETURNS, "r1c", ret(1, status="RMA_SENT", updated=later))], source="pull"
    )
    request = ReturnRequest.objects.get(store=shop, external_id="R-1")
    rows = list(
        TicketEvent.objects.filter(
            ticket_id=first.ticket_id,
            type__in=[TicketEventType.RETURN_REQUEST_RECEIVED, TicketEventType.RETURN_REQUEST_STATUS_CHANGED],
        ).order_by("at", "id")
    )
    assert [r.type for r in rows] == ["return_request_received", "return_request_status_changed"]
    for row in rows:
        assert (row.actor_kind, row.actor_ref, row.actor_id) == ("connector", str(shop.pk), None)
        assert row.payload["return_request_id"] == request.pk and row.payload["external_id"] == "R-1"
    assert rows[0].payload["status"] == "OPEN"
    assert (rows[1].payload["old"], rows[1].payload["new"]) == ("OPEN", "RMA_SENT")
    sentences = [event_sentence(r, {}, {}) for r in rows]
    assert "R-1" in sentences[0] and "OPEN" in sentences[0] and "received" in sentences[0]
    assert "from OPEN to RMA_SENT" in sentences[1]
    with translation.override("zh-hans"):
        translated = event_sentence(rows[1], {}, {})
    assert "在平台上的状态从 OPEN 变为 RMA_SENT" in translated
