# ruff: noqa: E501  (each language's text is kept in whole lines, easier to review than re-wrapped)
"""The default reply templates of the RMA and warranty customer notifications (returns.notify.
TEMPLATE_NAMES), in English, Simplified Chinese, German, Spanish and French. Seeded for every
organization by the data migrations returns 0006 and 0008 (the steps added later) and by
`rma_templates_seed` (an organization created later); an organization's admins edit them like any
reply template (Settings > Reply templates), and a seed never overwrites a template that exists. Variables: the language app's template variables (rma_number, return_address,
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
    "RMA: return parcel on its way": {
        "en": "Hello {{ customer.first_name }},\n\nyour return parcel {{ rma_number }} is on its way to us. Tracking: {{ tracking.carrier }} {{ tracking.number }}",
        "zh": "{{ customer.first_name }}您好：\n\n您的退货包裹 {{ rma_number }} 正在寄回途中。物流：{{ tracking.carrier }} {{ tracking.number }}",
        "de": "Hallo {{ customer.first_name }},\n\nIhr Rücksendepaket {{ rma_number }} ist auf dem Weg zu uns. Sendungsverfolgung: {{ tracking.carrier }} {{ tracking.number }}",
        "es": "Hola {{ customer.first_name }}:\n\nsu paquete de devolución {{ rma_number }} está en camino hacia nosotros. Seguimiento: {{ tracking.carrier }} {{ tracking.number }}",
        "fr": "Bonjour {{ customer.first_name }},\n\nvotre colis de retour {{ rma_number }} est en route vers nous. Suivi : {{ tracking.carrier }} {{ tracking.number }}",
    },
    "RMA: return parcel delivered": {
        "en": "Hello {{ customer.first_name }},\n\nyour return parcel {{ rma_number }} has been delivered to our warehouse. We will check it in shortly.",
        "zh": "{{ customer.first_name }}您好：\n\n您的退货包裹 {{ rma_number }} 已送达我们的仓库，我们将尽快入库。",
        "de": "Hallo {{ customer.first_name }},\n\nIhr Rücksendepaket {{ rma_number }} wurde in unserem Lager zugestellt. Wir erfassen es in Kürze.",
        "es": "Hola {{ customer.first_name }}:\n\nsu paquete de devolución {{ rma_number }} se ha entregado en nuestro almacén. Lo registraremos en breve.",
        "fr": "Bonjour {{ customer.first_name }},\n\nvotre colis de retour {{ rma_number }} a été livré à notre entrepôt. Nous l'enregistrons sous peu.",
    },
    "RMA: inspection passed": {
        "en": "Hello {{ customer.first_name }},\n\nyour return {{ rma_number }} passed our inspection. We are now completing your return.",
        "zh": "{{ customer.first_name }}您好：\n\n您的退货 {{ rma_number }} 已通过检验，我们正在为您完成退货处理。",
        "de": "Hallo {{ customer.first_name }},\n\nIhre Rücksendung {{ rma_number }} hat unsere Prüfung bestanden. Wir schließen Ihre Rücksendung jetzt ab.",
        "es": "Hola {{ customer.first_name }}:\n\nsu devolución {{ rma_number }} ha superado nuestra inspección. Ahora completamos su devolución.",
        "fr": "Bonjour {{ customer.first_name }},\n\nvotre retour {{ rma_number }} a passé notre contrôle. Nous finalisons maintenant votre retour.",
    },
    "RMA: inspection failed": {
        "en": "Hello {{ customer.first_name }},\n\nyour return {{ rma_number }} did not pass our inspection. We will contact you about the next step.",
        "zh": "{{ customer.first_name }}您好：\n\n您的退货 {{ rma_number }} 未通过检验，我们会就后续处理与您联系。",
        "de": "Hallo {{ customer.first_name }},\n\nIhre Rücksendung {{ rma_number }} hat unsere Prüfung nicht bestanden. Wir melden uns zum weiteren Vorgehen.",
        "es": "Hola {{ customer.first_name }}:\n\nsu devolución {{ rma_number }} no ha superado nuestra inspección. Nos pondremos en contacto con usted sobre el siguiente paso.",
        "fr": "Bonjour {{ customer.first_name }},\n\nvotre retour {{ rma_number }} n'a pas passé notre contrôle. Nous vous contacterons pour la suite.",
    },
    "RMA: return cancelled": {
        "en": "Hello {{ customer.first_name }},\n\nyour return {{ rma_number }} has been cancelled.",
        "zh": "{{ customer.first_name }}您好：\n\n您的退货 {{ rma_number }} 已取消。",
        "de": "Hallo {{ customer.first_name }},\n\nIhre Rücksendung {{ rma_number }} wurde storniert.",
        "es": "Hola {{ customer.first_name }}:\n\nsu devolución {{ rma_number }} ha sido cancelada.",
        "fr": "Bonjour {{ customer.first_name }},\n\nvotre retour {{ rma_number }} a été annulé.",
    },
    "RMA: refund paid": {
        "en": "Hello {{ customer.first_name }},\n\nthe refund of {{ refund_amount }} for your return {{ rma_number }} has been paid.",
        "zh": "{{ customer.first_name }}您好：\n\n您的退货 {{ rma_number }} 的退款 {{ refund_amount }} 已支付。",
        "de": "Hallo {{ customer.first_name }},\n\ndie Erstattung von {{ refund_amount }} für Ihre Rücksendung {{ rma_number }} wurde ausgezahlt.",
        "es": "Hola {{ customer.first_name }}:\n\nse ha pagado el reembolso de {{ refund_amount }} de su devolución {{ rma_number }}.",
        "fr": "Bonjour {{ customer.first_name }},\n\nle remboursement de {{ refund_amount }} pour votre retour {{ rma_number }} a été versé.",
    },
    "Order: refund paid": {
        "en": "Hello {{ customer.first_name }},\n\nthe refund of {{ refund_amount }} for your order {{ order.number }} has been paid.",
        "zh": "{{ customer.first_name }}您好：\n\n您的订单 {{ order.number }} 的退款 {{ refund_amount }} 已支付。",
        "de": "Hallo {{ customer.first_name }},\n\ndie Erstattung von {{ refund_amount }} für Ihre Bestellung {{ order.number }} wurde ausgezahlt.",
        "es": "Hola {{ customer.first_name }}:\n\nse ha pagado el reembolso de {{ refund_amount }} de su pedido {{ order.number }}.",
        "fr": "Bonjour {{ customer.first_name }},\n\nle remboursement de {{ refund_amount }} pour votre commande {{ order.number }} a été versé.",
    },
    "Warranty: replacement shipped": {
        "en": "Hello {{ customer.first_name }},\n\nyour replacement is on its way. Tracking: {{ tracking.carrier }} {{ tracking.number }}\n{{ tracking.link }}",
        "zh": "{{ customer.first_name }}您好：\n\n您的换货已发出。物流：{{ tracking.carrier }} {{ tracking.number }}\n{{ tracking.link }}",
        "de": "Hallo {{ customer.first_name }},\n\nIhr Ersatzgerät ist unterwegs. Sendungsverfolgung: {{ tracking.carrier }} {{ tracking.number }}\n{{ tracking.link }}",
        "es": "Hola {{ customer.first_name }}:\n\nsu unidad de reemplazo está en camino. Seguimiento: {{ tracking.carrier }} {{ tracking.number }}\n{{ tracking.link }}",
        "fr": "Bonjour {{ customer.first_name }},\n\nvotre produit de remplacement est en route. Suivi : {{ tracking.carrier }} {{ tracking.number }}\n{{ tracking.link }}",
    },
    "Warranty: unit for repair received": {
        "en": "Hello {{ customer.first_name }},\n\nwe have received your unit for repair and will look at it shortly.",
        "zh": "{{ customer.first_name }}您好：\n\n我们已收到您送修的设备，将尽快检修。",
        "de": "Hallo {{ customer.first_name }},\n\nwir haben Ihr Gerät zur Reparatur erhalten und sehen es uns in Kürze an.",
        "es": "Hola {{ customer.first_name }}:\n\nhemos recibido su unidad para reparar y la revisaremos en breve.",
        "fr": "Bonjour {{ customer.first_name }},\n\nnous avons reçu votre appareil à réparer et allons l'examiner sous peu.",
    },
    "Warranty: repaired unit shipped back": {
        "en": "Hello {{ customer.first_name }},\n\nyour unit is on its way back to you. Tracking: {{ tracking.carrier }} {{ tracking.number }}\n{{ tracking.link }}",
        "zh": "{{ customer.first_name }}您好：\n\n您的设备已寄回。物流：{{ tracking.carrier }} {{ tracking.number }}\n{{ tracking.link }}",
        "de": "Hallo {{ customer.first_name }},\n\nIhr Gerät ist auf dem Rückweg zu Ihnen. Sendungsverfolgung: {{ tracking.carrier }} {{ tracking.number }}\n{{ tracking.link }}",
        "es": "Hola {{ customer.first_name }}:\n\nsu unidad está de vuelta hacia usted. Seguimiento: {{ tracking.carrier }} {{ tracking.number }}\n{{ tracking.link }}",
        "fr": "Bonjour {{ customer.first_name }},\n\nvotre appareil est en route pour vous être renvoyé. Suivi : {{ tracking.carrier }} {{ tracking.number }}\n{{ tracking.link }}",
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


def seed_every_organization(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    """The data migrations' step (returns 0006, 0008): the templates every organization lacks, with
    the migration's historical models."""
    organization = apps.get_model("accounts", "Organization")
    template = apps.get_model("language", "ReplyTemplate")
    variant = apps.get_model("language", "ReplyTemplateVariant")
    for organization_id in organization.objects.values_list("pk", flat=True):
        seed_templates(template, variant, organization_id)
