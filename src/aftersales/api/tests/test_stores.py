"""Organization settings through the API: stores, category labels, reply templates (save, update,
delete, preview). Bad input is a 422 naming the field and writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from aftersales.catalog.models import Store
from aftersales.inbox.models import CategoryLabel
from aftersales.language.models import ReplyTemplate, ReplyTemplateVariant

from .helpers import assert_error, db_state

STORE_KEYS = {
    "id",
    "name",
    "platform",
    "platform_label",
    "site",
    "external_id",
    "default_language",
    "timezone",
    "currency",
    "country",
    "is_active",
    "credentials_set",
    "has_connector",
}


def test_list_stores_never_shows_credentials(world, as_user) -> None:
    Store.objects.filter(pk=world.store_us.pk).update(credentials={"refresh_token": "tok-secret"})
    response = as_user(world.agent).get("/stores")
    assert response.status_code == 200
    assert b"tok-secret" not in response.content
    stores = {s["name"]: s for s in response.json()}
    assert set(stores) == {"Amazon US", "eBay DE"}
    assert set(stores["Amazon US"]) == STORE_KEYS
    assert stores["Amazon US"]["credentials_set"] is True and stores["eBay DE"]["credentials_set"] is False
    assert stores["Amazon US"]["has_connector"] is True  # the Amazon connector is installed (issue 9)


MAILBOX = {"address": "support@example.com", "imap_host": "imap.example.com", "password": "pw-secret"}


def test_admin_creates_and_updates_a_store(world, as_user) -> None:
    admin = as_user(world.admin)
    response = admin.post(
        "/stores",
        {
            "name": "Support mailbox",
            "platform": "email",
            "default_language": "zh-Hans",
            "timezone": "Asia/Shanghai",
            "currency": "cny",
            "country": "CN",
            "credentials": MAILBOX,
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert b"pw-secret" not in response.content
    assert (body["default_language"], body["currency"], body["credentials_set"], body["has_connector"]) == (
        "zh",
        "CNY",
        True,
        True,
    )
    store_id = body["id"]
    assert Store.objects.get(pk=store_id).credentials == MAILBOX

    patched = admin.patch(f"/stores/{store_id}", {"is_active": False, "site": "mail.example.com"})
    assert patched.status_code == 200 and patched.json()["is_active"] is False
    assert Store.objects.get(pk=store_id).credentials == MAILBOX  # kept
    cleared = admin.patch(f"/stores/{store_id}", {"credentials": None})
    assert cleared.json()["credentials_set"] is False
    assert Store.objects.get(pk=store_id).credentials == {}


def test_the_seller_id_is_set_on_create_and_update(world, as_user) -> None:
    """Amazon and eBay need the seller's id on the platform (merchant token, user id)."""
    admin = as_user(world.admin)
    created = admin.post("/stores", {"name": "Amazon DE", "platform": "amazon", "external_id": " A2EUQ1WTGCTBG2 "})
    assert created.status_code == 201, created.content
    assert created.json()["external_id"] == "A2EUQ1WTGCTBG2"
    store_id = created.json()["id"]
    patched = admin.patch(f"/stores/{store_id}", {"external_id": "A3NEWSELLER"})
    assert patched.status_code == 200 and patched.json()["external_id"] == "A3NEWSELLER"
    assert Store.objects.get(pk=store_id).external_id == "A3NEWSELLER"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"platform": "myspace"}, "platform"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"default_language": "klingon"}, "default_language"),
        ({"currency": "ZZZ"}, "currency"),
        ({"country": "XY"}, "country"),
        ({"name": "   "}, "name"),
        ({"name": None}, "name"),
        ({"credentials": ["a"]}, "credentials"),
        ({"organization_id": 2}, "organization_id"),
        ({"site": "a b"}, "site"),
        ({"external_id": "A1 B2"}, "external_id"),
        ({"external_id": "x" * 121}, "external_id"),
    ],
)
def test_bad_store_input_names_the_field_and_writes_nothing(world, as_user, body, field) -> None:
    admin = as_user(world.admin)
    before = db_state()
    assert_error(admin.patch(f"/stores/{world.store_us.pk}", {"site": "amazon.ca", **body}), 422, field=field)
    if "name" not in body:
        create = {"name": "New", "platform": "ebay", **body}
        assert_error(admin.post("/stores", create), 422, field=field)
    assert db_state() == before


def test_store_names_are_unique_per_organization(world, as_user) -> None:
    assert_error(as_user(world.admin).post("/stores", {"name": "eBay DE", "platform": "ebay"}), 409, field="name")
    assert_error(as_user(world.admin).patch(f"/stores/{world.store_de.pk}", {"name": "Amazon US"}), 409, field="name")
    assert as_user(world.foreign_user).post("/stores", {"name": "eBay DE", "platform": "ebay"}).status_code == 201


