"""The demo's fake marketplaces end to end: the fakes of `manage.py fakes` (on random ports here),
the demo stores `demo --fakes` creates against them, every pulled stream synced into tickets,
orders and returns, tracking numbers registered with the fake 17TRACK, and an agent's reply on an
eBay ticket delivered by the worker (Huey immediate) to the fake eBay's send_message."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_plus

import pytest

from aftersales.catalog.models import Order, Shipment, Store
from aftersales.channels.connectors.amazon import client as amazon_client
from aftersales.channels.connectors.shopify.client import reset_throttle_state
from aftersales.channels.models import MarketplaceApp, RawEvent
from aftersales.channels.status import pull_streams
from aftersales.channels.sync import sync_stream
from aftersales.demo.fakes import DEMO_STORES, EBAY_SELLER, PLATFORMS, DemoFakes, store_credentials
from aftersales.demo.stores import (
    demo_store_credentials,
    demo_stores_authorize,
    demo_stores_connect,
    demo_stores_disconnect,
)
from aftersales.demo.texts import LANGUAGES, corpus
from aftersales.inbox.models import Message, Ticket
from aftersales.returns.models import ReturnRequest
from aftersales.tracking.models import ShipmentTracking, TrackingAccount
from aftersales.tracking.services import shipments_register, tracking_poll

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> Iterator[DemoFakes]:
    monkeypatch.setattr("aftersales.channels.http.wait_seconds", lambda seconds: None)
    monkeypatch.setattr("aftersales.channels.sync.wait_seconds", lambda seconds: None)
    amazon_client._TOKENS.clear()
    reset_throttle_state()
    demo = DemoFakes()
    demo.seed()
    demo.start(0)  # random free ports (`manage.py fakes` uses fixed ones)
    try:
        yield demo
    finally:
        demo.stop()
        amazon_client._TOKENS.clear()
        reset_throttle_state()


def sync_everything(stores: list[Store]) -> dict[str, list[Any]]:
    runs: dict[str, list[Any]] = {}
    for store in stores:
        runs[store.name] = [sync_stream(store_id=store.pk, stream=stream) for stream in pull_streams(store)]
    return runs


def totals(store: Store) -> tuple[int, int, int, int]:
    return (
        Ticket.objects.filter(store=store).count(),
        Message.objects.filter(store=store).count(),
        Order.objects.filter(store=store).count(),
        ReturnRequest.objects.filter(store=store).count(),
    )


def test_the_demo_stores_sync_from_the_fakes_and_a_reply_reaches_ebay(
    world: Any, fakes: DemoFakes, django_capture_on_commit_callbacks: Any
) -> None:
    stores = demo_stores_connect(organization=world.org, urls=fakes.urls)
    assert [s.name for s in stores] == [
        "eBay DE (demo)",
        "Shopify (demo)",
        "Amazon US (demo)",
        "Shopee SG (demo)",
        "TikTok Shop US (demo)",
        "AliExpress (demo)",
        "Wish (demo)",
    ]
    ebay, shopify, amazon, shopee, tiktok, aliexpress, wish = stores
    assert ebay.endpoint_url == fakes.ebay.url and amazon.endpoint_url == fakes.amazon.url
    # The organization's marketplace apps hold the app keys (typed once); the stores hold neither
    # app keys nor tokens until connected through each platform's consent flow against its fake.
    apps = {a.platform: a for a in MarketplaceApp.objects.filter(organization=world.org)}
    assert sorted(apps) == ["aliexpress", "amazon", "ebay", "shopee", "shopify", "tiktok", "wish"]
    assert apps["ebay"].credentials["client_secret"] == fakes.ebay.client_secret
    assert Store.objects.get(pk=ebay.pk).credentials == demo_store_credentials("ebay")
    assert "refresh_token" not in Store.objects.get(pk=ebay.pk).credentials
    assert Store.objects.get(pk=amazon.pk).credentials == {}
    lines = demo_stores_authorize(organization=world.org, fakes=fakes)
    assert len(lines) == 7 and all("connected through its marketplace app" in line for line in lines), lines
    for store in stores:
        saved = Store.objects.get(pk=store.pk).credentials
        assert saved.get("refresh_token") or saved.get("access_token"), store.name  # from the consent flow
        assert not set(saved) & set(apps[store.platform].credentials), store.name  # no app key copied
    # credentials are stored encrypted, like any store's
    assert fakes.ebay.client_secret.encode() not in _raw_credentials(ebay)

    runs = sync_everything(stores)
    for name, store_runs in runs.items():
        assert [r.status for r in store_runs] == ["succeeded"] * len(store_runs), (name, store_runs)
    assert not RawEvent.objects.filter(store__in=stores, status="quarantined").exists()

    ebay_tickets, ebay_messages, ebay_orders, ebay_returns = totals(ebay)
    assert ebay_orders == 14
    assert ebay_returns == 4 + 2  # four returns, an inquiry and a case
    assert ebay_tickets >= 7 and ebay_messages >= 7
    bodies = list(Message.objects.filter(store=ebay).values_list("body", flat=True))
    written_in = {lang for lang in LANGUAGES if any(g in b for b in bodies for g in corpus(lang).greetings)}
    assert len(written_in) >= 4, written_in  # buyers write in their own languages
    deadlines = ReturnRequest.objects.filter(store=ebay).exclude(respond_by=None).count()
    assert deadlines == ebay_returns
    assert totals(shopify)[2:] == (8, 3)
    assert totals(amazon)[2:] == (8, 3)
    assert Shipment.objects.filter(order__store=shopify).count() == 8
    assert Shipment.objects.filter(order__store=amazon).count() == 8
    # Shopee: ten orders, five chat messages from three buyers (one thread each), three returns with
    # the seller's due date (one from a buyer who never wrote: a fourth ticket); the rotated refresh
    # token is saved (encrypted)
    assert totals(shopee) == (3 + 1, 5 + 3, 10, 3)
    assert ReturnRequest.objects.filter(store=shopee).exclude(respond_by=None).count() == 3
    assert Store.objects.get(pk=shopee.pk).credentials["refresh_token"] != store_credentials("shopee")["refresh_token"]
    assert fakes.shopee.refresh_token_valid(Store.objects.get(pk=shopee.pk).credentials["refresh_token"])
    # TikTok Shop: eight orders, three buyers' chats (an order card and a question each time: four
    # chats), three returns and a cancellation request, each with TikTok's response deadline (a buyer
    # who never wrote: a fourth ticket)
    assert totals(tiktok) == (3 + 1, 8 + 4, 8, 4)
    assert ReturnRequest.objects.filter(store=tiktok).exclude(respond_by=None).count() == 4
    # AliExpress: eight orders, four buyers' messages (one channel each), three issues (a return and
    # two refund requests)
    assert totals(aliexpress)[2:] == (8, 3)
    assert Message.objects.filter(store=aliexpress, external_id__startswith="aliexpress:").count() == 4
    assert ReturnRequest.objects.filter(store=aliexpress, kind="return").count() == 1
    # Wish: six orders, three buyers' tickets (one escalated to Wish support: a case)
    assert totals(wish)[2:] == (6, 1)
    assert Message.objects.filter(store=wish, external_id__startswith="wish:").count() == 3

    # the tracking account registers the synced shipments with the fake 17TRACK and polls them
    account = TrackingAccount.objects.get(organization=world.org)
    assert account.endpoint_url == fakes.track.url
    shipments_register(account_id=account.pk)
    tracking_poll(account_id=account.pk)
    assert len(fakes.track.parcels) == 16
    polled = ShipmentTracking.objects.filter(account=account).exclude(last_event_at=None)
    assert polled.count() == 16

    # an agent's reply on an eBay ticket is delivered by the worker to eBay's send_message
    ticket = Ticket.objects.filter(store=ebay).order_by("pk").first()
    assert ticket is not None
    from aftersales.inbox.services.tickets import ticket_reply

    with django_capture_on_commit_callbacks(execute=True):
        reply = ticket_reply(ticket=ticket, author=world.admin, body="Vielen Dank, wir kümmern uns darum.")
    [sent] = fakes.ebay.requests_to("/commerce/message/v1/send_message", "POST")
    conversation_id = sent.json()["conversationId"]
    assert sent.json() == {"messageText": "Vielen Dank, wir kümmern uns darum.", "conversationId": conversation_id}
    assert sent.headers["authorization"].startswith("Bearer ")
    assert sent.headers["content-type"].startswith("application/json")
    assert fakes.ebay.conversations[conversation_id]["messages"][-1]["senderUsername"] == EBAY_SELLER
    reply.refresh_from_db()
    assert reply.external_id.startswith("M-")

    # ... and on a Shopee ticket to Shopee's sellerchat send_message, to the buyer's user id
    shopee_ticket = Ticket.objects.filter(store=shopee).order_by("pk").first()
    assert shopee_ticket is not None
    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(ticket=shopee_ticket, author=world.admin, body="Thanks, a replacement is on its way.")
    [chat] = fakes.shopee.requests_to("/api/v2/sellerchat/send_message", "POST")
    assert chat.json()["content"] == {"text": "Thanks, a replacement is on its way."}
    assert chat.json()["to_id"] == int(shopee_ticket.customer.identities.get(store=shopee).external_id)

    # ... and on a TikTok Shop ticket to the conversation's customer-service send message
    tiktok_ticket = Ticket.objects.filter(store=tiktok, messages__external_id__startswith="tiktok:").first()
    assert tiktok_ticket is not None
    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(ticket=tiktok_ticket, author=world.admin, body="Thanks, it ships today.")
    [sent_tiktok] = fakes.tiktok.requests_to(r"/customer_service/202309/conversations/\d+/messages", "POST")
    assert sent_tiktok.json() == {"type": "TEXT", "content": '{"content": "Thanks, it ships today."}'}

    # ... and on an AliExpress ticket to the message centre's sendmsg, on the buyer's channel
    ali_ticket = Ticket.objects.filter(store=aliexpress, messages__external_id__startswith="aliexpress:").first()
    assert ali_ticket is not None
    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(ticket=ali_ticket, author=world.admin, body="Thanks, we are checking it.")
    [sent_ali] = [r for r in fakes.aliexpress.requests_to("/sync") if b"sendmsg" in r.body]
    assert '"content":"Thanks, we are checking it."' in unquote_plus(sent_ali.body.decode())
    assert f'"channel_id":"{ali_ticket.conversation_id}"' in unquote_plus(sent_ali.body.decode())

    # a signed write-back (EU seller) with the demo's signing key: the fake verifies the signature
    from aftersales.channels.base import ReturnDecision, ReturnDecisionKind, ReturnKind
    from aftersales.channels.connectors.ebay.connector import EbayConnector
    from aftersales.channels.context import store_context

    return_id = next(iter(fakes.ebay.returns))
    EbayConnector().decide_return(
        store_context(Store.objects.get(pk=ebay.pk)),
        ReturnDecision(return_external_id=return_id, kind=ReturnKind.RETURN, decision=ReturnDecisionKind.APPROVE),
    )
    [decided] = fakes.ebay.requests_to(rf"/post-order/v2/return/{return_id}/decide", "POST")
    assert "signature" in decided.headers and decided.json()["decision"] == "APPROVE"
    assert fakes.ebay.returns[return_id]["state"] == "READY_FOR_SHIPPING"

    # a sync again duplicates nothing; the fakes' new activity (a new message, the buyer's thanks
    # for the reply, a return) arrives with the next one
    before = {store.pk: totals(store) for store in stores}
    sync_everything(stores)
    assert {store.pk: totals(store) for store in stores} == before  # our reply, listed by eBay now, is known
    fakes.tick()
    fakes.tick()
    runs2 = sync_everything(stores)
    after = totals(ebay)
    # two new conversations (a buyer with an open ticket is threaded into it), the buyer's thanks
    # and the new return's comment
    assert after[1] == before[ebay.pk][1] + 2 + 1 + 1
    assert after[0] >= before[ebay.pk][0]
    assert [r.created for r in runs2[ebay.name]] == [2, 3, 1]  # orders, messages, returns
    assert after[3] == before[ebay.pk][3] + 1
    assert ticket.messages.order_by("pk").last().direction == "inbound"  # type: ignore[union-attr]

    # with the fakes off, the demo stores are deactivated (nothing listens on their ports)
    assert demo_stores_disconnect(organization=world.org) == 7
    assert not Store.objects.filter(organization=world.org, name__in=[s.name for s in DEMO_STORES], is_active=True)


def test_connecting_again_moves_the_stores_to_the_new_ports(world: Any) -> None:
    first = demo_stores_connect(
        organization=world.org,
        urls={k: f"http://127.0.0.1:{9000 + i}" for i, k in enumerate(PLATFORMS)},
    )
    again = demo_stores_connect(
        organization=world.org,
        urls={k: f"http://127.0.0.1:{9100 + i}" for i, k in enumerate(PLATFORMS)},
    )
    assert [s.pk for s in first] == [s.pk for s in again]
    assert Store.objects.get(pk=first[0].pk).endpoint_url == "http://127.0.0.1:9100"
    assert TrackingAccount.objects.get(organization=world.org).endpoint_url == "http://127.0.0.1:9103"


def _raw_credentials(store: Store) -> bytes:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM catalog_store WHERE id = %s", [store.pk])
        value = cursor.fetchone()[0]
    return value.encode() if isinstance(value, str) else bytes(value)


def test_the_demo_command_connects_and_disconnects_the_demo_stores(db: Any) -> None:
    from django.core.management import call_command

    call_command("demo", tickets=0, fakes=True, fakes_port_base=8801, stdout=io.StringIO())
    stores = Store.objects.filter(name__in=[s.name for s in DEMO_STORES], is_active=True).order_by("pk")
    assert [(s.name, s.endpoint_url) for s in stores] == [
        ("eBay DE (demo)", "http://127.0.0.1:8801"),
        ("Shopify (demo)", "http://127.0.0.1:8802"),
        ("Amazon US (demo)", "http://127.0.0.1:8803"),
        ("Shopee SG (demo)", "http://127.0.0.1:8805"),
        ("TikTok Shop US (demo)", "http://127.0.0.1:8806"),
        ("AliExpress (demo)", "http://127.0.0.1:8807"),
        ("Wish (demo)", "http://127.0.0.1:8808"),
    ]
    account = TrackingAccount.objects.get(organization=stores[0].organization)
    assert (account.endpoint_url, account.api_key_set, account.is_active) == ("http://127.0.0.1:8804", True, True)
    out = io.StringIO()
    call_command("demo", if_empty=True, fakes=False, stdout=out)  # `make run DEMO_FAKES=0`
    assert "7 demo store(s) of the fake marketplaces deactivated" in out.getvalue()
    assert not Store.objects.filter(name__in=[s.name for s in DEMO_STORES], is_active=True).exists()
    assert not TrackingAccount.objects.get(pk=account.pk).is_active


def test_the_fakes_never_listen_beyond_loopback() -> None:
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match=r"127\.0\.0\.1 only"):
        call_command("fakes", host="0.0.0.0")  # noqa: S104 (the refused value)


def test_the_demo_shopee_honours_the_tokens_of_an_earlier_run() -> None:
    """`make run` restarts the fakes, not the database: the demo store's rotated refresh token (and
    a live access token) from the previous run are still good; a forged one is not."""
    from aftersales.demo.fakes import DemoShopee

    before, after = DemoShopee(), DemoShopee()
    rotated, access = before._new_refresh(), before.new_access_token()
    assert after.refresh_token_valid(rotated) and after.refresh_token_valid(DemoShopee.initial_refresh_token())
    assert (after.access_token_expiry(access) or 0) > 0
    assert not after.refresh_token_valid("rt-forged-0000") and after.access_token_expiry("at-1-x") is None
