from __future__ import annotations

from decimal import Decimal

import pytest

from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.language.models import ReplyTemplateVariant
from aftersales.language.templates import (
    CustomerVars,
    OrderVars,
    TemplateContext,
    auto_reply_for,
    context_for_ticket,
    render_body,
    render_template,
    reply_template_save,
    variant_approve,
)
from aftersales.testing.factories import OrderFactory, ShipmentFactory

BODY_EN = (
    "Hello {{ customer.first_name }},\n"
    "Your return {{ rma_number }} for order {{ order.number }} is approved. "
    "We will refund {{ refund_amount }}.\n"
    "{% if tracking.link %}Track it here: {{ tracking.link }}{% endif %}"
)


def test_render_with_ticket_variables(world) -> None:
    order = OrderFactory(store=world.store_us, external_id="113-1234567-1234567", currency="EUR")
    ShipmentFactory(order=order, tracking_number="LX123456789CN")
    ticket = world.ticket(order=order)
    ticket.customer.name = "Jane Doe"
    ticket.customer.save()
    template = reply_template_save(
        user=world.admin, name="Return approved", source_language="en", bodies={"en": BODY_EN}
    )
    context = context_for_ticket(ticket, rma_number="RMA-0042", refund_amount=Decimal("25"))
    out = render_template(template=template, language="en", context=context)
    assert out.text.startswith("Hello Jane,")
    assert "RMA-0042" in out.text and "113-1234567-1234567" in out.text and "25.00 EUR" in out.text
    assert "LX123456789CN" in out.text and not out.needs_review


def test_missing_language_is_machine_translated_saved_and_flagged(world) -> None:
    template = reply_template_save(
        user=world.admin, name="Return approved", source_language="en", bodies={"en": BODY_EN}
    )
    context = TemplateContext(
        customer=CustomerVars("Ana Ruiz", "Ana"),
        order=OrderVars("113-1234567-1234567"),
        rma_number="RMA-7",
        refund_amount="25.00 EUR",
    )
    out = render_template(template=template, language="es", context=context)
    assert out.machine_translated and out.needs_review and out.provider == "apertium"
    assert "Ana" in out.text and "RMA-7" in out.text and "113-1234567-1234567" in out.text
    variant = ReplyTemplateVariant.objects.get(template=template, language="es")
    assert "{{ customer.first_name }}" in variant.body and "{% if tracking.link %}" in variant.body
    with pytest.raises(PermissionDenied):
        variant_approve(user=world.agent, variant=variant)  # organization templates: admins only
    approved = variant_approve(user=world.admin, variant=variant)
    assert not approved.needs_review
    assert not render_template(template=template, language="es", context=context).needs_review


def test_sandbox_refuses_anything_outside_the_allow_list() -> None:
    context = TemplateContext(customer=CustomerVars("Jane", "Jane"))
    for body in ("{{ customer.__class__ }}", "{{ customer.name.upper() }}", "{{ customer.__init__.__globals__ }}"):
        with pytest.raises(ValidationFailed):
            render_body(body, context)
    with pytest.raises(ValidationFailed, match="not available"):
        render_body("{{ customer.email }}", context)


def test_save_validates_syntax_variables_and_permissions(world) -> None:
    with pytest.raises(ValidationFailed, match="syntax"):
        reply_template_save(user=world.admin, name="x", source_language="en", bodies={"en": "Hi {{ customer.name"})
    with pytest.raises(ValidationFailed, match="unknown variable"):
        reply_template_save(user=world.admin, name="x", source_language="en", bodies={"en": "{{ settings.SECRET }}"})
    with pytest.raises(ValidationFailed) as err:
        reply_template_save(user=world.admin, name="x", source_language="en", bodies={"de": "Hallo"})
    assert err.value.field == "bodies"
    with pytest.raises(PermissionDenied):
        reply_template_save(user=world.agent, name="x", source_language="en", bodies={"en": "Hi"})


def test_auto_reply_in_the_customers_language(world) -> None:
    reply_template_save(
        user=world.admin,
        name="Where is my order",
        source_language="en",
        category="not_received",
        is_auto_reply=True,
        bodies={
            "en": "Hello {{ customer.name }}, your parcel is on its way.",
            "es": "Hola {{ customer.name }}, su paquete está en camino.",
        },
    )
    ticket = world.ticket(category="not_received", language="es")
    ticket.customer.name = "Ana"
    ticket.customer.save()
    out = auto_reply_for(ticket)
    assert out is not None and out.text == "Hola Ana, su paquete está en camino." and out.language == "es"
    assert auto_reply_for(world.ticket(category="refund")) is None
