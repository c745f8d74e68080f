"""POST /inbound/messages answers as ninja would (issue 13, request CPU; docs/adr/0044): the store and
message_ingest's probes are read in one SELECT (inbox.services.inbound_store_probe) and the body is rendered
without re-validating it against InboundResultOut (api/rendering.json_response). Same bytes, headers,
statuses and rows as the ninja-validated answer and the separate store lookup (errors, a deactivated store:
test_inbound.py, test_store_deactivated.py)."""

from __future__ import annotations

import json

from django.db import connection
from django.test.utils import CaptureQueriesContext

from aftersales.accounts.services import api_token_create
from aftersales.api.main import api
from aftersales.api.rendering import CONTENT_TYPE, IsoJSONRenderer, json_response
from aftersales.api.schemas.inbound import InboundResultOut
from aftersales.catalog.models import Store
from aftersales.catalog.selectors import store_of_organization
from aftersales.inbox.models import Message, Ticket, TicketEvent
from aftersales.inbox.services import InboundMessage, inbound_store_probe, message_ingest

from .helpers import ApiClient
from .test_inbound import payload


def _ninja_answer(status: int, body: dict[str, object]) -> tuple[int, str, bytes]:
    """What ninja's Operation._result_to_response makes of Status(status, body) for this operation."""
    validated = InboundResultOut.model_validate(body).model_dump()
    response = api.create_response(None, validated, status=status)  # type: ignore[arg-type]
    return response.status_code, response["Content-Type"], response.content


def test_the_answer_is_ninjas_for_created_and_replayed(world):
    _, raw = api_token_create(user=world.admin, name="gateway", scopes=["write", "admin"])
    client = ApiClient(token=raw)
    for expected_status in (201, 200):  # new, then the same (store, external id) again
        response = client.post("/inbound/messages", payload(world, attachments=[]))
        assert response.status_code == expected_status
        body = json.loads(response.content)
        assert list(body) == ["ticket_id", "message_id", "created", "ticket_created"]
        assert (response.status_code, response["Content-Type"], response.content) == _ninja_answer(
            expected_status, body
        )
        assert set(response.headers) >= {"Content-Type", "X-Request-ID", "Content-Security-Policy"}


def test_json_response_is_the_renderers_bytes():
    body = {"ticket_id": 7, "message_id": 9, "created": True, "ticket_created": False}
    response = json_response(201, body)
    assert response.content == IsoJSONRenderer().render(None, body, response_status=201).encode()  # type: ignore[arg-type]
    assert response["Content-Type"] == CONTENT_TYPE == api.get_content_type()
    assert response.status_code == 201 and response.reason_phrase == "Created"


def test_one_select_before_the_transaction(world):
    """Token, then the store with the probes: the separate store lookup's statement is gone."""
    _, raw = api_token_create(user=world.admin, name="gateway", scopes=["write", "admin"])
    client = ApiClient(token=raw)
    client.post("/inbound/messages", payload(world, external_id="warm-up", attachments=[]))
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(
            "/inbound/messages", payload(world, external_id="m-2", customer_external_id="NEW-9", attachments=[])
        )
    assert response.status_code == 201
    sql = [q["sql"] for q in ctx.captured_queries]
    store_table = Store._meta.db_table
    assert sum(f'FROM "{store_table}"' in s or f"FROM `{store_table}`" in s for s in sql) == 1, "\n".join(sql)


def test_the_probe_reads_the_store_store_of_organization_reads(world):
    probe = inbound_store_probe(
        organization_id=world.org.pk, store_id=world.store_us.pk, external_id="x-1", customer_external_id="B-1"
    )
    assert probe is not None and probe.store is not None
    reference = store_of_organization(world.org.pk, world.store_us.pk)
    assert reference is not None
    assert probe.store.get_deferred_fields() == reference.get_deferred_fields() == {"credentials"}
    for field in Store._meta.concrete_fields:
        if field.name != "credentials":
            assert getattr(probe.store, field.attname) == getattr(reference, field.attname), field.name
    assert (probe.message_id, probe.customer_id, probe.store_name, probe.store_active) == (
        None,
        None,
        reference.name,
        reference.is_active,
    )
    for organization_id, store_id in ((world.org.pk, world.foreign_store.pk), (world.org.pk, 987654)):
        assert (
            inbound_store_probe(
                organization_id=organization_id, store_id=store_id, external_id="x-1", customer_external_id="B-1"
            )
            is None
        )


