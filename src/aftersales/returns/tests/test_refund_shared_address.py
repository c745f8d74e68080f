"""Abnormal refunds: several customer accounts to one shipping address (returns.review
`shared_address`). Orders are stored through the sync engine's apply path with a structured
ShipAddress; only its keyed fingerprint is kept (catalog.addresses)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from aftersales.api.tests.helpers import ApiClient
from aftersales.catalog.models import Order
from aftersales.channels.apply import apply_record
from aftersales.channels.base import Buyer, OrderLineRecord, OrderRecord, ShipAddress
from aftersales.core.clock import now
from aftersales.returns.models import RefundReviewSettings, RefundStatus
from aftersales.returns.refunds import refund_request

pytestmark = pytest.mark.django_db

HOME = ShipAddress(country="US", postal_code="94103", lines=("1 Market St.", "Apt 4"), city="San Francisco")
SAME_HOME_WRITTEN_DIFFERENTLY = ShipAddress(country="us", postal_code="94103 ", lines=("1 MARKET ST APT 4",))
ELSEWHERE = ShipAddress(country="US", postal_code="10001", lines=("350 5th Ave",))


def ingest(store, number: str, buyer: str, address: ShipAddress | None, *, days_ago: int = 1) -> Order:  # type: ignore[no-untyped-def]
    placed = now() - timedelta(days=days_ago)
    apply_record(
        store,
        OrderRecord(
            external_id=number,
            placed_at=placed,
            updated_at=placed,
            status="delivered",
            total=Decimal("55.00"),
            currency="USD",
            buyer=Buyer(external_id=buyer, name=buyer.title(), email=f"{buyer}@example.net"),
            ship_country="US",
            lines=[OrderLineRecord(f"{number}-1", "SKU-1", 1, Decimal("50.00"), "USD")],
            ship_address=address,
        ),
    )
    return Order.objects.get(store=store, external_id=number)


def refund(world, order):  # type: ignore[no-untyped-def]
    return refund_request(user=world.admin, order_id=order.pk, kind="shipping", currency="USD", amount="1.00")


def test_the_order_stores_a_keyed_fingerprint_not_the_address(world):
    order = ingest(world.store_us, "A-1", "ann", HOME)
    assert order.ship_address_key and len(order.ship_address_key) == 64
    assert "94103" not in order.ship_address_key
    assert (
        ingest(world.store_us, "A-2", "ann", SAME_HOME_WRITTEN_DIFFERENTLY).ship_address_key == order.ship_address_key
    )


def test_a_later_pull_without_the_address_keeps_the_key(world):
    key = ingest(world.store_us, "A-1", "ann", HOME).ship_address_key
    assert ingest(world.store_us, "A-1", "ann", None).ship_address_key == key  # e.g. Amazon without an RDT
    assert ingest(world.store_us, "A-3", "ann", None).ship_address_key is None


def test_two_accounts_to_one_address_go_to_review_naming_the_other_account(world):
    ingest(world.store_us, "A-1", "ann", HOME)
    ingest(world.store_de, "B-1", "bob", ELSEWHERE)
    order = ingest(world.store_us, "C-1", "cid", SAME_HOME_WRITTEN_DIFFERENTLY)
    made = refund(world, order)
    assert made.status == RefundStatus.IN_REVIEW
    (reason,) = made.review_reasons
    assert reason["code"] == "shared_address"
    assert [a["email"] for a in reason["accounts"]] == ["ann@example.net"]
    assert "Ann <ann@example.net>" in reason["message"] and "180 days" in reason["message"]


def test_another_store_of_the_organization_counts(world):
    ingest(world.store_de, "A-1", "ann", HOME)
    assert refund(world, ingest(world.store_us, "C-1", "cid", HOME)).review_reasons[0]["code"] == "shared_address"


@pytest.mark.parametrize(
    "case",
    ["same_customer", "other_address", "no_address", "other_organization", "outside_window", "check_off"],
)
def test_no_shared_address_reason(world, case):
    store, number, buyer, address, days = world.store_us, "A-1", "ann", HOME, 1
    if case == "same_customer":
        buyer = "cid"
    elif case == "other_address":
        address = ELSEWHERE
    elif case == "other_organization":
        store = world.foreign_store
    elif case == "outside_window":
        days = 181
    elif case == "check_off":
        RefundReviewSettings.objects.create(organization=world.org, shared_address_window_days=0)
    ingest(store, number, buyer, address, days_ago=days)
    order = ingest(world.store_us, "C-1", "cid", None if case == "no_address" else HOME)
    made = refund(world, order)
    assert made.status == RefundStatus.APPROVED and made.review_reasons == []


def test_the_window_is_the_organizations(world):
    ingest(world.store_us, "A-1", "ann", HOME, days_ago=200)
    order = ingest(world.store_us, "C-1", "cid", HOME)
    assert refund(world, order).status == RefundStatus.APPROVED
    RefundReviewSettings.objects.create(organization=world.org, shared_address_window_days=365)
    made = refund(world, order)
    assert made.status == RefundStatus.IN_REVIEW and "365 days" in made.review_reasons[0]["message"]


def test_an_order_without_a_customer_needs_two_other_accounts(world):
    ingest(world.store_us, "A-1", "ann", HOME)
    order = ingest(world.store_us, "C-1", "cid", HOME)
    Order.objects.filter(pk=order.pk).update(customer=None)
    order.refresh_from_db()
    assert refund(world, order).status == RefundStatus.APPROVED  # one account: no one shares it
    ingest(world.store_us, "B-1", "bob", HOME)
    made = refund(world, order)
    assert made.status == RefundStatus.IN_REVIEW
    assert sorted(a["email"] for a in made.review_reasons[0]["accounts"]) == ["ann@example.net", "bob@example.net"]


def test_queue_and_api_list_the_reason_with_the_accounts(world, client):
    ann = ingest(world.store_us, "A-1", "ann", HOME).customer
    made = refund(world, ingest(world.store_us, "C-1", "cid", HOME))
    queue = ApiClient(user=world.admin).request("GET", "/refunds/review-queue").json()
    (row,) = [r for r in queue if r["id"] == made.pk]
    (reason,) = row["review_reasons"]
    assert reason["code"] == "shared_address"
    assert reason["accounts"] == [{"id": ann.pk, "name": "Ann", "email": "ann@example.net"}]
    client.force_login(world.admin)
    page = client.get("/returns/review/")
    assert page.status_code == 200 and "Ann &lt;ann@example.net&gt;" in page.content.decode()


def test_review_settings_window_by_api(world):
    admin = ApiClient(user=world.admin)
    assert admin.request("GET", "/refunds/review-settings").json()["shared_address_window_days"] == 180
    body = {"repeat_window_days": 90, "repeat_threshold": 3, "high_value_requires_evidence": True}
    bad = admin.request("PUT", "/refunds/review-settings", {**body, "shared_address_window_days": -1})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "shared_address_window_days"
    assert not RefundReviewSettings.objects.filter(organization=world.org).exists()
    saved = admin.request("PUT", "/refunds/review-settings", {**body, "shared_address_window_days": 30})
    assert saved.status_code == 200 and saved.json()["shared_address_window_days"] == 30
    kept = admin.request("PUT", "/refunds/review-settings", body)  # not given: unchanged
    assert kept.json()["shared_address_window_days"] == 30
