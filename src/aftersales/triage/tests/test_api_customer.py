"""POST /api/v1/triage/classify with the customer: the VIP rule applies to a batch as to a stored
message (one code path: services.classify_in_organization); an unknown or foreign customer is a 422
naming the field, nothing written."""

from __future__ import annotations

import pytest

from aftersales.api.tests.helpers import ApiClient
from aftersales.catalog.models import CustomerTier
from aftersales.inbox.services import InboundMessage, message_ingest
from aftersales.testing.factories import CustomerFactory, OrganizationFactory, make_identity
from aftersales.triage.models import ClassificationRequest, TriageResult

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("triage_model")]

BODIES = [
    "My parcel says delivered but it is not here, order 112-3344556-7788990",
    "Das Display meines Handys ist kaputt angekommen, der Bildschirm ist gesprungen.",
    "Thanks a lot, the replacement works perfectly!",
]
FIELDS = ("intent", "confidence", "urgency", "sentiment", "needs_human", "reasons", "language", "model_version")


def _stored(world, customer, body, n, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        result = message_ingest(
            inbound=InboundMessage(
                store=world.store_us,
                external_id=f"parity-{customer.pk}-{n}",
                body=body,
                customer_external_id=f"BUYER{customer.pk}",
            )
        )
    return TriageResult.objects.get(message=result.message)


@pytest.mark.parametrize("tier", [CustomerTier.VIP, CustomerTier.REGULAR])
def test_a_batch_with_the_customer_equals_the_stored_message(  # type: ignore[no-untyped-def]
    world, tier, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(organization=world.org, tier=tier)
    make_identity(customer, world.store_us, f"BUYER{customer.pk}")
    stored = [_stored(world, customer, body, n, django_capture_on_commit_callbacks) for n, body in enumerate(BODIES)]
    assert all(row.message.ticket.customer_tier == tier for row in stored)
    pairs = list(zip(BODIES, stored, strict=True))
    texts = [{"text": body, "language": row.language, "customer_id": customer.pk} for body, row in pairs]
    response = ApiClient(user=world.agent).post("/triage/classify", {"texts": texts})
    assert response.status_code == 200, response.content
    for row, result in zip(stored, response.json()["results"], strict=True):
        assert {f: result[f] for f in FIELDS} == {
            f: (list(v) if isinstance(v := getattr(row, f), tuple) else v) for f in FIELDS
        }
    # the tier alone gives the same answers
    by_tier = [{"text": body, "language": row.language, "customer_tier": tier.value} for body, row in pairs]
    response = ApiClient(user=world.agent).post("/triage/classify", {"texts": by_tier})
    assert [r["urgency"] for r in response.json()["results"]] == [row.urgency for row in stored]


def test_a_vip_problem_is_one_level_more_urgent_but_not_their_thanks(world):  # type: ignore[no-untyped-def]
    texts = [{"text": body, "language": "en" if i != 1 else "de"} for i, body in enumerate(BODIES)]
    plain = ApiClient(user=world.agent).post("/triage/classify", {"texts": texts}).json()["results"]
    vip = (
        ApiClient(user=world.agent)
        .post("/triage/classify", {"texts": [{**t, "customer_tier": "vip"} for t in texts]})
        .json()["results"]
    )
    up = {"low": "medium", "medium": "high", "high": "high"}
    assert [r["urgency"] for r in vip[:2]] == [up[r["urgency"]] for r in plain[:2]]
    assert vip[2]["intent"] == "praise_thanks" and vip[2]["urgency"] == plain[2]["urgency"]
    single = ApiClient(user=world.agent).post("/triage/classify", {**texts[0], "customer_tier": "vip"})
    assert single.json()["results"][0]["urgency"] == vip[0]["urgency"]


def test_customer_errors_name_the_field(world):  # type: ignore[no-untyped-def]
    other = CustomerFactory(organization=OrganizationFactory(), tier=CustomerTier.VIP)
    mine = CustomerFactory(organization=world.org, tier=CustomerTier.VIP)
    cases = [
        ({"text": "hello", "customer_id": other.pk}, "customer_id"),  # another organization's: unknown
        ({"texts": [{"text": "a"}, {"text": "b", "customer_id": 99999999}]}, "texts[1].customer_id"),
        ({"texts": [{"text": "a", "customer_tier": "gold"}]}, "customer_tier"),
        ({"text": "hello", "customer_id": mine.pk, "customer_tier": "vip"}, "customer_tier"),
        ({"texts": [{"text": "a"}], "customer_id": mine.pk}, "customer_id"),
    ]
    for body, field in cases:
        response = ApiClient(user=world.agent).post("/triage/classify", body)
        assert response.status_code == 422, (body, response.content)
        error = response.json()["error"]
        assert field in (error["field"] or "") or field in error["message"], (body, error)
    assert not ClassificationRequest.objects.exists()  # nothing half-written
