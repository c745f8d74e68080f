"""Settings → Stores, Categories, Reply templates (organization admins)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from aftersales.catalog.models import Store
from aftersales.inbox.models import CategoryLabel
from aftersales.language.models import ReplyTemplate, ReplyTemplateVariant
from aftersales.language.templates import reply_template_save
from aftersales.testing.connectors import unplugged

from .conftest import htmx_headers

STORE_FORM = {
    "name": "Wish BR",
    "platform": "wish",
    "site": "wish.com.br",
    "default_language": "pt",
    "timezone": "America/Sao_Paulo",
    "currency": "BRL",
    "country": "BR",
    "is_active": "on",
}


def _store_form(**overrides: str) -> dict[str, str]:
    return {**STORE_FORM, **overrides}


def test_nav_shows_the_sections_to_admins_only(world, login) -> None:
    page = login(world.admin).get(reverse("web:settings_stores")).content.decode()
    for name in ("settings_stores", "settings_categories", "settings_templates"):
        assert f'href="{reverse(f"web:{name}")}"' in page
    assert 'aria-current="page">Stores<' in page
    agent_page = login(world.agent).get(reverse("web:settings")).content.decode()
    assert reverse("web:settings_stores") not in agent_page
    assert login(world.agent).get(reverse("web:settings_stores")).status_code == 403


def test_stores_page_lists_stores_without_secrets(world, login) -> None:
    Store.objects.filter(pk=world.store_us.pk).update(credentials={"refresh_token": "tok-secret"})
    response = login(world.admin).get(reverse("web:settings_stores"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "tok-secret" not in page
    assert 'data-store="Amazon US"' in page and 'data-store="Other Amazon"' not in page
    assert 'data-credentials="set"' in page and 'data-credentials="not-set"' in page
    assert "No connector yet" in page


def test_admin_adds_and_edits_a_store(world, login) -> None:
    client = login(world.admin)
    response = client.post(reverse("web:settings_stores"), _store_form(credentials="api_key = k-123\nsecret=s"))
    assert response.status_code == 302
    store = Store.objects.get(organization=world.org, name="Wish BR")
    assert store.credentials == {"api_key": "k-123", "secret": "s"}
    assert (store.default_language, store.timezone, str(store.country)) == ("pt", "America/Sao_Paulo", "BR")
    page = client.get(reverse("web:settings_stores")).content.decode()
    assert "k-123" not in page

    # edit without credentials: kept; then unchecking "active" deactivates
    response = client.post(reverse("web:settings_store", args=[store.pk]), _store_form(site="wish.com", is_active=""))
    assert response.status_code == 302
    store.refresh_from_db()
    assert (store.site, store.is_active, store.credentials["api_key"]) == ("wish.com", False, "k-123")
    client.post(reverse("web:settings_store", args=[store.pk]), _store_form(credentials='{"token": "t"}'))
    assert Store.objects.get(pk=store.pk).credentials == {"token": "t"}
    client.post(reverse("web:settings_store", args=[store.pk]), _store_form(clear_credentials="on"))
    assert Store.objects.get(pk=store.pk).credentials == {}


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone", "unknown time zone"),
        ({"currency": "ZZZ"}, "currency", "unknown currency"),
        ({"country": "XY"}, "country", "unknown country"),
        ({"default_language": "xx"}, "default_language", "unsupported language"),
        ({"platform": "myspace"}, "platform", "unknown platform"),
        ({"credentials": "no equals sign"}, "credentials", "line 1"),
        ({"credentials": "{not json"}, "credentials", "JSON"),
        ({"name": "eBay DE"}, "name", "already named"),
        ({"name": "bell\x07"}, "name", "control characters"),
    ],
)
def test_bad_store_input_is_shown_next_to_the_field_and_nothing_is_written(
    world, login, overrides, field, message
) -> None:
    client = login(world.admin)
    count = Store.objects.count()
    response = client.post(reverse("web:settings_stores"), _store_form(**overrides))
    assert response.status_code in (409, 422)
    page = response.content.decode()
    assert message in page and 'class="field-error"' in page
    assert 'value="wish.com.br"' in page  # what was typed is kept
    assert Store.objects.count() == count
    response = client.post(reverse("web:settings_store", args=[world.store_us.pk]), _store_form(**overrides))
    assert response.status_code in (409, 422) and message in response.content.decode()
    assert Store.objects.get(pk=world.store_us.pk).name == "Amazon US"


def test_another_organizations_store_is_not_found(world, login) -> None:
    response = login(world.foreign_user).post(reverse("web:settings_store", args=[world.store_us.pk]), _store_form())
    assert response.status_code == 404
    assert Store.objects.get(pk=world.store_us.pk).name == "Amazon US"


def test_category_labels_page_and_save(world, login) -> None:
    client = login(world.admin)
    page = client.get(reverse("web:settings_categories")).content.decode()
    assert 'name="labels.size_mismatch.label_en"' in page and 'placeholder="Size mismatch"' in page
    response = client.post(
        reverse("web:settings_categories"),
        {"labels.size_mismatch.label_en": "Fit problem", "labels.size_mismatch.label_zh_hans": "尺码不合"},
    )
    assert response.status_code == 302
    label = CategoryLabel.objects.get(organization=world.org, category="size_mismatch")
    assert (label.label_en, label.label_zh_hans) == ("Fit problem", "尺码不合")
    response = client.post(
        reverse("web:settings_categories"),
        {"labels.refund.label_en": "x" * 81, "labels.size_mismatch.label_en": "Changed"},
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "at most 80 characters" in page and 'value="Changed"' in page
    assert CategoryLabel.objects.get(organization=world.org, category="size_mismatch").label_en == "Fit problem"


def test_category_labels_page_in_chinese(world, login) -> None:
    world.admin.language = "zh-hans"
    world.admin.save()
    page = login(world.admin).get(reverse("web:settings_categories")).content.decode()
    with translation.override("zh-hans"):
        assert translation.gettext("Ticket categories") in page
        assert translation.gettext("Ticket categories") != "Ticket categories"
    assert "English label" not in page


def test_templates_page_lists_variants_and_creates_one(world, login) -> None:
    template = reply_template_save(
        user=world.admin, name="Shipped", source_language="en", bodies={"en": "Hi {{ customer.first_name }}"}
    )
    ReplyTemplateVariant.objects.create(template=template, language="es", body="Hola", needs_review=True)
    client = login(world.admin)
    page = client.get(reverse("web:settings_templates")).content.decode()
    assert 'data-template="Shipped"' in page and 'data-variant="es"' in page and "to review" in page
    assert 'name="body_en"' in page and '<option value="ja">' in page  # the language picker
    response = client.post(
        reverse("web:settings_templates"),
        {"name": "Refund done", "source_language": "de", "category": "refund", "new_body": "Erstattet"},
    )
    assert response.status_code == 302
    created = ReplyTemplate.objects.get(organization=world.org, name="Refund done")
    assert created.category == "refund" and created.variants.get().language == "de"


def test_template_errors_name_the_variant_and_write_nothing(world, login) -> None:
    template = reply_template_save(user=world.admin, name="Shipped", source_language="en", bodies={"en": "Hi"})
    client = login(world.admin)
    response = client.post(
        reverse("web:settings_template", args=[template.pk]),
        {"name": "Shipped", "source_language": "en", "body_en": "Hi {{ customer.email }}"},
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "unknown variable(s) customer.email" in page
    assert "Hi {{ customer.email }}" in page  # kept in the box
    assert template.variants.get(language="en").body == "Hi"
    response = client.post(
        reverse("web:settings_templates"),
        {"name": "Loop", "source_language": "en", "new_body": "{% for c in 'abc' %}{{ c }}{% endfor %}"},
    )
    assert response.status_code == 422 and "cannot use {% for %}" in response.content.decode()
    assert not ReplyTemplate.objects.filter(name="Loop").exists()


def test_template_update_adds_and_removes_languages_and_delete(world, login) -> None:
    template = reply_template_save(
        user=world.admin, name="Shipped", source_language="en", bodies={"en": "Hi", "es": "Hola"}
    )
    client = login(world.admin)
    response = client.post(
        reverse("web:settings_template", args=[template.pk]),
        {
            "name": "Shipped!",
            "source_language": "en",
            "body_en": "Hello",
            "body_es": "",
            "new_language": "fr",
            "new_body": "Bonjour",
        },
    )
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.name == "Shipped!"
    assert dict(template.variants.values_list("language", "body")) == {"en": "Hello", "fr": "Bonjour"}
    assert login(world.foreign_user).post(reverse("web:settings_template_delete", args=[template.pk])).status_code == (
        404
    )
    assert client.post(reverse("web:settings_template_delete", args=[template.pk])).status_code == 302
    assert not ReplyTemplate.objects.filter(pk=template.pk).exists()


def test_preview_with_sample_data_htmx_and_plain(world, login) -> None:
    template = reply_template_save(user=world.admin, name="Shipped", source_language="en", bodies={"en": "Hi"})
    client = login(world.admin)
    data = {"template_key": str(template.pk), "preview": "en", "body_en": "Hi {{ customer.first_name }}!"}
    response = client.post(reverse("web:settings_template_preview"), data, **htmx_headers())
    assert response.status_code == 200
    assert "Hi Maria!" in response.content.decode() and "<html" not in response.content.decode()
    response = client.post(reverse("web:settings_template_preview"), data)  # without JavaScript: the page
    assert response.status_code == 200 and "Hi Maria!" in response.content.decode()
    assert 'id="template-' in response.content.decode()
    bad = {"template_key": "new", "preview": "new", "new_language": "de", "new_body": "{{ 'x'|center(99999999) }}"}
    response = client.post(reverse("web:settings_template_preview"), bad, **htmx_headers())
    assert response.status_code == 422 and "the filter center" in response.content.decode()
    assert ReplyTemplateVariant.objects.count() == 1  # nothing stored


def test_a_machine_translated_variant_is_approved_only_when_ticked(world, login) -> None:
    template = reply_template_save(user=world.admin, name="Shipped", source_language="en", bodies={"en": "Hi"})
    ReplyTemplateVariant.objects.create(
        template=template, language="es", body="Hola", is_machine_translated=True, needs_review=True
    )
    client = login(world.admin)
    form = {"name": "Shipped", "source_language": "en", "body_en": "Hi", "body_es": "Hola"}
    page = client.get(reverse("web:settings_templates")).content.decode()
    assert 'name="approve" value="es"' in page
    client.post(reverse("web:settings_template", args=[template.pk]), form)
    assert template.variants.get(language="es").needs_review
    client.post(reverse("web:settings_template", args=[template.pk]), {**form, "approve": "es"})
    assert not template.variants.get(language="es").needs_review


# Wish is this module's example of a platform without a connector: unplugged for its tests.
_no_wish_connector = unplugged("wish")
