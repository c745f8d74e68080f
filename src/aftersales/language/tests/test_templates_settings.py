"""Reply templates as an admin manages them: checked when saved (syntax, constructs, unknown
variables named), updated and deleted within the organization, previewed on sample data, and a
rendered output that can never grow past MAX_RENDERED characters."""

from __future__ import annotations

import time

import pytest

from aftersales.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from aftersales.language.models import ReplyTemplate, ReplyTemplateVariant
from aftersales.language.templates import (
    MAX_RENDERED,
    TemplateContext,
    check_body,
    render_body,
    render_template,
    reply_template_delete,
    reply_template_preview,
    reply_template_save,
    reply_template_update,
    sample_context,
)


def _template(world, **bodies: str) -> ReplyTemplate:  # type: ignore[no-untyped-def]
    return reply_template_save(
        user=world.admin, name="Shipped", source_language="en", bodies=bodies or {"en": "Hi {{ customer.first_name }}"}
    )


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ("Hello {{ customer.email }}", "customer.email"),
        ("Hello {{ customer['phone'] }}", "customer.phone"),
        ("{{ order.number }} {{ settings }}", "settings"),
        ("{{ tracking.number.secret }}", "tracking.number.secret"),
        ("{{ store_name.upper }}", "store_name.upper"),
        ("{{ cycler }}", "cycler"),
    ],
)
def test_unknown_variables_are_named_in_the_error(body, named) -> None:
    with pytest.raises(ValidationFailed) as err:
        check_body(body, field_name="bodies[en]")
    assert err.value.field == "bodies[en]"
    assert f"unknown variable(s) {named}" in err.value.message
    assert "customer.first_name" in err.value.message  # and what is available


def test_known_variables_and_allowed_constructs_pass() -> None:
    body = (
        "Hello {{ customer.first_name|default('there')|title }},\n"
        "{% if tracking.link and order.platform in ('amazon', 'ebay') %}Track: {{ tracking['link'] }}{% endif %}"
        "{{ store_name ~ ' / ' ~ agent_name }} {{ refund_amount|truncate(20) }} {# a note #}"
    )
    assert check_body(body) == body
    text = render_body(body, sample_context(store_name="Amazon US", agent_name="Ada"))
    assert text.startswith("Hello Maria,") and "LX123456789CN" in text and "Amazon US / Ada" in text


@pytest.mark.parametrize(
    ("body", "what"),
    [
        ("{% for c in 'abc' %}{{ c }}{% endfor %}", "{% for %}"),
        ("{% set x = 'a' %}{{ x }}", "{% set %}"),
        ("{{ 'x' * 100000000 }}", "*"),
        ("{{ 'x' ** 2 }}", "**"),
        ("{{ '%999999999s' % 'a' }}", "%"),
        ("{{ 'x'|center(999999999) }}", "the filter center"),
        ("{{ 'ab'|replace('', 'xxxxxxxxxx') }}", "the filter replace"),
        ("{{ 'x'|indent(999999999, true) }}", "the filter indent"),
        ("{{ customer.name.upper() }}", "( )"),
        ("{% macro m() %}x{% endmacro %}", "{% macro %}"),
        ("{% with a = 1 %}{% endwith %}", "{% with %}"),
    ],
)
def test_constructs_that_could_grow_the_output_are_refused(body, what) -> None:
    with pytest.raises(ValidationFailed) as err:
        check_body(body, field_name="bodies[de]")
    assert err.value.field == "bodies[de]"
    assert f"cannot use {what}" in err.value.message


@pytest.mark.parametrize("body", ["Hi\x00there", "Hi \x1b[2J", "Hi \ud800"])
def test_control_characters_and_unstorable_text_are_refused(body) -> None:
    with pytest.raises(ValidationFailed) as err:
        check_body(body, field_name="bodies[en]")
    assert err.value.field == "bodies[en]"


def test_syntax_error_names_the_variant() -> None:
    with pytest.raises(ValidationFailed) as err:
        check_body("Hi {{ customer.name", field_name="bodies[fr]")
    assert err.value.field == "bodies[fr]" and "syntax" in err.value.message


def test_a_stored_template_that_would_expand_to_megabytes_is_refused_quickly(world) -> None:
    """A variant written before the checks existed (straight into the database): nested loops over
    1,000-character strings would print 10^9 characters. Rendering refuses it at once."""
    template = _template(world)
    chunk = "x" * 1000
    bomb = f"{{% for a in '{chunk}' %}}{{% for b in '{chunk}' %}}{{% for c in '{chunk}' %}}{chunk}{{% endfor %}}" * 1
    bomb += "{% endfor %}{% endfor %}"
    ReplyTemplateVariant.objects.filter(template=template, language="en").update(body=bomb)
    started = time.monotonic()
    with pytest.raises(ValidationFailed) as err:
        render_template(template=template, language="en", context=sample_context())
    assert err.value.field == "body" and "{% for %}" in err.value.message
    assert time.monotonic() - started < 2


def test_rendered_output_is_capped_while_streaming() -> None:
    """Allowed constructs only, but a huge variable repeated: the output stops at MAX_RENDERED."""
    context = TemplateContext(return_address="A" * 1_000_000)
    body = "{{ return_address }}\n" * 400  # 400 MB if it were built
    started = time.monotonic()
    with pytest.raises(ValidationFailed) as err:
        render_body(body, context)
    assert err.value.field == "body" and str(MAX_RENDERED) in err.value.message
    assert time.monotonic() - started < 2
    assert len(render_body("{{ return_address }}", TemplateContext(return_address="B" * MAX_RENDERED))) == MAX_RENDERED


