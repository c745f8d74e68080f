"""One acceptance harness for the connector tests (issue 12): start the platform's local fake,
create a store that points at it, sync, resync and see nothing new, fix a quarantined record and
retry it, make write-backs through the ledger and assert the exact requests the fake received.

A connector's tests/conftest.py wires its fake in two lines:

    fake = fake_fixture(ShopeeFake)
    load = fixtures_loader(Path(__file__).parent / "fixtures")

and its acceptance tests call the helpers below instead of repeating them."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from aftersales.channels.base import StoreContext, Stream
from aftersales.testing.connectors import Recorder, record_waits, store_rows, sync_streams
from aftersales.testing.fake_platform import FakePlatform

FakeT = TypeVar("FakeT", bound=FakePlatform)


def fake_fixture(fake_class: type[FakeT]) -> Any:
    """A pytest fixture (`fake = fake_fixture(ShopeeFake)` in a conftest) that serves the fake on a
    local port for one test and stops it after."""

    @pytest.fixture
    def fake() -> Iterator[FakeT]:
        with fake_class().running() as server:
            assert isinstance(server, fake_class)
            yield server

    return fake


def fixtures_loader(directory: Path) -> Callable[[str], dict[str, Any]]:
    """`load("order.json")`: a fresh copy of one of the connector's recorded payloads."""

    def load(name: str) -> dict[str, Any]:
        return copy.deepcopy(json.loads((directory / name).read_text()))

    return load


def fake_context(
    recorder: Recorder, fake: Any, *, platform: str, site: str, seller_id: str, currency: str, **credentials: Any
) -> StoreContext:
    """A StoreContext on the fake (no database) with the fake's credentials (`credentials`
    overriding some): the connector's client tests call the connector through it."""
    return recorder.context(
        platform=platform,
        site=site,
        seller_id=seller_id,
        currency=currency,
        credentials=fake.credentials(**credentials),
        base_url=fake.url,
    )


def fake_store(
    fake: FakePlatform, *, platform: str, external_id: str, credentials: dict[str, Any], **fields: Any
) -> Any:
    """A store of a fresh organisation that syncs from the fake."""
    from aftersales.testing.factories import StoreFactory

    return StoreFactory(
        platform=platform, external_id=external_id, endpoint_url=fake.url, credentials=credentials, **fields
    )


def quarantine_reasons(store: Any) -> dict[str, tuple[str, str]]:
    """{event id: (field, reason)} of the store organisation's quarantined records."""
    from aftersales.channels.sync import quarantined_events

    return {e.event_id: (e.field, e.reason) for e in quarantined_events(organization_id=store.organization_id)}


def assert_resync_adds_nothing(store: Any, streams: tuple[Stream, ...] | None = None) -> None:
    """A second pass over what was already synced creates no row."""
    before = store_rows(store)
    again = sync_streams(store) if streams is None else sync_streams(store, streams)
    assert {r.created for r in again.values()} == {0}
    assert store_rows(store) == before


def retry_fixed(store: Any, event_id: str, fix: Callable[[dict[str, Any]], None]) -> None:
    """Fix a quarantined record's stored payload (as a person would), retry it: it is processed."""
    from aftersales.channels.models import RawEvent, RawEventStatus
    from aftersales.channels.sync import raw_event_retry
    from aftersales.core.actors import Actor
    from aftersales.testing.factories import UserFactory

    quarantined = RawEvent.objects.get(store=store, event_id=event_id)
    fix(quarantined.payload)
    quarantined.save(update_fields=["payload"])
    raw_event_retry(raw_event_id=quarantined.pk, actor=Actor.user(UserFactory()))
    quarantined.refresh_from_db()
    assert quarantined.status == RawEventStatus.PROCESSED


@dataclass
class WriteBacks:
    """Write-backs of one store through the ledger, by one agent: `perform` records the call under
    its key and makes it at most once (a second perform with the key answers from the ledger)."""

    store: Any
    actor: Any = None

    def __post_init__(self) -> None:
        if self.actor is None:
            from aftersales.core.actors import Actor
            from aftersales.testing.factories import UserFactory

            self.actor = Actor.user(UserFactory())

    def perform(self, kind: str, key: str, request: Any, call: Callable[[StoreContext], Any]) -> Any:
        from aftersales.channels.writeback import writeback_perform

        return writeback_perform(store=self.store, kind=kind, key=key, request=request, actor=self.actor, call=call)

    def once(self, fake: FakePlatform, path: str, method: str, kind: str, key: str, request: Any, call: Any) -> Any:
        """Perform twice under one key: the same ledger row, and the fake saw exactly one request
        to `path`, which is returned with the row."""
        row = self.perform(kind, key, request, call)
        assert self.perform(kind, key, request, call).pk == row.pk
        [sent] = fake.requests_to(path, method)
        return row, sent


