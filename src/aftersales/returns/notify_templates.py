# ruff: noqa: E501  (each language's text is kept in whole lines, easier to review than re-wrapped)
"""The default reply templates of the RMA customer notifications (returns.notify.TEMPLATE_NAMES), in
English, Simplified Chinese, German, Spanish and French. Seeded for every organization by the data
migration returns 0006 and by `rma_templates_seed` (an organization created later); an organization's
admins edit them like any reply template (Settings > Reply templates), and a seed never overwrites a
template that exists. Variables: the language app's template variables (rma_number, return_address,
refund_amount, tracking.carrier, tracking.number, customer.first_name, store_name...)."""

from __future__ import annotations

from django.db import IntegrityError, transaction

DEFAULT_TEMPLATES: dict[str, dict[str, str]] = {
    "RMA: return approved": {
        "en": "Hello {{ customer.first_name }},\n\nyour return {{ rma_number }} is approved. Please pack the item "
        "with all its accessories and the RMA slip, write {{ rma_number }} on the parcel and send it to:\n\n"
        "{{ return_address }}\n\nBest regards,\n{{ store_name }}",
        "zh": "{{ customer.first_name }}您好：\n\n您的退货 {{ rma_number }} 已获批准。请将商品连同全部配件和退货单一起包装，"
        "在包裹上写明 {{ rma_number }}，并寄至：\n\n{{ return_address }}\n\n{{ store_name }}",
        "de": "Hallo {{ customer.first_name }},\n\nIhre Rücksendung {{ rma_number }} ist genehmigt. Bitte verpacken Sie "
        "den Artikel mit allem Zubehör und dem Rücksendeschein, schreiben Sie {{ rma_number }} auf das Paket und "
        "senden Sie es an:\n\n{{ return_address }}\n\nMit freundlichen Grüßen\n{{ store_name }}",
        "es": "Hola {{ customer.first_name }}:\n\nsu devolución {{ rma_number }} está aprobada. Empaquete el artículo "
        "con todos sus accesorios y la hoja de devolución, escriba {{ rma_number }} en el paquete y envíelo a:\n\n"
        "{{ return_address }}\n\nSaludos cordiales,\n{{ store_name }}",
        "fr": "Bonjour {{ customer.first_name }},\n\nvotre retour {{ rma_number }} est accepté. Emballez l'article avec "
        "tous ses accessoires et le bon de retour, inscrivez {{ rma_number }} sur le colis et envoyez-le à :\n\n"
        "{{ return_address }}\n\nCordialement,\n{{ store_name }}",
    },
    "RMA: evidence needed": {
        "en": "Hello {{ customer.first_name }},\n\nto process your return {{ rma_number }} we need a little more "
        "from you.",
        "zh": "{{ customer.first_name }}您好：\n\n为处理您的退货 {{ rma_number }}，我们还需要您提供一些信息。",
        "de": "Hallo {{ customer.first_name }},\n\num Ihre Rücksendung {{ rma_number }} zu bearbeiten, benötigen wir "
        "noch etwas von Ihnen.",
        "es": "Hola {{ customer.first_name }}:\n\npara tramitar su devolución {{ rma_number }} necesitamos algo más "
        "de usted.",
        "fr": "Bonjour {{ customer.first_name }},\n\npour traiter votre retour {{ rma_number }}, nous avons besoin "
        "d'un complément.",
    },
    "RMA: return label": {
        "en": "Hello {{ customer.first_name }},\n\nthe return label for {{ rma_number }} is ready. Tracking: "
        "{{ tracking.carrier }} {{ tracking.number }}",
        "zh": "{{ customer.first_name }}您好：\n\n{{ rma_number }} 的退货面单已准备好。物流：{{ tracking.carrier }} "
        "{{ tracking.number }}",
        "de": "Hallo {{ customer.first_name }},\n\ndas Rücksendeetikett für {{ rma_number }} ist bereit. "
        "Sendungsverfolgung: {{ tracking.carrier }} {{ tracking.number }}",
        "es": "Hola {{ customer.first_name }}:\n\nla etiqueta de devolución de {{ rma_number }} está lista. "
        "Seguimiento: {{ tracking.carrier }} {{ tracking.number }}",
        "fr": "Bonjour {{ customer.first_name }},\n\nl'étiquette de retour de {{ rma_number }} est prête. Suivi : "
        "{{ tracking.carrier }} {{ tracking.number }}",
    },
    "RMA: return received": {
        "en": "Hello {{ customer.first_name }},\n\nwe have received your return {{ rma_number }} and will inspect it "
        "shortly.",
        "zh": "{{ customer.first_name }}您好：\n\n我们已收到您的退货 {{ rma_number }}，将尽快检验。",
        "de": "Hallo {{ customer.first_name }},\n\nwir haben Ihre Rücksendung {{ rma_number }} erhalten und prüfen "
        "sie in Kürze.",
        "es": "Hola {{ customer.first_name }}:\n\nhemos recibido su devolución {{ rma_number }} y la revisaremos en "
        "breve.",
        "fr": "Bonjour {{ customer.first_name }},\n\nnous avons reçu votre retour {{ rma_number }} et allons le "
        "contrôler sous peu.",
    },
    "RMA: return resolved": {
        "en": "Hello {{ customer.first_name }},\n\nyour return {{ rma_number }} is complete."
        "{% if refund_amount %} Refund: {{ refund_amount }}.{% endif %}",
        "zh": "{{ customer.first_name }}您好：\n\n您的退货 {{ rma_number }} 已处理完毕。"
        "{% if refund_amount %}退款：{{ refund_amount }}。{% endif %}",
        "de": "Hallo {{ customer.first_name }},\n\nIhre Rücksendung {{ rma_number }} ist abgeschlossen."
        "{% if refund_amount %} Erstattung: {{ refund_amount }}.{% endif %}",
        "es": "Hola {{ customer.first_name }}:\n\nsu devolución {{ rma_number }} se ha completado."
        "{% if refund_amount %} Reembolso: {{ refund_amount }}.{% endif %}",
        "fr": "Bonjour {{ customer.first_name }},\n\nvotre retour {{ rma_number }} est terminé."
        "{% if refund_amount %} Remboursement : {{ refund_amount }}.{% endif %}",
    },
    "RMA: return rejected": {
        "en": "Hello {{ customer.first_name }},\n\nwe are sorry: your return {{ rma_number }} could not be accepted.",
        "zh": "{{ customer.first_name }}您好：\n\n很抱歉，您的退货 {{ rma_number }} 未能被接受。",
        "de": "Hallo {{ customer.first_name }},\n\nes tut uns leid: Ihre Rücksendung {{ rma_number }} konnte nicht "
        "angenommen werden.",
        "es": "Hola {{ customer.first_name }}:\n\nlo sentimos: su devolución {{ rma_number }} no ha podido aceptarse.",
        "fr": "Bonjour {{ customer.first_name }},\n\nnous sommes désolés : votre retour {{ rma_number }} n'a pas pu "
        "être accepté.",
    },
    "RMA: partial refund offer": {
        "en": "Hello {{ customer.first_name }},\n\nabout your return {{ rma_number }}: you may keep the item and "
        "receive a partial refund of {{ refund_amount }}. Just reply to accept.",
        "zh": "{{ customer.first_name }}您好：\n\n关于您的退货 {{ rma_number }}：您可以保留商品并获得 {{ refund_amount }} "
        "的部分退款。如同意，请直接回复。",
        "de": "Hallo {{ customer.first_name }},\n\nzu Ihrer Rücksendung {{ rma_number }}: Sie können den Artikel "
        "behalten und erhalten eine Teilerstattung von {{ refund_amount }}. Antworten Sie einfach, um anzunehmen.",
        "es": "Hola {{ customer.first_name }}:\n\nsobre su devolución {{ rma_number }}: puede quedarse el artículo y "
        "recibir un reembolso parcial de {{ refund_amount }}. Responda para aceptar.",
        "fr": "Bonjour {{ customer.first_name }},\n\nà propos de votre retour {{ rma_number }} : vous pouvez garder "
        "l'article et recevoir un remboursement partiel de {{ refund_amount }}. Répondez simplement pour accepter.",
    },
}


def seed_templates(template_model: type, variant_model: type, organization_id: int) -> int:
    """Create the default templates an organization lacks (by name), with their five variants.
    Takes the models as arguments so the data migration can pass its historical ones. Returns how
    many templates were created."""
    created = 0
    for name, bodies in DEFAULT_TEMPLATES.items():
        if template_model.objects.filter(organization_id=organization_id, name=name).exists():  # type: ignore[attr-defined]
            continue
        try:
            with transaction.atomic():
                template = template_model.objects.create(  # type: ignore[attr-defined]
                    organization_id=organization_id, name=name, source_language="en", category="return"
                )
                for language, body in bodies.items():
                    variant_model.objects.create(template=template, language=language, body=body)  # type: ignore[attr-defined]
        except IntegrityError:
            continue  # created concurrently
        created += 1
    return created


def rma_templates_seed(*, organization_id: int) -> int:
    """The default RMA notification templates for one organization (an organization created after
    the data migration); existing templates are left as the admins made them."""
    from aftersales.language.models import ReplyTemplate, ReplyTemplateVariant

    return seed_templates(ReplyTemplate, ReplyTemplateVariant, organization_id)