def _inbound(store: Store, external_id: str, buyer: str) -> InboundMessage:
    return InboundMessage(
        store=store,
        external_id=external_id,
        body="Where is my parcel?",
        customer_external_id=buyer,
        customer_email=f"{buyer.lower()}@example.org",
        customer_name="Ann Lee",
    )


def _probe_for(world, inbound: InboundMessage):  # type: ignore[no-untyped-def]
    return inbound_store_probe(
        organization_id=world.org.pk,
        store_id=inbound.store.pk,
        external_id=inbound.external_id,
        customer_external_id=inbound.customer_external_id,
    )


def test_the_probe_finds_the_replay_and_the_known_buyer(world):
    first = message_ingest(inbound=_inbound(world.store_us, "p-1", "BUYER-1"))
    replay = _probe_for(world, _inbound(world.store_us, "p-1", "BUYER-1"))
    assert replay is not None and replay.message_id == first.message.pk
    assert replay.customer_id == first.ticket.customer_id
    again = message_ingest(inbound=_inbound(world.store_us, "p-1", "BUYER-1"), probe=replay)
    assert not again.created and again.message.pk == first.message.pk
    follow = _inbound(world.store_us, "p-2", "BUYER-1")
    probe = _probe_for(world, follow)
    assert probe is not None and probe.message_id is None and probe.customer_id == first.ticket.customer_id
    second = message_ingest(inbound=follow, probe=probe)
    assert second.created and not second.ticket_created and second.ticket.pk == first.ticket.pk


def test_a_probe_made_for_another_message_is_not_used(world):
    first = message_ingest(inbound=_inbound(world.store_us, "q-1", "BUYER-2"))
    stale = _probe_for(world, _inbound(world.store_us, "q-2", "BUYER-2"))  # says: no such message yet
    assert stale is not None and stale.message_id is None
    # Handed with a message it was not made for (the replay of q-1): message_ingest probes again.
    again = message_ingest(inbound=_inbound(world.store_us, "q-1", "BUYER-2"), probe=stale)
    assert not again.created and again.message.pk == first.message.pk


def test_same_rows_with_and_without_the_probe(world):
    """The same messages through message_ingest with the API's probe and without: the same tickets, messages
    and audit rows (ids aside)."""

    def ingest_all(prefix: str, *, with_probe: bool) -> list[tuple[object, ...]]:
        rows = []
        for n, buyer in enumerate(("C1", "C2", "C1", "C3")):
            inbound = _inbound(world.store_us, f"{prefix}-{n}", f"{prefix}-{buyer}")
            probe = _probe_for(world, inbound) if with_probe else None
            result = message_ingest(inbound=inbound, probe=probe)
            ticket = Ticket.objects.get(pk=result.ticket.pk)
            message = Message.objects.get(pk=result.message.pk)
            events = list(
                TicketEvent.objects.filter(ticket=ticket).order_by("id").values_list("type", "actor_kind", "payload")
            )
            events = [(t, k, {**p, "message_id": None, "external_id": None}) for t, k, p in events]
            rows.append(
                (
                    result.created,
                    result.ticket_created,
                    ticket.subject,
                    ticket.status,
                    ticket.language,
                    message.body,
                    message.author_name,
                    ticket.customer.name,
                    ticket.customer.email.split("-", 1)[1],
                    events,
                )
            )
        return rows

    assert ingest_all("with", with_probe=True) == ingest_all("wout", with_probe=False)
