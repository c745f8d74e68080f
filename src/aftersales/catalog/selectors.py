"""Reads of stores, customers and orders, always within the user's organization."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm
from aftersales.channels.registry import available_platforms
from aftersales.core.errors import NotFound
from aftersales.core.money import AMOUNT_PLACES
from aftersales.core.rows import row_shape

from .models import Customer, CustomerIdentity, Order, Store


def stores_of_organization(user: Any) -> QuerySet[Store]:
    return Store.objects.filter(organization_id=user.organization_id).order_by("platform", "name")


def store_of_organization(organization_id: int | None, store_id: int) -> Store | None:
    """The organization's store `store_id` without its credentials (deferred: not read nor decrypted), or
    None: `stores_of_organization(user).defer("credentials").filter(pk=store_id).first()` without the ORM's
    compiler (its select list made once per database vendor: core/rows.py), for the ingestion API's every
    request (issue 13)."""
    shape = row_shape(Store, "s", defer=("credentials",))
    meta = Store._meta
    q = connection.ops.quote_name
    sql = (
        f"SELECT {shape.columns} FROM {q(meta.db_table)} s"  # noqa: S608
        f" WHERE s.{q(str(meta.pk.column))} = %s AND s.{q(str(meta.get_field('organization').column))} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [store_id, organization_id])
        row = cursor.fetchone()
    return cast(Store, shape.instance(row, 0)) if row is not None else None


@dataclass(frozen=True)
class StoreSettings:
    """A store as its settings show it. The credentials themselves are never read out: only
    whether some are set. `has_connector`: whether a connector for its platform is installed (the
    others cannot exchange messages with their marketplace yet)."""

    id: int
    name: str
    platform: str
    platform_label: str
    site: str
    external_id: str  # the seller's id on the platform
    default_language: str
    timezone: str
    currency: str
    country: str
    is_active: bool
    credentials_set: bool
    has_connector: bool


def _settings(store: Store, connectors: frozenset[str]) -> StoreSettings:
    return StoreSettings(
        id=store.pk,
        name=store.name,
        platform=store.platform,
        platform_label=str(store.get_platform_display()),
        site=store.site,
        external_id=store.external_id,
        default_language=store.default_language,
        timezone=store.timezone,
        currency=store.currency,
        country=str(store.country or ""),
        is_active=store.is_active,
        credentials_set=bool(store.credentials),
        has_connector=store.platform in connectors,
    )


def store_list(user: Any) -> list[StoreSettings]:
    """The organization's stores (anyone of the organization may list them)."""
    check_perm(user, Permission.VIEW)
    connectors = frozenset(available_platforms())
    return [_settings(store, connectors) for store in stores_of_organization(user)]


def store_settings_get(user: Any, store_id: int) -> StoreSettings:
    """One store of the organization, for its settings (NotFound for another organization's)."""
    check_perm(user, Permission.VIEW)
    store = stores_of_organization(user).filter(pk=store_id).first()
    if store is None:
        raise NotFound(_("store not found"), field="store_id")
    return _settings(store, frozenset(available_platforms()))


def customer_get(user: Any, customer_id: int) -> Customer:
    customer = Customer.objects.filter(pk=customer_id, organization_id=user.organization_id).first()
    if customer is None:
        raise NotFound(_("customer not found"), field="customer_id")
    return customer


def order_get(user: Any, order_id: int) -> Order:
    order = (
        Order.objects.select_related("store", "customer")
        .defer("store__credentials")  # never decrypt store secrets to show an order
        .prefetch_related("lines", "shipments__events")
        .filter(pk=order_id, organization_id=user.organization_id)
        .first()
    )
    if order is None:
        raise NotFound(_("order not found"), field="order_id")
    return order


CENT = Decimal(1).scaleb(-AMOUNT_PLACES)


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    amount: Decimal


@dataclass(frozen=True)
class CustomerOrderFigures:
    """A customer's figures computed from the orders held for them (every store of the
    organization): how many, and their totals per currency (amounts in different currencies are
    never added together)."""

    order_count: int
    lifetime_value: list[CurrencyTotal]
    return_count: int = 0  # of those orders, the ones returned or refunded (in whole or in part)


RETURNED_STATUSES = ("returned", "refunded", "partially_refunded")


def customer_order_figures(organization_id: int, customer_id: int) -> CustomerOrderFigures:
    """The customer's order count and lifetime value (sum of the order totals, per currency),
    from the same orders the customer panel lists."""
    rows = (
        Order.objects.filter(organization_id=organization_id, customer_id=customer_id)
        .values("currency")
        .annotate(
            n=Count("pk"), total=Sum("total_amount"), returned=Count("pk", filter=Q(status__in=RETURNED_STATUSES))
        )
        .order_by("currency")
    )
    count = returned = 0
    totals = []
    for row in rows:
        count += row["n"]
        returned += row["returned"]
        amount = Decimal(row["total"] or 0).quantize(CENT)  # SQLite sums come back with extra places
        totals.append(CurrencyTotal(currency=row["currency"], amount=amount))
    return CustomerOrderFigures(order_count=count, lifetime_value=totals, return_count=returned)


def buyer_identity(customer_id: int | None, store_id: int) -> str:
    """The customer's id on the store (CustomerIdentity.external_id: AliExpress's buyer_login_id,
    eBay's username...), "" when the customer or the identity is unknown."""
    if customer_id is None:
        return ""
    found = (
        CustomerIdentity.objects.filter(customer_id=customer_id, store_id=store_id)
        .order_by("pk")
        .values_list("external_id", flat=True)
        .first()
    )
    return found or ""
