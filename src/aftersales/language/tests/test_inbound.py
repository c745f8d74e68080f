def test_ticket_follows_the_detected_language(world, django_capture_on_commit_callbacks):
    from aftersales.inbox.models import Ticket, TicketEvent
    from aftersales.inbox.services import InboundMessage, message_ingest

    with django_capture_on_commit_callbacks(execute=True):
        result = message_ingest(
            inbound=InboundMessage(
                store=world.store_us,  # default language en
                external_id="de-1",
                body="Hallo, meine Kopfhörer laden nicht mehr, obwohl ich sie erst letzte Woche gekauft habe.",
                customer_external_id="KLAUS",
            )
        )
    ticket = Ticket.objects.get(pk=result.ticket.pk)
    assert ticket.language == "de"
    assert ticket.customer.preferred_language == "de"
    event = TicketEvent.objects.get(ticket=ticket, type="language_detected")
    assert event.payload["old"] == "en" and event.payload["new"] == "de"
