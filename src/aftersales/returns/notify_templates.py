# ruff: noqa: E501  (each language's text is kept in whole lines, easier to review than re-wrapped)
"""The default reply templates of the RMA and warranty customer notifications (returns.notify.
TEMPLATE_NAMES), written by hand in every language of LANGUAGES: English, Spanish, German, French,
Portuguese (Brazil), Italian, Simplified Chinese, Japanese and Arabic, so a buyer in any of them gets a
reviewed text, never a machine translation or English. Every language of a template uses the same
variables (returns/tests/test_notify_languages.py checks it). Seeded for every organization by the data
migrations returns 0006 and 0008 (the steps added later) and language 0003 (the languages added
later), by `rma_templates_seed` (an organization created later: accounts.services and the demo
world); an organization's admins edit them like any reply template (Settings > Reply templates).

A seed never overwrites what an admin made: a template that exists (by name) only gets the languages
it lacks, and a machine translation nobody reviewed yet is replaced by the written text, both only
while the template's source text is still the default one (a rewritten template's meaning is the
admins'; its other languages stay theirs or the language engine's). Variables: the language app's
template variables (rma_number, return_address, refund_amount, tracking.carrier, tracking.number,
customer.first_name, store_name...)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

DEFAULT_TEMPLATES: dict[str, dict[str, str]] = {
    "RMA: return approved": {
        "en": "Hello {{ customer.first_name }},\n\nyour return {{ rma_number }} is approved. Please pack the item with all its accessories and the RMA slip, write {{ rma_number }} on the parcel and send it to:\n\n{{ return_address }}\n\nBest regards,\n{{ store_name }}",
        "es": "Hola {{ customer.first_name }}:\n\nsu devolución {{ rma_number }} está aprobada. Empaquete el artículo con todos sus accesorios y la hoja de devolución, escriba {{ rma_number }} en el paquete y envíelo a:\n\n{{ return_address }}\n\nSaludos cordiales,\n{{ store_name }}",
        "de": "Hallo {{ customer.first_name }},\n\nIhre Rücksendung {{ rma_number }} ist genehmigt. Bitte verpacken Sie den Artikel mit allem Zubehör und dem Rücksendeschein, schreiben Sie {{ rma_number }} auf das Paket und senden Sie es an:\n\n{{ return_address }}\n\nMit freundlichen Grüßen\n{{ store_name }}",
        "fr": "Bonjour {{ customer.first_name }},\n\nvotre retour {{ rma_number }} est accepté. Emballez l'article avec tous ses accessoires et le bon de retour, inscrivez {{ rma_number }} sur le colis et envoyez-le à :\n\n{{ return_address }}\n\nCordialement,\n{{ store_name }}",
        "pt": "Olá, {{ customer.first_name }},\n\nSua devolução {{ rma_number }} foi aprovada. Embale o produto com todos os acessórios e a guia de devolução, escreva {{ rma_number }} no pacote e envie para:\n\n{{ return_address }}\n\nAtenciosamente,\n{{ store_name }}",
        "it": "Gentile {{ customer.first_name }},\n\nil suo reso {{ rma_number }} è stato approvato. Imballi l'articolo con tutti gli accessori e il modulo di reso, scriva {{ rma_number }} sul pacco e lo spedisca a:\n\n{{ return_address }}\n\nCordiali saluti,\n{{ store_name }}",
        "zh": "{{ customer.first_name }}您好：\n\n您的退货 {{ rma_number }} 已获批准。请将商品连同全部配件和退货单一起包装，在包裹上写明 {{ rma_number }}，并寄至：\n\n{{ return_address }}\n\n{{ store_name }}",
        "ja": "{{ customer.first_name }} 様\n\n返品 {{ rma_number }} を承認いたしました。商品をすべての付属品および返品伝票と一緒に梱包し、箱の外側に {{ rma_number }} とご記入のうえ、下記の住所までお送りください。\n\n{{ return_address }}\n\nどうぞよろしくお願いいたします。\n{{ store_name }}",
        "ar": "مرحبًا {{ customer.first_name }}،\n\nتمت الموافقة على طلب الإرجاع {{ rma_number }}. يُرجى تغليف المنتج مع جميع ملحقاته وقسيمة الإرجاع، وكتابة الرقم {{ rma_number }} على الطرد، ثم إرساله إلى العنوان التالي:\n\n{{ return_address }}\n\nمع أطيب التحيات،\n{{ store_name }}",
    },
    "RMA: evidence needed": {
        "en": "Hello {{ customer.first_name }},\n\nto process your return {{ rma_number }} we need a little more from you.",
        "es": "Hola {{ customer.first_name }}:\n\npara tramitar su devolución {{ rma_number }} necesitamos algo más de usted.",
        "de": "Hallo {{ customer.first_name }},\n\num Ihre Rücksendung {{ rma_number }} zu bearbeiten, benötigen wir noch etwas von Ihnen.",
        "fr": "Bonjour {{ customer.first_name }},\n\npour traiter votre retour {{ rma_number }}, nous avons besoin d'un complément.",
        "pt": "Olá, {{ customer.first_name }},\n\nPara processar sua devolução {{ rma_number }}, precisamos de mais algumas informações.",
        "it": "Gentile {{ customer.first_name }},\n\nper gestire il suo reso {{ rma_number }} abbiamo bisogno di qualche informazione in più.",
        "zh": "{{ customer.first_name }}您好：\n\n为处理您的退货 {{ rma_number }}，我们还需要您提供一些信息。",
        "ja": "{{ customer.first_name }} 様\n\n返品 {{ rma_number }} の手続きを進めるにあたり、追加でご提供いただきたいものがございます。",
        "ar": "مرحبًا {{ customer.first_name }}،\n\nلمعالجة طلب الإرجاع {{ rma_number }}، نحتاج منك إلى بعض المعلومات الإضافية.",
    },
    "RMA: return label": {
        "en": "Hello {{ customer.first_name }},\n\nthe return label for {{ rma_number }} is ready. Tracking: {{ tracking.carrier }} {{ tracking.number }}",
        "es": "Hola {{ customer.first_name }}:\n\nla etiqueta de devolución de {{ rma_number }} está lista. Seguimiento: {{ tracking.carrier }} {{ tracking.number }}",
        "de": "Hallo {{ customer.first_name }},\n\ndas Rücksendeetikett für {{ rma_number }} ist bereit. Sendungsverfolgung: {{ tracking.carrier }} {{ tracking.number }}",
        "fr": "Bonjour {{ customer.first_name }},\n\nl'étiquette de retour de {{ rma_number }} est prête. Suivi : {{ tracking.carrier }} {{ tracking.number }}",
        "pt": "Olá, {{ customer.first_name }},\n\nA etiqueta de devolução de {{ rma_number }} está pronta. Rastreamento: {{ tracking.carrier }} {{ tracking.number }}",
        "it": "Gentile {{ customer.first_name }},\n\nl'etichetta di reso per {{ rma_number }} è pronta. Tracciamento: {{ tracking.carrier }} {{ tracking.number }}",
        "zh": "{{ customer.first_name }}您好：\n\n{{ rma_number }} 的退货面单已准备好。物流：{{ tracking.carrier }} {{ tracking.number }}",
        "ja": "{{ customer.first_name }} 様\n\n返品 {{ rma_number }} の返送用ラベルをご用意しました。追跡情報：{{ tracking.carrier }} {{ tracking.number }}",
        "ar": "مرحبًا {{ customer.first_name }}،\n\nملصق الإرجاع الخاص بالطلب {{ rma_number }} جاهز. رقم التتبع: {{ tracking.carrier }} {{ tracking.number }}",
    },
    "RMA: return received": {
        "en": "Hello {{ customer.first_name }},\n\nwe have received your return {{ rma_number }} and will inspect it shortly.",
        "es": "Hola {{ customer.first_name }}:\n\nhemos recibido su devolución {{ rma_number }} y la revisaremos en breve.",
        "de": "Hallo {{ customer.first_name }},\n\nwir haben Ihre Rücksendung {{ rma_number }} erhalten und prüfen sie in Kürze.",
        "fr": "Bonjour {{ customer.first_name }},\n\nnous avons reçu votre retour {{ rma_number }} et allons le contrôler sous peu.",
        "pt": "Olá, {{ customer.first_name }},\n\nRecebemos sua devolução {{ rma_number }} e vamos inspecioná-la em breve.",
        "it": "Gentile {{ customer.first_name }},\n\nabbiamo ricevuto il suo reso {{ rma_number }} e lo controlleremo a breve.",
        "zh": "{{ customer.first_name }}您好：\n\n我们已收到您的退货 {{ rma_number }}，将尽快检验。",
        "ja": "{{ customer.first_name }} 様\n\n返品 {{ rma_number }} の商品を受け取りました。まもなく検品いたします。",
        "ar": "مرحبًا {{ customer.first_name }}،\n\nاستلمنا المرتجع {{ rma_number }} وسنقوم بفحصه قريبًا.",
    },
    "RMA: return resolved": {
        "en": "Hello {{ customer.first_name }},\n\nyour return {{ rma_number }} is complete.{% if refund_amount %} Refund: {{ refund_amount }}.{% endif %}",
        "es": "Hola {{ customer.first_name }}:\n\nsu devolución {{ rma_number }} se ha completado.{% if refund_amount %} Reembolso: {{ refund_amount }}.{% endif %}",
        "de": "Hallo {{ customer.first_name }},\n\nIhre Rücksendung {{ rma_number }} ist abgeschlossen.{% if refund_amount %} Erstattung: {{ refund_amount }}.{% endif %}",
        "fr": "Bonjour {{ customer.first_name }},\n\nvotre retour {{ rma_number }} est terminé.{% if refund_amount %} Remboursement : {{ refund_amount }}.{% endif %}",
        "pt": "Olá, {{ customer.first_name }},\n\nSua devolução {{ rma_number }} foi concluída.{% if refund_amount %} Reembolso: {{ refund_amount }}.{% endif %}",
        "it": "Gentile {{ customer.first_name }},\n\nil suo reso {{ rma_number }} è stato completato.{% if refund_amount %} Rimborso: {{ refund_amount }}.{% endif %}",
        "zh": "{{ customer.first_name }}您好：\n\n您的退货 {{ rma_number }} 已处理完毕。{% if refund_amount %}退款：{{ refund_amount }}。{% endif %}",
        "ja": "{{ customer.first_name }} 様\n\n返品 {{ rma_number }} の手続きが完了しました。{% if refund_amount %}返金額：{{ refund_amount }}{% endif %}",
        "ar": "مرحبًا {{ customer.first_name }}،\n\nاكتملت معالجة طلب الإرجاع {{ rma_number }}.{% if refund_amount %} المبلغ المسترد: {{ refund_amount }}.{% endif %}",
    },
    "RMA: return rejected": {
        "en": "Hello {{ customer.first_name }},\n\nwe are sorry: your return {{ rma_number }} could not be accepted.",
        "es": "Hola {{ customer.first_name }}:\n\nlo sentimos: su devolución {{ rma_number }} no ha podido aceptarse.",
        "de": "Hallo {{ customer.first_name }},\n\nes tut uns leid: Ihre Rücksendung {{ rma_number }} konnte nicht angenommen werden.",
        "fr": "Bonjour {{ customer.first_name }},\n\nnous sommes désolés : votre retour {{ rma_number }} n'a pas pu être accepté.",
        "pt": "Olá, {{ customer.first_name }},\n\nLamentamos, mas sua devolução {{ rma_number }} não pôde ser aceita.",
        "it": "Gentile {{ customer.first_name }},\n\nci dispiace, ma il suo reso {{ rma_number }} non è stato accettato.",
        "zh": "{{ customer.first_name }}您好：\n\n很抱歉，您的退货 {{ rma_number }} 未能被接受。",
        "ja": "{{ customer.first_name }} 様\n\n誠に申し訳ございませんが、返品 {{ rma_number }} はお受けすることができませんでした。",
        "ar": "مرحبًا {{ customer.first_name }}،\n\nنأسف لإبلاغك بأنه تعذّر قبول طلب الإرجاع {{ rma_number }}.",
    },
    "RMA: partial refund offer": {
        "en": "Hello {{ customer.first_name }},\n\nabout your return {{ rma_number }}: you may keep the item and receive a partial refund of {{ refund_amount }}. Just reply to accept.",
        "es": "Hola {{ customer.first_name }}:\n\nsobre su devolución {{ rma_number }}: puede quedarse el artículo y recibir un reembolso parcial de {{ refund_amount }}. Responda para aceptar.",
        "de": "Hallo {{ customer.first_name }},\n\nzu Ihrer Rücksendung {{ rma_number }}: Sie können den Artikel behalten und erhalten eine Teilerstattung von {{ refund_amount }}. Antworten Sie einfach, um anzunehmen.",
        "fr": "Bonjour {{ customer.first_name }},\n\nà propos de votre retour {{ rma_number }} : vous pouvez garder l'article et recevoir un remboursement partiel de {{ refund_amount }}. Répondez simplement pour accepter.",
        "pt": "Olá, {{ customer.first_name }},\n\nSobre sua devolução {{ rma_number }}: você pode ficar com o produto e receber um reembolso parcial de {{ refund_amount }}. Basta responder a esta mensagem para aceitar.",
        "it": "Gentile {{ customer.first_name }},\n\nin merito al suo reso {{ rma_number }}: può tenere l'articolo e ricevere un rimborso parziale di {{ refund_amount }}. Per accettare, basta rispondere a questo messaggio.",
        "zh": "{{ customer.first_name }}您好：\n\n关于您的退货 {{ rma_number }}：您可以保留商品并获得 {{ refund_amount }} 的部分退款。如同意，请直接回复。",
        "ja": "{{ customer.first_name }} 様\n\n返品 {{ rma_number }} について、商品をお手元に残していただいたまま {{ refund_amount }} の一部返金をお受けいただくこともできます。ご希望の場合は、このメッセージにご返信ください。",
        "ar": "مرحبًا {{ customer.first_name }}،\n\nبخصوص طلب الإرجاع {{ rma_number }}: يمكنك الاحتفاظ بالمنتج والحصول على استرداد جزئي بقيمة {{ refund_amount }}. للموافقة، يكفي الرد على هذه الرسالة.",
    },
    "RMA: return parcel on its way": {
        "en": "Hello {{ customer.first_name }},\n\nyour return parcel {{ rma_number }} is on its way to us. Tracking: {{ tracking.carrier }} {{ tracking.number }}",
        "es": "Hola {{ customer.first_name }}:\n\nsu paquete de devolución {{ rma_number }} está en camino hacia nosotros. Seguimiento: {{ tracking.carrier }} {{ tracking.number }}",
        "de": "Hallo {{ customer.first_name }},\n\nIhr Rücksendepaket {{ rma_number }} ist auf dem Weg zu uns. Sendungsverfolgung: {{ tracking.carrier }} {{ tracking.number }}",
        "fr": "Bonjour {{ customer.first_name }},\n\nvotre colis de retour {{ rma_number }} est en route vers nous. Suivi : {{ tracking.carrier }} {{ tracking.number }}",
        "pt": "Olá, {{ customer.first_name }},\n\nO pacote da sua devolução {{ rma_number }} está a caminho do nosso armazém. Rastreamento: {{ tracking.carrier }} {{ tracking.number }}",
        "it": "Gentile {{ customer.first_name }},\n\nil pacco del suo reso {{ rma_number }} è in viaggio verso di noi. Tracciamento: {{ tracking.carrier }} {{ tracking.number }}",
        "zh": "{{ customer.first_name }}您好：\n\n您的退货包裹 {{ rma_number }} 正在寄回途中。物流：{{ tracking.carrier }} {{ tracking.number }}",
        "ja": "{{ customer.first_name }} 様\n\n返品 {{ rma_number }} のお荷物は、当店へ向けて輸送中です。追跡情報：{{ tracking.carrier }} {{ tracking.number }}",
        "ar": "مرحبًا {{ customer.first_name }}،\n\nطرد الإرجاع {{ rma_number }} في طريقه إلينا. رقم التتبع: {{ tracking.carrier }} {{ tracking.number }}",
    },
    "RMA: return parcel delivered": {
        "en": "Hello {{ customer.first_name }},\n\nyour return parcel {{ rma_number }} has been delivered to our warehouse. We will check it in shortly.",
        "es": "Hola {{ customer.first_name }}:\n\nsu paquete de devolución {{ rma_number }} se ha entregado en nuestro almacén. Lo registraremos en breve.",
        "de": "Hallo {{ customer.first_name }},\n\nIhr Rücksendepaket {{ rma_number }} wurde in unserem Lager zugestellt. Wir erfassen es in Kürze.",
        "fr": "Bonjour {{ customer.first_name }},\n\nvotre colis de retour {{ rma_number }} a été livré à notre entrepôt. Nous l'enregistrons sous peu.",
        "pt": "Olá, {{ customer.first_name }},\n\nO pacote da sua devolução {{ rma_number }} foi entregue em nosso armazém. Vamos registrá-lo em breve.",
        "it": "Gentile {{ customer.first_name }},\n\nil pacco del suo reso {{ rma_number }} è stato consegnato al nostro magazzino. Lo registreremo a breve.",
        "zh": "{{ customer.first_name }}您好：\n\n您的退货包裹 {{ rma_number }} 已送达我们的仓库，我们将尽快入库。",
        "ja": "{{ customer.first_name }} 様\n\n返品 {{ rma_number }} のお荷物が当店の倉庫に到着しました。まもなく受け取りの手続きを行います。",
        "ar": "مرحبًا {{ customer.first_name }}،\n\nوصل طرد الإرجاع {{ rma_number }} إلى مستودعنا، وسنقوم بتسجيل استلامه قريبًا.",
    },
    "RMA: inspection passed": {
        "en": "Hello {{ customer.first_name }},\n\nyour return {{ rma_number }} passed our inspection. We are now completing your return.",
        "es": "Hola {{ customer.first_name }}:\n\nsu devolución {{ rma_number }} ha superado nuestra inspección. Ahora completamos su devolución.",
        "de": "Hallo {{ customer.first_name }},\n\nIhre Rücksendung {{ rma_number }} hat unsere Prüfung bestanden. Wir schließen Ihre Rücksendung jetzt ab.",
        "fr": "Bonjour {{ customer.first_name }},\n\nvotre retour {{ rma_number }} a passé notre contrôle. Nous finalisons maintenant votre retour.",
        "pt": "Olá, {{ customer.first_name }},\n\nSua devolução {{ rma_number }} foi aprovada na nossa inspeção. Agora estamos finalizando sua devolução.",
        "it": "Gentile {{ customer.first_name }},\n\nil suo reso {{ rma_number }} ha superato il nostro controllo. Stiamo ora completando la pratica di reso.",
        "zh": "{{ customer.first_name }}您好：\n\n您的退货 {{ rma_number }} 已通过检验，我们正在为您完成退货处理。",
        "ja": "{{ customer.first_name }} 様\n\n返品 {{ rma_number }} の商品は検品を通過しました。引き続き返品の手続きを進めてまいります。",
        "ar": "مرحبًا {{ customer.first_name }}،\n\nاجتاز المرتجع {{ rma_number }} الفحص لدينا، ونعمل الآن على إتمام طلب الإرجاع.",
    },
    "RMA: inspection failed": {
        "en": "Hello {{ customer.first_name }},\n\nyour return {{ rma_number }} did not pass our inspection. We will contact you about the next step.",
        "es": "Hola {{ customer.first_name }}:\n\nsu devolución {{ rma_number }} no ha superado nuestra inspección. Nos pondremos en contacto con usted sobre el siguiente paso.",
        "de": "Hallo {{ customer.first_name }},\n\nIhre Rücksendung {{ rma_number }} hat unsere Prüfung nicht bestanden. Wir melden uns zum weiteren Vorgehen.",
        "fr": "Bonjour {{ customer.first_name }},\n\nvotre retour {{ rma_number }} n'a pas passé notre contrôle. Nous vous contacterons pour la suite.",
        "pt": "Olá, {{ customer.first_name }},\n\nSua devolução {{ rma_number }} não foi aprovada na nossa inspeção. Entraremos em contato sobre o próximo passo.",
        "it": "Gentile {{ customer.first_name }},\n\nil suo reso {{ rma_number }} non ha superato il nostro controllo. La contatteremo per i prossimi passi.",
        "zh": "{{ customer.first_name }}您好：\n\n您的退货 {{ rma_number }} 未通过检验，我们会就后续处理与您联系。",
        "ja": "{{ customer.first_name }} 様\n\n誠に恐れ入りますが、返品 {{ rma_number }} の商品は検品の基準を満たしませんでした。今後のご対応について、改めてご連絡いたします。",
        "ar": "مرحبًا {{ customer.first_name }}،\n\nلم يجتز المرتجع {{ rma_number }} الفحص لدينا. سنتواصل معك بشأن الخطوة التالية.",
    },
    "RMA: return cancelled": {
        "en": "Hello {{ customer.first_name }},\n\nyour return {{ rma_number }} has been cancelled.",
        "es": "Hola {{ customer.first_name }}:\n\nsu devolución {{ rma_number }} ha sido cancelada.",
        "de": "Hallo {{ customer.first_name }},\n\nIhre Rücksendung {{ rma_number }} wurde storniert.",
        "fr": "Bonjour {{ customer.first_name }},\n\nvotre retour {{ rma_number }} a été annulé.",
        "pt": "Olá, {{ customer.first_name }},\n\nSua devolução {{ rma_number }} foi cancelada.",
        "it": "Gentile {{ customer.first_name }},\n\nil suo reso {{ rma_number }} è stato annullato.",
        "zh": "{{ customer.first_name }}您好：\n\n您的退货 {{ rma_number }} 已取消。",
        "ja": "{{ customer.first_name }} 様\n\n返品 {{ rma_number }} はキャンセルされました。",
        "ar": "مرحبًا {{ customer.first_name }}،\n\nتم إلغاء طلب الإرجاع {{ rma_number }}.",
    },
    "RMA: refund paid": {
        "en": "Hello {{ customer.first_name }},\n\nthe refund of {{ refund_amount }} for your return {{ rma_number }} has been paid.",
        "es": "Hola {{ customer.first_name }}:\n\nse ha pagado el reembolso de {{ refund_amount }} de su devolución {{ rma_number }}.",
        "de": "Hallo {{ customer.first_name }},\n\ndie Erstattung von {{ refund_amount }} für Ihre Rücksendung {{ rma_number }} wurde ausgezahlt.",
        "fr": "Bonjour {{ customer.first_name }},\n\nle remboursement de {{ refund_amount }} pour votre retour {{ rma_number }} a été versé.",
        "pt": "Olá, {{ customer.first_name }},\n\nO reembolso de {{ refund_amount }} da sua devolução {{ rma_number }} foi pago.",
        "it": "Gentile {{ customer.first_name }},\n\nil rimborso di {{ refund_amount }} per il suo reso {{ rma_number }} è stato effettuato.",
        "zh": "{{ customer.first_name }}您好：\n\n您的退货 {{ rma_number }} 的退款 {{ refund_amount }} 已支付。",
        "ja": "{{ customer.first_name }} 様\n\n返品 {{ rma_number }} の返金（{{ refund_amount }}）のお支払いが完了しました。",
        "ar": "مرحبًا {{ customer.first_name }}،\n\nتم صرف المبلغ المسترد {{ refund_amount }} الخاص بطلب الإرجاع {{ rma_number }}.",
    },
    "Order: refund paid": {
        "en": "Hello {{ customer.first_name }},\n\nthe refund of {{ refund_amount }} for your order {{ order.number }} has been paid.",
        "es": "Hola {{ customer.first_name }}:\n\nse ha pagado el reembolso de {{ refund_amount }} de su pedido {{ order.number }}.",
        "de": "Hallo {{ customer.first_name }},\n\ndie Erstattung von {{ refund_amount }} für Ihre Bestellung {{ order.number }} wurde ausgezahlt.",
        "fr": "Bonjour {{ customer.first_name }},\n\nle remboursement de {{ refund_amount }} pour votre commande {{ order.number }} a été versé.",
        "pt": "Olá, {{ customer.first_name }},\n\nO reembolso de {{ refund_amount }} do seu pedido {{ order.number }} foi pago.",
        "it": "Gentile {{ customer.first_name }},\n\nil rimborso di {{ refund_amount }} per il suo ordine {{ order.number }} è stato effettuato.",
        "zh": "{{ customer.first_name }}您好：\n\n您的订单 {{ order.number }} 的退款 {{ refund_amount }} 已支付。",
        "ja": "{{ customer.first_name }} 様\n\nご注文 {{ order.number }} の返金（{{ refund_amount }}）のお支払いが完了しました。",
        "ar": "مرحبًا {{ customer.first_name }}،\n\nتم صرف المبلغ المسترد {{ refund_amount }} الخاص بطلبك رقم {{ order.number }}.",
    },
    "Warranty: replacement shipped": {
        "en": "Hello {{ customer.first_name }},\n\nyour replacement is on its way. Tracking: {{ tracking.carrier }} {{ tracking.number }}\n{{ tracking.link }}",
        "es": "Hola {{ customer.first_name }}:\n\nsu unidad de reemplazo está en camino. Seguimiento: {{ tracking.carrier }} {{ tracking.number }}\n{{ tracking.link }}",
        "de": "Hallo {{ customer.first_name }},\n\nIhr Ersatzgerät ist unterwegs. Sendungsverfolgung: {{ tracking.carrier }} {{ tracking.number }}\n{{ tracking.link }}",
        "fr": "Bonjour {{ customer.first_name }},\n\nvotre produit de remplacement est en route. Suivi : {{ tracking.carrier }} {{ tracking.number }}\n{{ tracking.link }}",
        "pt": "Olá, {{ customer.first_name }},\n\nSeu produto de substituição está a caminho. Rastreamento: {{ tracking.carrier }} {{ tracking.number }}\n{{ tracking.link }}",
        "it": "Gentile {{ customer.first_name }},\n\nil prodotto sostitutivo è in viaggio. Tracciamento: {{ tracking.carrier }} {{ tracking.number }}\n{{ tracking.link }}",
        "zh": "{{ customer.first_name }}您好：\n\n您的换货已发出。物流：{{ tracking.carrier }} {{ tracking.number }}\n{{ tracking.link }}",
        "ja": "{{ customer.first_name }} 様\n\n交換品を発送いたしました。追跡情報：{{ tracking.carrier }} {{ tracking.number }}\n{{ tracking.link }}",
        "ar": "مرحبًا {{ customer.first_name }}،\n\nتم شحن المنتج البديل وهو في طريقه إليك. رقم التتبع: {{ tracking.carrier }} {{ tracking.number }}\n{{ tracking.link }}",
    },
    "Warranty: unit for repair received": {
        "en": "Hello {{ customer.first_name }},\n\nwe have received your unit for repair and will look at it shortly.",
        "es": "Hola {{ customer.first_name }}:\n\nhemos recibido su unidad para reparar y la revisaremos en breve.",
        "de": "Hallo {{ customer.first_name }},\n\nwir haben Ihr Gerät zur Reparatur erhalten und sehen es uns in Kürze an.",
        "fr": "Bonjour {{ customer.first_name }},\n\nnous avons reçu votre appareil à réparer et allons l'examiner sous peu.",
        "pt": "Olá, {{ customer.first_name }},\n\nRecebemos seu aparelho para reparo e vamos avaliá-lo em breve.",
        "it": "Gentile {{ customer.first_name }},\n\nabbiamo ricevuto il suo dispositivo da riparare e lo esamineremo a breve.",
        "zh": "{{ customer.first_name }}您好：\n\n我们已收到您送修的设备，将尽快检修。",
        "ja": "{{ customer.first_name }} 様\n\n修理のためにお送りいただいた製品を受け取りました。まもなく点検いたします。",
        "ar": "مرحبًا {{ customer.first_name }}،\n\nاستلمنا جهازك المُرسَل للإصلاح وسنقوم بفحصه قريبًا.",
    },
    "Warranty: repaired unit shipped back": {
        "en": "Hello {{ customer.first_name }},\n\nyour unit is on its way back to you. Tracking: {{ tracking.carrier }} {{ tracking.number }}\n{{ tracking.link }}",
        "es": "Hola {{ customer.first_name }}:\n\nsu unidad está de vuelta hacia usted. Seguimiento: {{ tracking.carrier }} {{ tracking.number }}\n{{ tracking.link }}",
        "de": "Hallo {{ customer.first_name }},\n\nIhr Gerät ist auf dem Rückweg zu Ihnen. Sendungsverfolgung: {{ tracking.carrier }} {{ tracking.number }}\n{{ tracking.link }}",
        "fr": "Bonjour {{ customer.first_name }},\n\nvotre appareil est en route pour vous être renvoyé. Suivi : {{ tracking.carrier }} {{ tracking.number }}\n{{ tracking.link }}",
        "pt": "Olá, {{ customer.first_name }},\n\nSeu aparelho está a caminho de volta para você. Rastreamento: {{ tracking.carrier }} {{ tracking.number }}\n{{ tracking.link }}",
        "it": "Gentile {{ customer.first_name }},\n\nil suo dispositivo le è stato rispedito. Tracciamento: {{ tracking.carrier }} {{ tracking.number }}\n{{ tracking.link }}",
        "zh": "{{ customer.first_name }}您好：\n\n您的设备已寄回。物流：{{ tracking.carrier }} {{ tracking.number }}\n{{ tracking.link }}",
        "ja": "{{ customer.first_name }} 様\n\nお預かりしていた製品をご返送いたしました。追跡情報：{{ tracking.carrier }} {{ tracking.number }}\n{{ tracking.link }}",
        "ar": "مرحبًا {{ customer.first_name }}،\n\nجهازك في طريق العودة إليك. رقم التتبع: {{ tracking.carrier }} {{ tracking.number }}\n{{ tracking.link }}",
    },
}


# The warranty-expiry reminder (warranty.services.reminders_queue): seeded beside the notifications (category
# warranty_repair), used when the organization chose no other template in its warranty settings. Variables:
# product.name, product.sku, warranty.imei / warranty.serial_number (masked to their last digits),
# warranty.ends_on (the last covered day in the buyer's locale), warranty.days_left. How to claim: a reply
# in the thread the reminder arrives in (there is no claim page in the buyer portal).
WARRANTY_REMINDER = "Warranty: expiry reminder"
REMINDER_TEMPLATES: dict[str, dict[str, str]] = {
    WARRANTY_REMINDER: {
        "en": "Hello {{ customer.first_name }},\n\nthe warranty of your {{ product.name }}{% if warranty.imei %} (IMEI {{ warranty.imei }}){% elif warranty.serial_number %} (serial number {{ warranty.serial_number }}){% endif %} ends on {{ warranty.ends_on }} (days left: {{ warranty.days_left }}).\n\nIf anything is wrong with it, reply to this message before then and describe the problem, with a photo or a video if you can: we will repair or replace it under the warranty.\n\nBest regards,\n{{ store_name }}",
        "es": "Hola {{ customer.first_name }}:\n\nla garantía de su {{ product.name }}{% if warranty.imei %} (IMEI {{ warranty.imei }}){% elif warranty.serial_number %} (número de serie {{ warranty.serial_number }}){% endif %} vence el {{ warranty.ends_on }} (días restantes: {{ warranty.days_left }}).\n\nSi algo no funciona bien, responda a este mensaje antes de esa fecha y describa el problema, con una foto o un vídeo si puede: lo repararemos o lo sustituiremos en garantía.\n\nSaludos cordiales,\n{{ store_name }}",
        "de": "Hallo {{ customer.first_name }},\n\ndie Garantie Ihres Artikels {{ product.name }}{% if warranty.imei %} (IMEI {{ warranty.imei }}){% elif warranty.serial_number %} (Seriennummer {{ warranty.serial_number }}){% endif %} endet am {{ warranty.ends_on }} (verbleibende Tage: {{ warranty.days_left }}).\n\nFalls etwas nicht in Ordnung ist, antworten Sie bitte vorher auf diese Nachricht und beschreiben Sie das Problem, wenn möglich mit einem Foto oder Video: Wir reparieren oder ersetzen den Artikel im Rahmen der Garantie.\n\nMit freundlichen Grüßen\n{{ store_name }}",
        "fr": "Bonjour {{ customer.first_name }},\n\nla garantie de votre article {{ product.name }}{% if warranty.imei %} (IMEI {{ warranty.imei }}){% elif warranty.serial_number %} (numéro de série {{ warranty.serial_number }}){% endif %} prend fin le {{ warranty.ends_on }} (jours restants : {{ warranty.days_left }}).\n\nSi quelque chose ne va pas, répondez à ce message avant cette date en décrivant le problème, avec une photo ou une vidéo si possible : nous le réparerons ou le remplacerons au titre de la garantie.\n\nCordialement,\n{{ store_name }}",
        "pt": "Olá, {{ customer.first_name }},\n\nA garantia do seu produto {{ product.name }}{% if warranty.imei %} (IMEI {{ warranty.imei }}){% elif warranty.serial_number %} (número de série {{ warranty.serial_number }}){% endif %} termina em {{ warranty.ends_on }} (dias restantes: {{ warranty.days_left }}).\n\nSe algo estiver errado, responda a esta mensagem antes dessa data descrevendo o problema, com uma foto ou um vídeo, se possível: faremos o reparo ou a troca pela garantia.\n\nAtenciosamente,\n{{ store_name }}",
        "it": "Gentile {{ customer.first_name }},\n\nla garanzia del suo prodotto {{ product.name }}{% if warranty.imei %} (IMEI {{ warranty.imei }}){% elif warranty.serial_number %} (numero di serie {{ warranty.serial_number }}){% endif %} scade il {{ warranty.ends_on }} (giorni rimanenti: {{ warranty.days_left }}).\n\nSe qualcosa non funziona, risponda a questo messaggio entro quella data descrivendo il problema, se possibile con una foto o un video: lo ripareremo o lo sostituiremo in garanzia.\n\nCordiali saluti,\n{{ store_name }}",
        "zh": "{{ customer.first_name }}您好：\n\n您的 {{ product.name }}{% if warranty.imei %}（IMEI {{ warranty.imei }}）{% elif warranty.serial_number %}（序列号 {{ warranty.serial_number }}）{% endif %}保修将于 {{ warranty.ends_on }} 到期（剩余 {{ warranty.days_left }} 天）。\n\n如有任何问题，请在此之前回复本消息并描述问题，如可能请附上照片或视频：我们将在保修范围内为您维修或更换。\n\n{{ store_name }}",
        "ja": "{{ customer.first_name }} 様\n\nご購入いただいた {{ product.name }}{% if warranty.imei %}（IMEI {{ warranty.imei }}）{% elif warranty.serial_number %}（シリアル番号 {{ warranty.serial_number }}）{% endif %}の保証期間は {{ warranty.ends_on }} までです（残り {{ warranty.days_left }} 日）。\n\n不具合がございましたら、期限までにこのメッセージにご返信のうえ、症状をお知らせください。可能であれば写真や動画を添えてください。保証に基づき修理または交換いたします。\n\nどうぞよろしくお願いいたします。\n{{ store_name }}",
        "ar": "مرحبًا {{ customer.first_name }}،\n\nينتهي ضمان {{ product.name }}{% if warranty.imei %} (IMEI {{ warranty.imei }}){% elif warranty.serial_number %} (الرقم التسلسلي {{ warranty.serial_number }}){% endif %} في {{ warranty.ends_on }} (الأيام المتبقية: {{ warranty.days_left }}).\n\nإذا كانت هناك أي مشكلة في المنتج، يُرجى الرد على هذه الرسالة قبل ذلك التاريخ مع وصف المشكلة، وإرفاق صورة أو مقطع فيديو إن أمكن، وسنقوم بإصلاحه أو استبداله بموجب الضمان.\n\nمع أطيب التحيات،\n{{ store_name }}",
    },
}
CATEGORIES = {WARRANTY_REMINDER: "warranty_repair"}


LANGUAGES = ("en", "es", "de", "fr", "pt", "it", "zh", "ja", "ar")
ALL_TEMPLATES = {**DEFAULT_TEMPLATES, **REMINDER_TEMPLATES}


def _complete_variants(variant_model: type, template: Any, bodies: dict[str, str]) -> int:
    """Give an existing default template the written languages it lacks, and replace its machine
    translations still awaiting review, while its source text is the default one. Returns how many
    variants were written."""
    variants = {v.language: v for v in variant_model.objects.filter(template=template)}  # type: ignore[attr-defined]
    source = variants.get(template.source_language)
    default_source = bodies.get(template.source_language)
    if source is None or default_source is None or source.body.strip() != default_source.strip():
        return 0
    written = 0
    for language, body in bodies.items():
        variant = variants.get(language)
        if variant is None:
            try:
                with transaction.atomic():
                    variant_model.objects.create(template=template, language=language, body=body)  # type: ignore[attr-defined]
            except IntegrityError:
                continue  # created concurrently
            written += 1
        elif variant.is_machine_translated and variant.needs_review:
            variant.body, variant.is_machine_translated, variant.needs_review, variant.provider = body, False, False, ""
            variant.save(update_fields=["body", "is_machine_translated", "needs_review", "provider"])
            written += 1
    return written


def seed_templates(
    template_model: type, variant_model: type, organization_id: int, templates: dict[str, dict[str, str]] | None = None
) -> int:
    """Create the default templates (`templates`, else ALL_TEMPLATES: the notifications and the
    reminder) an organization lacks (by name), with a variant per language, and complete the existing
    ones (_complete_variants). Takes the models as arguments so the data migrations can pass their
    historical ones. Returns how many templates were created."""
    created = 0
    for name, bodies in (templates if templates is not None else ALL_TEMPLATES).items():
        existing = template_model.objects.filter(organization_id=organization_id, name=name).first()  # type: ignore[attr-defined]
        if existing is not None:
            _complete_variants(variant_model, existing, bodies)
            continue
        try:
            with transaction.atomic():
                template = template_model.objects.create(  # type: ignore[attr-defined]
                    organization_id=organization_id,
                    name=name,
                    source_language="en",
                    category=CATEGORIES.get(name, "return"),
                )
                for language, body in bodies.items():
                    variant_model.objects.create(template=template, language=language, body=body)  # type: ignore[attr-defined]
        except IntegrityError:
            continue  # created concurrently
        created += 1
    return created


def rma_templates_seed(*, organization_id: int) -> int:
    """The default RMA and warranty notification templates and the warranty-expiry reminder for one
    organization (an organization created after the data migrations, the demo's); existing templates
    only get what _complete_variants adds."""
    from aftersales.language.models import ReplyTemplate, ReplyTemplateVariant

    return seed_templates(ReplyTemplate, ReplyTemplateVariant, organization_id)


def seed_every_organization(apps, schema_editor, templates: dict[str, dict[str, str]] | None = None) -> None:  # type: ignore[no-untyped-def]
    """The data migrations' step (returns 0006, 0008, language 0003; language 0004 with
    REMINDER_TEMPLATES only): the templates and languages every organization lacks, with the
    migration's historical models."""
    organization = apps.get_model("accounts", "Organization")
    template = apps.get_model("language", "ReplyTemplate")
    variant = apps.get_model("language", "ReplyTemplateVariant")
    for organization_id in organization.objects.values_list("pk", flat=True):
        seed_templates(template, variant, organization_id, templates)
