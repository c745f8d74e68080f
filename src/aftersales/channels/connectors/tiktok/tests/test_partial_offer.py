"""A partial refund offer on TikTok Shop (issue 12): Approve Return (return_refund 202309,
POST /return_refund/202309/returns/{return_id}/approve) with decision OFFER_PARTIAL_REFUND and
partial_refund {amount, currency}: the buyer keeps the item and, if they accept, gets that amount.
The write-back ledger sends it once with TikTok's signature and idempotency key; an amount at or above
the refund asked, another currency, or a request no longer pending are refused with the reason and
nothing is sent; TikTok's own refusal is shown. Real HTTP against the fake, SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aftersales.catalog.models import Store
from aftersales.channels.base import ReturnDecision, ReturnDecisionKind, ReturnKind
from aftersales.channels.connectors.tiktok.connector import TikTokConnector
from aftersales.channels.connectors.tiktok.fake import TikTokFake
from aftersales.channels.models import WriteBack, WriteBackStatus
from aftersales.channels.registry import get_connector
from aftersales.testing.acceptance import WriteBacks
from aftersales.testing.connectors import sync_streams

from .test_acceptance import RETURN_ID, _signed
from .test_acceptance import seeded as seeded  # a fixture
from .test_acceptance import store as store  # a fixture

APPROVE = f"/return_refund/202309/returns/{RETURN_ID}/approve"


def _offer(amount: str, currency: str = "USD") -> ReturnDecision:
    return ReturnDecision(
        RETURN_ID, ReturnKind.RETURN, ReturnDecisionKind.OFFER_PARTIAL_REFUND, amount=Decimal(amount), currency=currency
    )


def test_a_partial_refund_offer_sends_the_exact_request_once(
    store: Store, seeded: TikTokFake, waits: list[float]
) -> None:
    sync_streams(store)
    store.refresh_from_db()
    connector = get_connector("tiktok")
    assert isinstance(connector, TikTokConnector)
    perform = WriteBacks(store).perform

    def decide(key: str, decision: ReturnDecision) -> WriteBack:
        return perform("decide_return", key, decision, lambda ctx: connector.decide_return(ctx, decision))

    for key, decision, words in (
        ("too-much", _offer("29.99"), "less than the 29.99 USD asked"),
        ("other-currency", _offer("5", "EUR"), "the offer is in EUR, the request in USD"),
        ("nothing", _offer("0"), "needs an amount"),
    ):
        refused = decide(key, decision)
        assert refused.status == WriteBackStatus.FAILED and words in refused.detail, refused.detail
    assert seeded.requests_to(APPROVE) == []

    offered = decide("offer-1", _offer("7.5"))
    assert offered.status == WriteBackStatus.SUCCEEDED, offered.detail
    assert offered.detail.endswith("OFFER_PARTIAL_REFUND 7.50 USD") or "7.50" in offered.detail
    [sent] = seeded.requests_to(APPROVE, "POST")
    _signed(seeded, sent, APPROVE, store.credentials["access_token"])
    assert sent.headers["content-type"] == "application/json"
    assert sent.json() == {"decision": "OFFER_PARTIAL_REFUND", "partial_refund": {"amount": "7.50", "currency": "USD"}}
    assert len(sent.arg("idempotency_key") or "") == 32
    assert seeded.returns[RETURN_ID]["partial_refund_offer"] == {"amount": "7.50", "currency": "USD"}
    assert decide("offer-1", _offer("7.5")).pk == offered.pk and len(seeded.requests_to(APPROVE)) == 1

    seeded.returns[RETURN_ID]["return_status"] = "AWAITING_BUYER_SHIP"
    late = decide("offer-2", _offer("6"))
    assert late.status == WriteBackStatus.FAILED and "no partial refund offer on a RETURN_AND_REFUND" in late.detail
    assert len(seeded.requests_to(APPROVE)) == 1


def test_tiktoks_refusal_is_shown(store: Store, seeded: TikTokFake, waits: list[float]) -> None:
    sync_streams(store)
    connector: Any = get_connector("tiktok")
    seeded.returns[RETURN_ID]["refund_amount"]["currency"] = "GBP"  # TikTok's record moved: it refuses
    seeded.returns[RETURN_ID]["refund_amount"]["refund_total"] = "29.99"
    refused = WriteBacks(store).perform(
        "decide_return", "offer-x", _offer("5"), lambda ctx: connector.decide_return(ctx, _offer("5"))
    )
    assert refused.status == WriteBackStatus.FAILED and "the offer is in USD, the request in GBP" in refused.detail


def test_the_rmas_offer_reaches_tiktok_once(
    world: Any, seeded: TikTokFake, django_capture_on_commit_callbacks: Any
) -> None:
    """The agent's "Offer partial refund" on the RMA of a TikTok return: the RMA write-back sends the
    offer through the ledger, once, and the RMA shows it synced."""
    from aftersales.returns.models import RmaStatus
    from aftersales.returns.rma_actions import rma_offer_partial
    from aftersales.returns.tests.test_rma_writeback import marketplace_rma
    from aftersales.testing.factories import StoreFactory

    shop = StoreFactory(
        organization=world.org,
        platform="tiktok",
        site="shop.tiktok.com/us",
        currency="USD",
        external_id=seeded.shop_id,
        endpoint_url=seeded.url,
        credentials=seeded.credentials(),
    )
    rma = marketplace_rma(world, shop, RETURN_ID)
    with django_capture_on_commit_callbacks(execute=True):
        rma_offer_partial(user=world.admin, rma_id=rma.pk, amount="7.50", message="Keep it for 7.50?")
    rma.refresh_from_db()
    assert rma.status == RmaStatus.PARTIAL_OFFERED and rma.platform_sync == "synced", rma.platform_sync_detail
    [sent] = seeded.requests_to(APPROVE, "POST")
    assert sent.json() == {"decision": "OFFER_PARTIAL_REFUND", "partial_refund": {"amount": "7.50", "currency": "USD"}}
    row = WriteBack.objects.get(store=shop, kind="decide_return")
    assert row.status == WriteBackStatus.SUCCEEDED and row.idempotency_key.startswith(f"rma:{rma.pk}:decide:")
