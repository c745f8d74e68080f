"""eBay's MARKETPLACE_ACCOUNT_DELETION (issue 9: eBay account-deletion erasure): the signed push
names a user (username, user id); what every store of this eBay application holds about that buyer
is erased (channels/erasure.py): identities, the conversation's text and attachments (files too),
the buyer's comment on marketplace requests, the raw copies of received records; a customer known
nowhere else is anonymised, one known elsewhere keeps that and loses the eBay records' link. Other
applications' stores and other buyers are untouched; a redelivery is a duplicate; a second erasure
finds nothing. Through the real webhook endpoint, on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.files.storage import default_storage

from aftersales.catalog.models import Customer, CustomerIdentity, Order
from aftersales.channels.base import Stream
from aftersales.channels.connectors.ebay.fake import EbayFake, iso
from aftersales.channels.erasure import ERASED_TEXT, buyer_erase, covered_stores
from aftersales.channels.models import RawEvent
from aftersales.channels.sync import store_sync_for, sync_stream
from aftersales.core.actors import Actor
from aftersales.inbox.models import Attachment, Message, Ticket, TicketSearch
from aftersales.returns.models import ReturnRequest
from aftersales.testing.factories import OrderFactory, OrganizationFactory, StoreFactory

from .test_acceptance import load

pytestmark = pytest.mark.django_db

BUYER = "test_user"  # the username in the published sample (platform-specs/ebay/message.json)


def _picture() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 200, 10)).save(out, format="PNG")
    return out.getvalue()


def _conversation(fake: EbayFake, *, buyer: str, conversation_id: str, text: str) -> None:
    conversation = load("conversation.json")
    messages = conversation.pop("messages")
    conversation["conversationId"] = conversation_id
    when = datetime.now(UTC) - timedelta(minutes=30)
    for i, message in enumerate(messages):
        message["messageId"] = f"{conversation_id}-M{i}"
        message["createdDate"] = iso(when + timedelta(minutes=i))
        for key in ("senderUsername", "recipientUsername"):
            if message[key] == "buyer_anna":
                message[key] = buyer
    messages[0]["messageBody"] = text
    messages[0]["messageMedia"] = [
        {
            "mediaName": "broken.png",
            "mediaType": "IMAGE",
            "mediaUrl": fake.add_media(f"{conversation_id}.png", _picture()),
        }
    ]
    fake.add_conversation(conversation, messages)


def _ebay_store(fake: EbayFake, organization: Any = None, **credentials: Any) -> Any:
    return StoreFactory(
        **({"organization": organization} if organization else {}),
        platform="ebay",
        site="ebay.de",
        currency="EUR",
        external_id=fake.seller,
        endpoint_url=fake.url,
        credentials=fake.credentials(**credentials),
    )


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("aftersales.channels.http.wait_seconds", lambda s: None)
    monkeypatch.setattr("aftersales.channels.sync.wait_seconds", lambda s: None)


@pytest.fixture
def setup(fake: EbayFake, slept: None) -> dict[str, Any]:
    _conversation(fake, buyer=BUYER, conversation_id="C-1", text="Mein Name ist Tess User, Handy kaputt.")
    _conversation(fake, buyer="other_buyer", conversation_id="C-2", text="Wo ist mein Paket? Grüße, Olga")
    ours = _ebay_store(fake)
    same_app = _ebay_store(fake, organization=OrganizationFactory())  # another seller, same eBay app keys
    for store in (ours, same_app):
        assert sync_stream(store_id=store.pk, stream=Stream.MESSAGES).created == 4
    other_app = _ebay_store(fake, organization=OrganizationFactory(), client_id="another-application")
    stranger = Customer.objects.create(organization=other_app.organization, name="Tess User", email="t@example.com")
    CustomerIdentity.objects.create(customer=stranger, store=other_app, external_id=BUYER)
    buyer = CustomerIdentity.objects.get(store=ours, external_id=BUYER).customer
    buyer.email = "tess@example.com"
    buyer.save()
    order = OrderFactory(store=ours, customer=buyer, external_id="12-01234-56789")
    request = ReturnRequest.objects.create(
        organization=ours.organization,
        store=ours,
        external_id="5000999",
        kind="return",
        platform_status="RETURN_REQUESTED",
        customer=buyer,
        buyer_comment="Bitte an Tess User, Musterstr. 1 erstatten",
        created_on_platform=datetime.now(UTC),
    )
    return {"ours": ours, "same_app": same_app, "other_app": other_app, "buyer": buyer, "order": order,
            "request": request, "stranger": stranger}  # fmt: skip


def _push(fake: EbayFake, store: Any, client: Any, sample: dict) -> Any:
    return fake.push(f"/hooks/ebay/{store_sync_for(store).webhook_token}", sample, client=client)


def test_the_notice_erases_the_buyer_on_every_store_of_the_application(
    fake: EbayFake, setup: dict[str, Any], client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ours, same_app, other_app = setup["ours"], setup["same_app"], setup["other_app"]
    assert covered_stores(ours) == [ours, same_app]

    def files(conversation: str) -> list[str]:
        rows = Attachment.objects.filter(
            message__store__in=[ours, same_app], message__ticket__conversation_id=conversation
        )
        return list(rows.values_list("file", flat=True))

    erased, kept = files("C-1"), files("C-2")
    assert len(erased) == 2 and len(kept) == 2 and all(default_storage.exists(n) for n in erased + kept)
    sample = load("spec/message.json")
    with django_capture_on_commit_callbacks(execute=True):
        answer = _push(fake, ours, client, sample)
    assert answer.status_code == 200 and answer.json()["actions"] == {"updated": 1}

    for store in (ours, same_app):
        assert not CustomerIdentity.objects.filter(store=store, external_id=BUYER).exists()
        ticket = Ticket.objects.get(store=store, conversation_id="C-1")
        assert {m.body for m in ticket.messages.all()} == {ERASED_TEXT}
        assert not Message.objects.filter(ticket=ticket).exclude(author_name="").filter(direction="inbound").exists()
        assert not Attachment.objects.filter(message__ticket=ticket).exists()
        assert "Tess" not in " ".join(TicketSearch.objects.get(ticket=ticket).document.split())
        # the other buyer's conversation is untouched
        other = Ticket.objects.get(store=store, conversation_id="C-2")
        assert "Olga" in other.messages.order_by("pk").first().body  # type: ignore[union-attr]
        assert other.messages.filter(attachments__isnull=False).exists()
    assert not any(default_storage.exists(name) for name in erased)
    assert all(default_storage.exists(name) for name in kept)

    buyer = Customer.objects.get(pk=setup["buyer"].pk)
    assert (buyer.name, buyer.email, buyer.email_normalized) == ("", "", "")
    setup["request"].refresh_from_db()
    assert setup["request"].buyer_comment == "" and setup["request"].platform_status == "RETURN_REQUESTED"
    assert Order.objects.get(pk=setup["order"].pk).customer_id == buyer.pk  # kept, the customer holds nothing

    # another application's store: not covered
    assert CustomerIdentity.objects.filter(store=other_app, external_id=BUYER).exists()
    assert Customer.objects.get(pk=setup["stranger"].pk).name == "Tess User"

    # raw copies naming the buyer are redacted (the notice too); other buyers' are kept
    for row in RawEvent.objects.filter(store__in=[ours, same_app]):
        text = str(row.payload)
        assert BUYER not in text and "ma8vp1jySJC" not in text and b"test_user" not in bytes(row.raw)
    assert RawEvent.objects.filter(store=ours, payload__icontains='"other_buyer"').exists()
    notice = RawEvent.objects.get(store=ours, source="webhook")
    assert notice.payload == {"erased": ERASED_TEXT} and "2 identities, 4 messages, 2 attachments" in notice.reason

    # eBay redelivers the notice: a duplicate, nothing happens again
    again = _push(fake, ours, client, sample)
    assert again.json()["actions"] == {"duplicate": 1}


def test_a_customer_known_elsewhere_keeps_that_and_loses_the_ebay_link(
    fake: EbayFake, setup: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    from aftersales.catalog.models import Platform

    ours, buyer = setup["ours"], setup["buyer"]
    amazon = StoreFactory(organization=ours.organization, platform=Platform.AMAZON)
    CustomerIdentity.objects.create(customer=buyer, store=amazon, external_id="A1B2C3AMZ")
    assert Ticket.objects.filter(store=ours, customer=buyer).exists()
    with django_capture_on_commit_callbacks(execute=True):
        result = buyer_erase(store=ours, external_ids=[BUYER, "ma8vp1jySJC"], actor=Actor.system("test"))
    assert (result.identities, result.customers_anonymised, result.customers_unlinked) == (2, 1, 1)
    buyer.refresh_from_db()
    assert buyer.name and buyer.email == "tess@example.com"  # the Amazon side of the same person stays
    assert not Ticket.objects.filter(store=ours, customer=buyer).exists()
    moved = Ticket.objects.get(store=ours, conversation_id="C-1").customer
    assert (moved.name, moved.email) == ("", "") and moved.pk != buyer.pk
    assert Order.objects.get(pk=setup["order"].pk).customer_id == moved.pk
    assert CustomerIdentity.objects.filter(customer=buyer).count() == 1

    second = buyer_erase(store=ours, external_ids=[BUYER], actor=Actor.system("test"))
    assert (second.identities, second.messages, second.tickets) == (0, 0, 0)


def test_a_notice_naming_nobody_is_quarantined(fake: EbayFake, slept: None, client: Any) -> None:
    store = _ebay_store(fake)
    sample = copy.deepcopy(load("spec/message.json"))
    sample["notification"]["data"].update({"username": "", "userId": ""})
    answer = _push(fake, store, client, sample)
    assert answer.json()["actions"] == {"quarantined": 1}
    assert RawEvent.objects.get(store=store).field == "notification.data.username"
