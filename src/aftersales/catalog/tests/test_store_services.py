"""Stores as an organization admin manages them: created and changed within the organization, every
field checked (the error names it, nothing is written), credentials write-only and encrypted."""

from __future__ import annotations

import pytest
from django.db import connection

from aftersales.catalog.models import Store
from aftersales.catalog.selectors import store_list, store_settings_get
from aftersales.catalog.services import store_create, store_deactivate, store_update
from aftersales.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from aftersales.testing.connectors import unplugged

SHOPEE_CREDENTIALS = {"partner_id": "2001234", "partner_key": "s3cret", "shop_id": "880011", "refresh_token": "r-1"}


def _create(world, **kw):  # type: ignore[no-untyped-def]
    values = {"name": "Shopee BR", "platform": "shopee", "site": "shopee.com.br", "default_language": "pt-BR"}
    return store_create(user=world.admin, **{**values, **kw})


def test_admin_creates_a_store_with_normalised_values(world) -> None:
    store = _create(world, timezone="America/Sao_Paulo", currency="brl", country="br", credentials=SHOPEE_CREDENTIALS)
    assert (store.organization_id, store.name, store.platform, store.site) == (
        world.org.pk,
        "Shopee BR",
        "shopee",
        "shopee.com.br",
    )
    assert (store.default_language, store.timezone, store.currency, str(store.country)) == (
        "pt",
        "America/Sao_Paulo",
        "BRL",
        "BR",
    )
    assert Store.objects.get(pk=store.pk).credentials == SHOPEE_CREDENTIALS
    with connection.cursor() as cursor:  # encrypted at rest
        cursor.execute("SELECT credentials FROM catalog_store WHERE id = %s", [store.pk])
        raw = cursor.fetchone()[0]
    assert "s3cret" not in raw and raw.startswith("gAAAA")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "x" * 121),
        ("name", "bell\x07"),
        ("site", "amazon\x00.de"),
        ("credentials", {"key\x00": "v"}),
        ("platform", "myspace"),
        ("site", "amazon de"),
        ("default_language", "klingon"),
        ("timezone", "Mars/Olympus"),
        ("timezone", "../../etc/passwd"),
        ("currency", "ZZZ"),
        ("country", "XY"),
        ("credentials", ["not", "an", "object"]),
        ("credentials", {f"k{i}": "v" for i in range(31)}),
    ],
)
def test_bad_values_name_the_field_and_write_nothing(world, field, value) -> None:
    count = Store.objects.count()
    with pytest.raises(ValidationFailed) as err:
        _create(world, **{field: value})
    assert err.value.field == field
    assert Store.objects.count() == count
    store = world.store_us
    with pytest.raises(ValidationFailed) as err:
        store_update(user=world.admin, store_id=store.pk, changes={"site": "ebay.de", field: value})
    assert err.value.field == field
    assert Store.objects.get(pk=store.pk).site == "amazon.com"


def test_unknown_fields_and_duplicate_names_are_refused(world) -> None:
    with pytest.raises(ValidationFailed) as err:
        store_update(user=world.admin, store_id=world.store_us.pk, changes={"organization_id": world.foreign_org.pk})
    assert err.value.field == "organization_id"
    with pytest.raises(Conflict) as conflict:
        _create(world, name="Amazon  US")
    assert conflict.value.field == "name"
    with pytest.raises(Conflict):
        store_update(user=world.admin, store_id=world.store_de.pk, changes={"name": "Amazon US"})
    # another organization may use the same name
    assert store_create(user=world.foreign_user, name="Amazon US", platform="amazon").organization_id == (
        world.foreign_org.pk
    )


def test_only_admins_of_the_organization(world) -> None:
    for user in (world.agent, world.viewer, world.approver):
        with pytest.raises(PermissionDenied):
            store_create(user=user, name="X", platform="ebay")
        with pytest.raises(PermissionDenied):
            store_update(user=user, store_id=world.store_us.pk, changes={"name": "X"})
    with pytest.raises(NotFound) as err:
        store_update(user=world.foreign_user, store_id=world.store_us.pk, changes={"name": "Mine"})
    assert err.value.field == "store_id"
    with pytest.raises(NotFound):
        store_settings_get(world.foreign_user, world.store_us.pk)
    assert Store.objects.get(pk=world.store_us.pk).name == "Amazon US"


def test_credentials_are_replaced_or_cleared_and_only_said_to_be_set(world) -> None:
    store = world.store_us
    amazon = {"lwa_client_id": "amzn1.application-oa2-client.1", "lwa_client_secret": "s1", "refresh_token": "r1"}
    store_update(user=world.admin, store_id=store.pk, changes={"credentials": amazon})
    settings = store_settings_get(world.agent, store.pk)
    assert settings.credentials_set is True
    assert "r1" not in repr(settings)
    store_update(user=world.admin, store_id=store.pk, changes={"name": "Amazon USA"})  # kept when not given
    assert Store.objects.get(pk=store.pk).credentials == amazon
    store_update(user=world.admin, store_id=store.pk, changes={"credentials": None})
    assert Store.objects.get(pk=store.pk).credentials == {}
    assert store_settings_get(world.agent, store.pk).credentials_set is False


def test_deactivate_and_list_say_whether_a_connector_exists(world) -> None:
    mailbox = _create(world, name="Support mailbox", platform="email", site="")
    _create(world, name="Wish", platform="wish", site="")  # no Wish connector is installed
    store_deactivate(user=world.admin, store_id=world.store_de.pk)
    rows = {row.name: row for row in store_list(world.agent)}
    assert set(rows) == {"Amazon US", "eBay DE", "Support mailbox", "Wish"}
    assert rows["eBay DE"].is_active is False
    assert rows["Support mailbox"].has_connector is True and rows["Wish"].has_connector is False
    assert rows["Support mailbox"].id == mailbox.pk
    assert [row.name for row in store_list(world.foreign_user)] == ["Other Amazon"]


# Wish is this module's example of a platform without a connector: unplugged for its tests.
_no_wish_connector = unplugged("wish")
