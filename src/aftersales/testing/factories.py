"""factory_boy factories for the domain models."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.utils import timezone

from aftersales.accounts.models import DEFAULT_ROLE_PERMISSIONS, Organization, Role, RoleKind, Team, User
from aftersales.catalog.models import Customer, CustomerIdentity, Order, OrderLine, Platform, Product, Shipment, Store
from aftersales.inbox.models import Ticket
from aftersales.inbox.workflow import STATUS_CATEGORY, TicketStatus


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Seller {n}")
    slug = factory.Sequence(lambda n: f"seller-{n}")


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Role

    organization = factory.SubFactory(OrganizationFactory)
    kind = RoleKind.AGENT
    name = factory.LazyAttribute(lambda o: f"{o.kind}")
    permissions = factory.LazyAttribute(lambda o: [str(p) for p in DEFAULT_ROLE_PERMISSIONS[o.kind]])
    approval_limit_amount = factory.LazyAttribute(
        lambda o: Decimal("100") if o.kind == RoleKind.APPROVER else Decimal("0")
    )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    organization = factory.SubFactory(OrganizationFactory)
    role = factory.LazyAttribute(
        lambda o: Role.objects.get_or_create(
            organization=o.organization,
            name="agent",
            defaults={
                "kind": RoleKind.AGENT,
                "permissions": [str(p) for p in DEFAULT_ROLE_PERMISSIONS[RoleKind.AGENT]],
            },
        )[0]
    )
    password = factory.PostGenerationMethodCall("set_password", "pw-correct-horse")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Store {n}")
    platform = Platform.AMAZON
    site = "amazon.com"
    default_language = "en"


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Team {n}")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Buyer {n}")
    email = factory.Sequence(lambda n: f"buyer{n}@example.net")
    country = "US"
    preferred_language = "en"


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    organization = factory.SubFactory(OrganizationFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    title = factory.Sequence(lambda n: f"Product {n}")
    category = "consumer_electronics"
    price_amount = Decimal("29.99")


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    store = factory.SubFactory(StoreFactory)
    organization = factory.LazyAttribute(lambda o: o.store.organization)
    external_id = factory.Sequence(lambda n: f"113-{n:07d}-0000000")
    customer = factory.SubFactory(CustomerFactory, organization=factory.SelfAttribute("..organization"))
    placed_at = factory.LazyFunction(timezone.now)
    total_amount = Decimal("29.99")


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory, organization=factory.SelfAttribute("..order.organization"))
    sku = factory.LazyAttribute(lambda o: o.product.sku if o.product else "SKU-X")
    quantity = 1
    unit_price_amount = Decimal("29.99")


class ShipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shipment

    order = factory.SubFactory(OrderFactory)
    carrier = "DHL"
    tracking_number = factory.Sequence(lambda n: f"JD01460000{n:08d}")


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket
        skip_postgeneration_save = True

    store = factory.SubFactory(StoreFactory)
    organization = factory.LazyAttribute(lambda o: o.store.organization)
    platform = factory.LazyAttribute(lambda o: o.store.platform)
    customer = factory.SubFactory(CustomerFactory, organization=factory.SelfAttribute("..organization"))
    subject = factory.Sequence(lambda n: f"Ticket subject {n}")
    language = "en"
    status = TicketStatus.OPEN
    status_category = factory.LazyAttribute(lambda o: STATUS_CATEGORY[o.status])
    last_customer_message_at = factory.LazyFunction(timezone.now)
    last_message_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def search_document(obj, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        """Like the services, keep the ticket's search document current."""
        if create:
            from aftersales.inbox.services import ticket_search_refresh

            ticket_search_refresh(ticket_ids=[obj.pk])


def make_identity(customer: Customer, store: Store, external_id: str) -> CustomerIdentity:
    return CustomerIdentity.objects.create(customer=customer, store=store, external_id=external_id)
