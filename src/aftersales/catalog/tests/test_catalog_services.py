from decimal import Decimal

import pytest

from aftersales.catalog.models import Product
from aftersales.catalog.services import organization_set_value_thresholds, product_save, value_tier_for
from aftersales.core.errors import ValidationFailed
from aftersales.testing.factories import OrganizationFactory


@pytest.mark.parametrize(
    ("price", "tier"), [("0", "low"), ("49.99", "low"), ("50", "mid"), ("199.99", "mid"), ("200", "high")]
)
def test_value_tier_boundaries(price, tier):
    assert value_tier_for(Decimal(price), high_threshold=Decimal("200"), mid_threshold=Decimal("50")) == tier


def test_products_retiered_when_thresholds_change(db):
    org = OrganizationFactory()
    cheap = product_save(product=Product(organization=org, sku="A", title="cable", price_amount=Decimal("9.99")))
    phone = product_save(product=Product(organization=org, sku="B", title="phone", price_amount=Decimal("299")))
    assert (cheap.value_tier, phone.value_tier) == ("low", "high")
    changed = organization_set_value_thresholds(organization=org, high=Decimal("500"), mid=Decimal("5"))
    assert changed == 2
    cheap.refresh_from_db()
    phone.refresh_from_db()
    assert (cheap.value_tier, phone.value_tier) == ("mid", "mid")
    with pytest.raises(ValidationFailed):
        organization_set_value_thresholds(organization=org, high=Decimal("1"), mid=Decimal("5"))


def test_customer_tier_change_reaches_its_tickets(world, django_capture_on_commit_callbacks, monkeypatch):
    from aftersales.catalog.events import CustomerTierChanged
    from aftersales.catalog.services import customer_set_tier
    from aftersales.core import events
    from aftersales.core.actors import Actor
    from aftersales.inbox.models import Ticket

    ticket = world.ticket()
    seen: list[CustomerTierChanged] = []
    handlers = [*events._subscribers[CustomerTierChanged], seen.append]
    monkeypatch.setitem(events._subscribers, CustomerTierChanged, handlers)
    with django_capture_on_commit_callbacks(execute=True):
        customer_set_tier(customer=ticket.customer, tier="vip", actor=Actor.user(world.agent))
    assert Ticket.objects.get(pk=ticket.pk).customer_tier == "vip"
    assert [e.actor for e in seen] == [Actor.user(world.agent)]
    assert seen[0].organization_id == ticket.organization_id
    with pytest.raises(ValidationFailed) as exc:
        customer_set_tier(customer=ticket.customer, tier="gold", actor=Actor.user(world.agent))
    assert exc.value.field == "tier"
