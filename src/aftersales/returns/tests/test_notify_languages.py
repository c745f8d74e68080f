"""The buyer notifications in the buyer's language (issue 10, section 7): every step's default reply
template is written in the nine languages of returns.notify_templates.LANGUAGES with the same variables
in each; a Japanese, Arabic, Portuguese or Italian buyer gets the written template (not a machine
translation, not English), the lines added below it in the same language; existing organizations get
the languages added later (language 0003) without losing what their admins wrote; the template
settings preview an Arabic text right to left."""

from __future__ import annotations

import pytest

from aftersales.inbox.models import Message
from aftersales.language.models import ReplyTemplate, ReplyTemplateVariant
from aftersales.language.templates import check_body
from aftersales.returns.notify import TEMPLATE_NAMES
from aftersales.returns.notify_templates import ALL_TEMPLATES, DEFAULT_TEMPLATES, LANGUAGES, rma_templates_seed
from aftersales.returns.rma import rma_approve, rma_create, rma_reject

from .rma_fixtures import delivered_order, first_line, return_hub, ticket_for

pytestmark = pytest.mark.django_db


def _variables(body: str) -> frozenset[str]:
    """The variables a template text uses, with their attributes (customer.first_name), in {{ }} and
    in {% if %} alike."""
    from jinja2 import meta, nodes
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    tree = ImmutableSandboxedEnvironment().parse(body)
    found = set(meta.find_undeclared_variables(tree))
    for node in tree.find_all(nodes.Getattr):
        if isinstance(node.node, nodes.Name):
            found.add(f"{node.node.name}.{node.attr}")
    return frozenset(found)


def test_every_step_is_written_in_every_language_with_the_same_variables() -> None:
    assert set(DEFAULT_TEMPLATES) == set(TEMPLATE_NAMES.values())
    assert set(LANGUAGES) == {"en", "es", "de", "fr", "pt", "it", "zh", "ja", "ar"}
    for name, bodies in DEFAULT_TEMPLATES.items():
        assert set(bodies) == set(LANGUAGES), name
        english = _variables(bodies["en"])
        for language, body in bodies.items():
            check_body(body)
            assert _variables(body) == english, (name, language)


def test_the_japanese_and_arabic_texts_are_written_in_their_script() -> None:
    for name, bodies in DEFAULT_TEMPLATES.items():
        assert any("\u3040" <= ch <= "\u30ff" for ch in bodies["ja"]), name  # kana: not Chinese, not English
        assert any("\u0600" <= ch <= "\u06ff" for ch in bodies["ar"]), name


@pytest.mark.parametrize(
    ("language", "approved", "rejected"),
    [
        ("ja", "返品", "理由：Gebraucht"),
        ("ar", "تمت الموافقة على طلب الإرجاع", "السبب: Gebraucht"),
        ("pt", "Sua devolução", "Motivo: Gebraucht"),
        ("it", "il suo reso", "Motivo: Gebraucht"),
    ],
)
def test_a_buyer_gets_the_written_template_in_their_language(
    world, django_capture_on_commit_callbacks, language, approved, rejected
) -> None:
    rma_templates_seed(organization_id=world.org.pk)
    return_hub(world)
    order = delivered_order(world, lines=(("home", "40.00", 2, "USD"),))
    ticket = ticket_for(world, order, language=language)
    lines = [{"order_line_id": first_line(order).pk, "quantity": 1}]
    with django_capture_on_commit_callbacks(execute=True):
        first = rma_create(user=world.agent, order_id=order.pk, lines=lines, reason="changed_mind")
        rma_approve(user=world.approver, rma_id=first.pk)
    with django_capture_on_commit_callbacks(execute=True):
        second = rma_create(user=world.agent, order_id=order.pk, lines=lines, reason="changed_mind")
        rma_reject(user=world.approver, rma_id=second.pk, reason="Gebraucht")
    bodies = list(
        Message.objects.filter(ticket=ticket, direction="outbound").order_by("id").values_list("body", flat=True)
    )
    assert len(bodies) == 2
    assert approved in bodies[0] and first.number in bodies[0] and "1 Return Way" in bodies[0]
    # Arabic: each address line is a first-strong isolate, so "1 Return Way" keeps its order beside Arabic
    assert ("\u20681 Return Way\u2069" in bodies[0]) is (language == "ar")
    assert "Hello" not in bodies[0] and "Please pack" not in bodies[0]
    assert rejected in bodies[1] and "Reason:" not in bodies[1]
    for rma in (first, second):
        sent = rma.events.get(type="customer_notified")
        template = ReplyTemplate.objects.get(organization=world.org, name=TEMPLATE_NAMES[sent.payload["step"]])
        assert sent.payload["source"] == f"template:{template.pk}:{language}"  # written, not ":machine"
        assert sent.payload["language"] == language
    assert not ReplyTemplateVariant.objects.filter(
        template__organization=world.org, is_machine_translated=True
    ).exists()


def test_an_existing_organization_gets_the_languages_added_later_and_keeps_its_own(world) -> None:
    """What language 0003 does for the organizations seeded in five languages by returns 0006 / 0008."""
    rma_templates_seed(organization_id=world.org.pk)
    ReplyTemplateVariant.objects.filter(
        template__organization=world.org, language__in=("pt", "it", "ja", "ar")
    ).delete()
    received = ReplyTemplate.objects.get(organization=world.org, name="RMA: return received")
    # a machine translation made meanwhile, not reviewed yet: replaced by the written text
    ReplyTemplateVariant.objects.create(
        template=received, language="ja", body="Machine", is_machine_translated=True, needs_review=True, provider="x"
    )
    # one an agent reviewed: kept
    ReplyTemplateVariant.objects.create(
        template=received, language="it", body="Rivisto {{ rma_number }}", is_machine_translated=True
    )
    # a template whose English an admin rewrote: its meaning is theirs, nothing added
    rejected = ReplyTemplate.objects.get(organization=world.org, name="RMA: return rejected")
    rejected.variants.filter(language="en").update(body="Sorry {{ rma_number }}")

    assert rma_templates_seed(organization_id=world.org.pk) == 0  # no template created twice

    ja = received.variants.get(language="ja")
    assert ja.body == DEFAULT_TEMPLATES["RMA: return received"]["ja"]
    assert (ja.is_machine_translated, ja.needs_review, ja.provider) == (False, False, "")
    assert received.variants.get(language="it").body == "Rivisto {{ rma_number }}"
    assert set(received.variants.values_list("language", flat=True)) == set(LANGUAGES)
    assert set(rejected.variants.values_list("language", flat=True)) == {"en", "es", "de", "fr", "zh"}
    assert rejected.variants.get(language="en").body == "Sorry {{ rma_number }}"
    approved = ReplyTemplate.objects.get(organization=world.org, name="RMA: return approved")
    assert set(approved.variants.values_list("language", flat=True)) == set(LANGUAGES)


def test_the_migration_step_completes_every_organization(world) -> None:
    from django.apps import apps

    from aftersales.returns.notify_templates import seed_every_organization

    rma_templates_seed(organization_id=world.org.pk)
    ReplyTemplateVariant.objects.filter(template__organization=world.org, language="ar").delete()
    seed_every_organization(apps, None)
    assert ReplyTemplateVariant.objects.filter(template__organization=world.org, language="ar").count() == len(
        ALL_TEMPLATES  # the notifications and the warranty-expiry reminder
    )
