"""Skipped follow-ups where the agent looks (issue 11 §5): a ticket outside the CSAT sample says so in
words on its Follow-ups panel, and a warranty reminder that had no conversation to go in (no_ticket, a
row without a ticket) shows on the panel of the buyer's later tickets."""

from __future__ import annotations

from aftersales.followups import jobs
from aftersales.followups.models import FollowUp
from aftersales.followups.selectors import ticket_follow_ups
from aftersales.inbox.workflow import TicketStatus
from aftersales.testing.factories import OrderFactory, TicketFactory

from .test_jobs import _reminder


def test_not_sampled_is_told_in_words_on_the_ticket_panel(world, config, solved, client):
    config.csat_sample_percent = 0
    config.save()
    ticket = solved()
    assert jobs.csat_surveys_send() == 0
    assert FollowUp.objects.get(ticket=ticket).reason == "not_sampled"
    client.force_login(world.admin)
    html = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert 'data-followup="csat_survey" data-outcome="skipped"' in html
    assert "not in the CSAT sample (the organization surveys 0% of solved tickets)" in html


def test_a_reminder_without_a_thread_shows_on_the_buyers_later_ticket(world, config, client):
    order = OrderFactory(store=world.store_de, organization=world.org)
    reminder = _reminder(world, order)
    assert jobs.warranty_reminders_deliver() == 0  # no live ticket: skipped, no_ticket
    later = TicketFactory(store=world.store_de, order=order, customer=order.customer, status=TicketStatus.OPEN)
    other = TicketFactory(store=world.store_de, status=TicketStatus.OPEN)  # another buyer: nothing
    found = ticket_follow_ups(world.admin, later.pk)
    assert [f.key for f in found.unsent_elsewhere] == [f"warranty:{reminder.pk}"]
    assert ticket_follow_ups(world.admin, other.pk).unsent_elsewhere == ()
    client.force_login(world.admin)
    html = client.get(f"/tickets/{later.pk}/").content.decode()
    assert "Not sent: no conversation with the buyer" in html
    assert 'data-reason="no_ticket"' in html
