"""Issue 11's end-to-end acceptance: a German "my phone screen arrived broken" from a VIP on Amazon DE
is classified (damaged_item, high urgency), a rule routes it to the German-speaking team and sends the
evidence-request template in German, and its SLA deadlines follow the team's calendar and Amazon's
24 hours. Everything runs as in production: ingest -> MessageReceived -> triage task -> MessageTriaged
-> rules task -> actions as the rule; the events after commit (Huey runs tasks inline in tests)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from aftersales.accounts.models import Membership
from aftersales.catalog.models import CustomerTier, Platform
from aftersales.core.actors import ActorKind
from aftersales.inbox.models import Message, MessageDirection, Ticket, TicketEvent
from aftersales.inbox.services import InboundMessage, message_ingest
from aftersales.language.models import ReplyTemplate, ReplyTemplateVariant
from aftersales.rules import services
from aftersales.rules.models import RuleExecution
from aftersales.sla.business_time import add_business_time, marketplace_due
from aftersales.sla.models import BusinessCalendar, SlaPolicy, TeamCalendar, TicketSla
from aftersales.testing.factories import CustomerFactory, OrderFactory, StoreFactory, TeamFactory, make_identity
from aftersales.triage.models import TriageResult

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("triage_model")]

SPLIT = [["09:00", "12:00"], ["13:30", "18:30"]]


@pytest.fixture(scope="session")
def triage_model():  # type: ignore[no-untyped-def]
    from aftersales.triage.artifacts import get_bundle

    return get_bundle()


def test_german_vip_broken_screen_on_amazon_de(world: Any) -> None:
    store = StoreFactory(
        organization=world.org, name="Amazon DE", platform=Platform.AMAZON, site="amazon.de", default_language="de"
    )
    german = TeamFactory(organization=world.org, name="Deutsch", languages=["de"], platforms=["amazon"])
    Membership.objects.create(team=german, user=world.teammate)
    berlin = BusinessCalendar.objects.create(
        organization=world.org,
        name="Berlin",
        timezone="Europe/Berlin",
        weekly_hours=dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), SPLIT),
    )
    TeamCalendar.objects.create(team=german, calendar=berlin)
    SlaPolicy.objects.create(
        organization=world.org, name="High", urgency="high", first_response_minutes=120, resolution_minutes=1440
    )
    template = ReplyTemplate.objects.create(organization=world.org, name="Photo of the damage", source_language="en")
    ReplyTemplateVariant.objects.create(
        template=template, language="en", body="We are sorry. Please send us a photo of the damage."
    )
    ReplyTemplateVariant.objects.create(
        template=template,
        language="de",
        body="Das tut uns leid, {{ customer.first_name }}. Bitte senden Sie uns ein Foto des Schadens.",
    )
    services.rule_create(
        user=world.admin,
        data={
            "name": "Damaged on arrival, VIP: evidence first",
            "trigger": "message_received",
            "enabled": True,
            "conditions": {
                "all": [
                    {"field": "message.triage.intent", "op": "eq", "value": "damaged_item"},
                    {"field": "customer.tier", "op": "eq", "value": "vip"},
                ]
            },
            "actions": [
                {"type": "set_urgency", "params": {"urgency": "high"}},
                {"type": "route_by_skill", "params": {}},
                {"type": "send_template", "params": {"template_id": template.pk}},
            ],
            "scope": {"platforms": ["amazon"], "regions": ["DE"]},
        },
    )
    store.country = "DE"
    store.save(update_fields=["country"])
    vip = CustomerFactory(
        organization=world.org, name="Jonas Weber", tier=CustomerTier.VIP, preferred_language="de", country="DE"
    )
    make_identity(vip, store, "A1VIPBUYER")
    OrderFactory(store=store, customer=vip, external_id="302-7766554-3322110")

    result = message_ingest(
        inbound=InboundMessage(
            store=store,
            external_id="amz-de-1",
            body="Hallo, das Display meines Handys ist kaputt angekommen, der Bildschirm ist gesprungen. "
            "Bestellung 302-7766554-3322110",
            customer_external_id="A1VIPBUYER",
        )
    )
    ticket = Ticket.objects.get(pk=result.ticket.pk)
    triage = TriageResult.objects.get(message__ticket=ticket)
    assert (triage.intent, triage.urgency, triage.language) == ("damaged_item", "high", "de")

    execution = RuleExecution.objects.get(ticket=ticket)
    assert execution.outcome == "applied", execution.actions
    assert ticket.urgency == "high"
    assert ticket.team_id == german.pk  # routed to the German-speaking team
    reply = Message.objects.get(ticket=ticket, direction=MessageDirection.OUTBOUND)
    assert reply.body == "Das tut uns leid, Jonas. Bitte senden Sie uns ein Foto des Schadens."
    assert reply.author_id is None
    assert TicketEvent.objects.filter(
        ticket=ticket, actor_kind=ActorKind.RULE, actor_ref=str(execution.rule_id)
    ).exists()

    # SLA: first response on the German team's calendar (2 business hours), Amazon's 24 elapsed hours
    sla = TicketSla.objects.get(ticket=ticket)
    arrival = sla.started_at
    assert sla.first_response_due == add_business_time(berlin.as_calendar(), arrival, timedelta(minutes=120))
    assert sla.marketplace_due == marketplace_due("amazon", arrival) == arrival + timedelta(hours=24)