def test_save_checks_every_body_before_writing(world) -> None:
    with pytest.raises(ValidationFailed) as err:
        reply_template_save(
            user=world.admin,
            name="Two",
            source_language="en",
            bodies={"en": "Hi", "es": "Hola {{ customer.email }}"},
        )
    assert err.value.field == "bodies[es]"
    assert not ReplyTemplate.objects.filter(name="Two").exists()
    with pytest.raises(ValidationFailed) as err:
        reply_template_save(user=world.admin, name="Two", source_language="en", bodies={"en": "Hi", "xx": "?"})
    assert err.value.field == "bodies[xx]"
    with pytest.raises(ValidationFailed) as err:
        reply_template_save(user=world.admin, name="Two", source_language="en", bodies={"en": "Hi", "EN": "Hey"})
    assert err.value.field == "bodies[EN]"
    with pytest.raises(ValidationFailed) as err:
        reply_template_save(user=world.admin, name="Two", source_language="en", bodies={"en": "Hi"}, category="nope")
    assert err.value.field == "category"
    assert not ReplyTemplate.objects.filter(name="Two").exists()


def test_update_renames_changes_variants_and_keeps_the_source(world) -> None:
    template = _template(world, en="Hi {{ customer.first_name }}", es="Hola")
    updated = reply_template_update(
        user=world.admin,
        template_id=template.pk,
        name="  Parcel   shipped ",
        category="not_received",
        is_auto_reply=True,
        bodies={"de": "Hallo {{ customer.first_name }}", "es": ""},
    )
    assert (updated.name, updated.category, updated.is_auto_reply) == ("Parcel shipped", "not_received", True)
    assert sorted(updated.variants.values_list("language", flat=True)) == ["de", "en"]
    with pytest.raises(ValidationFailed) as err:
        reply_template_update(user=world.admin, template_id=template.pk, bodies={"en": ""})
    assert err.value.field == "bodies"
    with pytest.raises(ValidationFailed) as err:
        reply_template_update(user=world.admin, template_id=template.pk, source_language="fr")
    assert err.value.field == "source_language"
    assert (
        reply_template_update(user=world.admin, template_id=template.pk, source_language="de").source_language == "de"
    )
    with pytest.raises(ValidationFailed) as err:
        reply_template_update(user=world.admin, template_id=template.pk, bodies={"de": "{{ customer.iban }}"})
    assert err.value.field == "bodies[de]" and "customer.iban" in err.value.message
    assert template.variants.get(language="de").body == "Hallo {{ customer.first_name }}"  # nothing written
    reply_template_save(user=world.admin, name="Other", source_language="en", bodies={"en": "x"})
    with pytest.raises(Conflict) as conflict:
        reply_template_update(user=world.admin, template_id=template.pk, name="Other")
    assert conflict.value.field == "name"


def test_update_and_delete_stay_within_the_organization(world) -> None:
    template = _template(world)
    with pytest.raises(PermissionDenied):
        reply_template_update(user=world.agent, template_id=template.pk, name="Mine")
    with pytest.raises(PermissionDenied):
        reply_template_delete(user=world.agent, template_id=template.pk)
    with pytest.raises(NotFound):
        reply_template_update(user=world.foreign_user, template_id=template.pk, name="Mine")
    with pytest.raises(NotFound):
        reply_template_delete(user=world.foreign_user, template_id=template.pk)
    assert ReplyTemplate.objects.get(pk=template.pk).name == "Shipped"
    reply_template_delete(user=world.admin, template_id=template.pk)
    assert not ReplyTemplate.objects.filter(pk=template.pk).exists()
    assert not ReplyTemplateVariant.objects.filter(template_id=template.pk).exists()


def test_preview_fills_in_sample_data_and_checks_like_save(world) -> None:
    preview = reply_template_preview(
        user=world.agent, body="Hi {{ customer.first_name }}, order {{ order.number }} from {{ store_name }}"
    )
    assert preview.text == "Hi Maria, order 113-4567890-1234567 from Amazon US"
    assert reply_template_preview(user=world.agent, body="Hallo", language="de-DE").language == "de"
    with pytest.raises(ValidationFailed) as err:
        reply_template_preview(user=world.agent, body="{{ customer.email }}")
    assert err.value.field == "body" and "customer.email" in err.value.message
    with pytest.raises(ValidationFailed) as err:
        reply_template_preview(user=world.agent, body="Hi", language="klingon")
    assert err.value.field == "language"


def test_saving_unchanged_variants_keeps_their_review_flag_until_approved(world) -> None:
    template = _template(world)
    ReplyTemplateVariant.objects.create(
        template=template, language="es", body="Hola", is_machine_translated=True, needs_review=True
    )
    bodies = {"en": "Hi {{ customer.first_name }}", "es": "Hola"}
    reply_template_update(user=world.admin, template_id=template.pk, name="Shipped!", bodies=bodies)
    spanish = template.variants.get(language="es")
    assert spanish.needs_review and spanish.is_machine_translated  # saving the form approves nothing
    reply_template_update(user=world.admin, template_id=template.pk, bodies=bodies, approve=["es"])
    spanish.refresh_from_db()
    assert not spanish.needs_review and spanish.is_machine_translated
    with pytest.raises(ValidationFailed) as err:
        reply_template_update(user=world.admin, template_id=template.pk, approve=["xx"])
    assert err.value.field == "approve"
    reply_template_update(user=world.admin, template_id=template.pk, bodies={"es": "¡Hola!"})
    spanish.refresh_from_db()
    assert (spanish.body, spanish.is_machine_translated, spanish.needs_review) == ("¡Hola!", False, False)
