"""Inbound translation of many messages at once (inbound.messages_translate, the worker's batch entry point):
the outcome of each message is the one it has alone (detection, glossary, memory, provider routes and their
fallbacks, failures, the ticket's language, the customer's, the search documents), the statements do not grow
with the batch, and a redelivered task calls no provider again."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from aftersales.core import tasks
from aftersales.inbox.models import Message, Ticket, TicketEvent, TicketSearch
from aftersales.inbox.services import InboundMessage, message_ingest
from aftersales.language import inbound, memory
from aftersales.language.models import MemorySegment, MessageTranslationState, TranslationStatus
from aftersales.language.services import glossary_import_csv, message_translate, provider_config_save

from .conftest import fake_llm

pytestmark = pytest.mark.django_db

BODIES = [
    "Hello, my order arrived broken. Can you send a new one?",
    "Hallo, das Display meines Handys ist kaputt angekommen, der Bildschirm ist gesprungen.",
    "Hola, el paquete no ha llegado todavía, ¿dónde está mi pedido?",
    "¿Dónde está mi pedido 113-1234567-1234567?",  # a memory segment (whole text)
    "Hola.\n¿Dónde está mi pedido 205-7654321-7654321?",  # a memory segment (one line)
    "Please return the power bank with the RMA number.",  # glossary terms
    "5",  # too short to tell: the store's language
    "我的订单还没有到，请帮我查一下物流",
]
GLOSSARY = """source_language,target_language,term,translation,do_not_translate,case_sensitive,note
*,*,RMA,,true,false,
en,zh,power bank,充电宝,false,false,
"""


def _ingest(world: Any, tag: str, bodies: list[str], django_capture_on_commit_callbacks: Any) -> list[int]:
    with django_capture_on_commit_callbacks(execute=False):  # (the tasks are run by the test)
        return [
            message_ingest(
                inbound=InboundMessage(
                    store=world.store_us,
                    external_id=f"tr-{tag}-{i}",
                    body=body,
                    subject="Order",
                    customer_external_id=f"tr-{tag}-{i % 4}",  # (customers with several tickets' messages)
                    customer_name="Pat Buyer",
                    customer_email=f"tr-{tag}-{i % 4}@example.com",
                )
            ).message.pk
            for i, body in enumerate(bodies)
        ]


def _world_with_everything(world: Any, server: Any) -> None:
    world.agent.language = "zh-hans"
    world.agent.save()
    provider_config_save(
        user=world.admin,
        name="qwen",
        kind="openai",
        base_url=server.url + "/v1",
        options={"model": "qwen-plus", "languages": ["en", "es", "zh"]},  # (not German: Apertium, pivot or none)
        priority=10,
    )
    glossary_import_csv(user=world.admin, content=GLOSSARY)
    for src, dst in (("¿Dónde está mi pedido ⟦0⟧?", "Where is my order ⟦0⟧?"), ("Hola.", "Hello.")):
        memory.remember(organization_id=world.org.pk, source="es", target="en", masked_source=src, masked_target=dst)
        memory.remember(organization_id=world.org.pk, source="es", target="zh", masked_source=src, masked_target="ZH")


def _outcome(ids: list[int]) -> list[dict[str, Any]]:
    out = []
    for pk in ids:
        message = Message.objects.get(pk=pk)
        ticket = Ticket.objects.select_related("customer").get(pk=message.ticket_id)
        state = dict(MessageTranslationState.objects.filter(message_id=pk).values().first() or {})
        for name in ("id", "updated_at", "next_attempt_at"):
            state.pop(name, None)
        out.append(
            {
                "language": message.language,
                "translations": {k: {f: v for f, v in t.items() if f != "at"} for k, t in message.translations.items()},
                "state": state,
                "ticket": (ticket.language, ticket.customer.preferred_language),
                "events": list(TicketEvent.objects.filter(ticket=ticket).order_by("id").values_list("type", "payload")),
                "search": TicketSearch.objects.filter(ticket=ticket).values_list("document", flat=True).first(),
            }
        )
    return out


def test_a_batch_gives_each_message_what_it_gets_alone(world, protocol_server, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    server = protocol_server(fake_llm("ZH:"))
    _world_with_everything(world, server)
    ids = _ingest(world, "parity", BODIES, django_capture_on_commit_callbacks)
    first = Message.objects.get(pk=ids[1])  # (a newer message on its ticket: the older one does not set its language)
    ids.append(Message.objects.create(ticket_id=first.ticket_id, store=first.store, body=" ", direction="inbound").pk)
    with transaction.atomic():
        for pk in ids:
            message_translate(message_id=pk)
        alone = _outcome(ids)
        uses = dict(MemorySegment.objects.values_list("pk", "use_count"))
        calls = len(server.requests)
        transaction.set_rollback(True)
    assert not MessageTranslationState.objects.filter(message_id__in=ids).exists()
    states = inbound.messages_translate(message_ids=ids)
    assert list(states) == ids
    together = _outcome(ids)
    assert together == alone
    assert dict(MemorySegment.objects.values_list("pk", "use_count")) == uses
    assert len(server.requests) - calls == calls  # the same provider calls
    statuses = [o["state"]["status"] for o in together]
    assert TranslationStatus.SKIPPED in statuses and TranslationStatus.DONE in statuses
    by_body = dict(zip(BODIES, together[:-1], strict=True))
    assert by_body[BODIES[3]]["translations"]["en"]["provider"] == "memory"
    assert by_body[BODIES[4]]["translations"]["en"]["tm_applied"] is True
    assert "充电宝" in by_body[BODIES[5]]["translations"]["zh-hans"]["text"]
    assert by_body[BODIES[7]]["ticket"][0] == "zh" and by_body[BODIES[7]]["events"][-1][0] == "language_detected"
    # a short message falls back to the language its customer's earlier message gave them
    assert by_body[BODIES[6]]["state"]["detection_source"] == "customer" and by_body[BODIES[6]]["language"] == "es"


def test_a_failing_provider_leaves_the_messages_pending_as_alone(world, protocol_server):  # type: ignore[no-untyped-def]
    world.agent.language = "zh-hans"
    world.agent.save()
    down = protocol_server(lambda r: (503, {"error": {"message": "overloaded"}}))
    provider_config_save(
        user=world.admin,
        name="qwen",
        kind="openai",
        base_url=down.url + "/v1",
        options={"model": "m", "languages": ["es", "zh"]},
    )
    ids = [
        world.ticket().messages.create(store=world.store_us, body=body, direction="inbound").pk for body in BODIES[2:4]
    ]
    states = inbound.messages_translate(message_ids=ids)
    assert [s.status for s in states.values()] == [TranslationStatus.PENDING] * 2
    first, second = states.values()
    assert "overloaded" in first.last_error and "skipped (failed recently)" in second.last_error
    assert first.next_attempt_at is not None and second.next_attempt_at is not None
    assert len(down.requests) == 1  # marked down: the second message skips it, as it would alone


def test_statements_do_not_grow_with_the_batch(world, protocol_server, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    _world_with_everything(world, protocol_server(fake_llm("ZH:")))
    small = _ingest(world, "small", BODIES[:3], django_capture_on_commit_callbacks)
    large = _ingest(world, "large", BODIES[:3] * 4, django_capture_on_commit_callbacks)
    inbound.messages_translate(message_ids=_ingest(world, "warm", BODIES[:1], django_capture_on_commit_callbacks))
    with CaptureQueriesContext(connection) as one:
        inbound.messages_translate(message_ids=small)
    with CaptureQueriesContext(connection) as many:
        inbound.messages_translate(message_ids=large)
    assert len(many.captured_queries) == len(one.captured_queries)


def test_a_redelivered_task_translates_nothing_again(world, protocol_server, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    server = protocol_server(fake_llm("ZH:"))
    _world_with_everything(world, server)
    ids = _ingest(world, "again", BODIES[:3], django_capture_on_commit_callbacks)
    jobs = [("aftersales.language.tasks.translate_inbound_message", (pk,)) for pk in ids]
    tasks.run_jobs.call_local(jobs)
    first, calls = _outcome(ids), len(server.requests)
    assert calls and all(o["state"]["attempts"] == 1 for o in first)
    tasks.run_jobs.call_local(jobs)  # (a redelivered fan-out task)
    tasks._task(jobs[0][0]).call_local(ids[0])  # (and a job run alone)
    assert len(server.requests) == calls  # no provider called again
    assert _outcome(ids) == first