def test_another_organizations_store_is_not_found(world, as_user) -> None:
    before = db_state()
    assert_error(as_user(world.foreign_user).patch(f"/stores/{world.store_us.pk}", {"name": "Mine"}), 404)
    assert_error(as_user(world.agent).patch(f"/stores/{world.store_us.pk}", {"name": "Mine"}), 403)
    assert db_state() == before


def test_category_labels_read_and_replaced(world, as_user) -> None:
    rows = as_user(world.agent).get("/category-labels").json()
    assert rows[0] == {
        "category": "quality_issue",
        "default_en": "Quality issue",
        "default_zh_hans": rows[0]["default_zh_hans"],
        "label_en": "",
        "label_zh_hans": "",
    }
    response = as_user(world.admin).put(
        "/category-labels", {"labels": {"size_mismatch": {"label_en": "Fit problem", "label_zh_hans": "尺码不合"}}}
    )
    assert response.status_code == 200
    row = next(r for r in response.json() if r["category"] == "size_mismatch")
    assert (row["label_en"], row["label_zh_hans"]) == ("Fit problem", "尺码不合")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"labels": {"gold": {"label_en": "x"}}}, "labels.gold"),
        ({"labels": {"refund": {"label_en": "x" * 81}}}, "labels.refund.label_en"),
        ({"labels": {"refund": {"label_fr": "x"}}}, "labels.refund.label_fr"),
        ({"labels": {"refund": "x"}}, "labels.refund"),
        ({}, "labels"),
    ],
)
def test_bad_category_labels_name_the_field(world, as_user, body, field) -> None:
    CategoryLabel.objects.create(organization=world.org, category="refund", label_en="Money back")
    before = db_state()
    error = assert_error(as_user(world.admin).put("/category-labels", body), 422)
    assert error["field"].startswith(field), error
    assert db_state() == before


def _template(world: Any) -> ReplyTemplate:
    from aftersales.language.templates import reply_template_save

    return reply_template_save(
        user=world.admin, name="Shipped", source_language="en", bodies={"en": "Hi {{ customer.first_name }}"}
    )


def test_saving_a_template_names_unknown_variables(world, as_user) -> None:
    response = as_user(world.admin).post(
        "/reply-templates", {"name": "Bad", "source_language": "en", "bodies": {"en": "Hi {{ customer.email }}"}}
    )
    error = assert_error(response, 422, field="bodies[en]")
    assert "customer.email" in error["message"]
    assert not ReplyTemplate.objects.filter(name="Bad").exists()


def test_template_patch_preview_and_delete(world, as_user) -> None:
    template = _template(world)
    admin = as_user(world.admin)
    response = admin.patch(
        f"/reply-templates/{template.pk}",
        {"name": "Parcel shipped", "bodies": {"de": "Hallo {{ customer.first_name }}"}, "category": "not_received"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "Parcel shipped" and body["category"] == "not_received"
    assert [v["language"] for v in body["variants"]] == ["de", "en"]
    assert admin.patch(f"/reply-templates/{template.pk}", {"category": None}).json()["category"] == ""

    before = ReplyTemplateVariant.objects.get(template=template, language="de").body
    assert_error(
        admin.patch(f"/reply-templates/{template.pk}", {"bodies": {"de": "{% for c in 'ab' %}{% endfor %}"}}),
        422,
        field="bodies[de]",
    )
    assert ReplyTemplateVariant.objects.get(template=template, language="de").body == before

    preview = as_user(world.agent).post(
        "/reply-templates/preview", {"body": "Hi {{ customer.first_name }}, {{ order.number }}", "language": "en"}
    )
    assert preview.json() == {"text": "Hi Maria, 113-4567890-1234567", "language": "en"}
    assert_error(as_user(world.agent).post("/reply-templates/preview", {"body": "{{ nope }}"}), 422, field="body")
    assert_error(as_user(world.agent).post("/reply-templates/preview", {"body": "{{ 'x'|center(99999999) }}"}), 422)

    assert_error(as_user(world.foreign_user).delete(f"/reply-templates/{template.pk}"), 404)
    assert_error(as_user(world.agent).delete(f"/reply-templates/{template.pk}"), 403)
    assert admin.delete(f"/reply-templates/{template.pk}").status_code == 204
    assert not ReplyTemplate.objects.filter(pk=template.pk).exists()
    assert_error(admin.delete(f"/reply-templates/{template.pk}"), 404)