def assert_text_only_replies(store: Any, message_external_id: str, notice: str) -> Any:
    """A platform whose chat takes text only: the reply box says so, a long text passes, a reply
    with a file is refused naming `attachments`. Returns the refusal (callers check its words)."""
    from aftersales.channels.sync import sync_stream
    from aftersales.core.errors import ValidationFailed
    from aftersales.inbox.models import Ticket
    from aftersales.inbox.services.common import AttachmentInput
    from aftersales.inbox.services.reply_rules import check_reply_rules, reply_rules_notice

    sync_stream(store_id=store.pk, stream=Stream.MESSAGES)
    ticket = Ticket.objects.get(store=store, messages__external_id=message_external_id)
    assert reply_rules_notice(ticket) == notice
    check_reply_rules(ticket=ticket, body="A long answer " * 200, attachments=[], types=[])  # no length cap
    with pytest.raises(ValidationFailed) as caught:
        check_reply_rules(
            ticket=ticket,
            body="Here is the label.",
            attachments=[AttachmentInput("label.pdf", b"%PDF-1.7", "application/pdf")],
            types=["application/pdf"],
        )
    assert caught.value.field == "attachments"
    return caught.value


@pytest.fixture
def recorder() -> Recorder:
    """A StoreContext recorder (imported by a connector's conftest as a fixture)."""
    return Recorder()


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retry waits recorded, not slept (imported by a connector's conftest as a fixture)."""
    return record_waits(monkeypatch)


def store_admin(store: Any) -> Any:
    """A user who may process every ticket of the store's organisation."""
    from aftersales.accounts.models import Role, RoleKind
    from aftersales.testing.factories import UserFactory
    from aftersales.testing.personas import make_roles

    role = Role.objects.filter(organization=store.organization, kind=RoleKind.ADMIN).first()
    if role is None:
        role = make_roles(store.organization)[RoleKind.ADMIN.value]
    return UserFactory(organization=store.organization, role=role)


def mark_shipped_from_ticket(
    store: Any, order_external_id: str, *, carrier: str, tracking_number: str, user: Any = None
) -> tuple[Any, Any]:
    """What the agent's "Mark shipped" does on the ticket of the order: the checks, the shipment,
    and (the commit having run) the write-back. Returns (shipment, its ShipmentSync or None)."""
    from django.test import TestCase

    from aftersales.catalog.models import Order
    from aftersales.channels.shipping import check_order_mark_shipped, order_mark_shipped, shipment_syncs
    from aftersales.core.actors import Actor
    from aftersales.inbox.models import Ticket
    from aftersales.testing.factories import TicketFactory

    order = Order.objects.get(store=store, external_id=order_external_id)
    ticket: Any = Ticket.objects.filter(order=order).first() or TicketFactory(store=store, order=order)
    user = user or store_admin(store)
    checked, carrier, number = check_order_mark_shipped(
        user=user, ticket_id=ticket.pk, carrier=carrier, tracking_number=tracking_number
    )
    with TestCase.captureOnCommitCallbacks(execute=True):  # the write-back runs on commit
        shipment = order_mark_shipped(order=checked, carrier=carrier, tracking_number=number, actor=Actor.user(user))
    return shipment, shipment_syncs([shipment]).get(shipment.pk)


def assert_chat_pictures(store: Any, fake: Any, *, attached: str, expired: str, served: bytes, name: str) -> Any:
    """A messages sync over a fake whose chat has a picture message (`attached`, served as `name`) and
    one whose link is gone (`expired`, at /file/gone.png): the first carries the picture as an
    attachment, the second keeps its link and the reason. Returns the request the file server got."""
    from aftersales.channels.sync import sync_stream
    from aftersales.inbox.models import Message

    run = sync_stream(store_id=store.pk, stream=Stream.MESSAGES)
    assert (run.status, run.quarantined) == ("succeeded", 0)
    picture = Message.objects.get(store=store, external_id=attached)
    [attachment] = picture.attachments.all()
    assert (attachment.filename, attachment.content_type, attachment.size) == ("image-1.png", "image/png", len(served))
    assert attachment.file.read() == served and picture.body == "[image]"
    gone = Message.objects.get(store=store, external_id=expired)
    assert gone.body == f"[image] {fake.url}/file/gone.png (HTTP 404)" and not gone.attachments.exists()
    [fetched] = fake.requests_to(f"/file/{name}", "GET")
    return fetched
