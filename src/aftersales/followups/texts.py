"""What the buyer reads, in the buyer's language: the built-in follow-up messages (used when the
organization has set no reply template for that follow-up) and the CSAT rating page. Buyers write in
many more languages than the agent UI speaks, so these texts are a catalogue of their own, kept
here beside the follow-ups rather than in the agent UI's gettext catalogue (which speaks en and
zh-Hans). `%(name)s` placeholders are filled by `text()`. Arabic is written right to left."""

from __future__ import annotations

from typing import Final

DEFAULT: Final = "en"
RTL_LANGUAGES: Final = frozenset({"ar"})

TEXTS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "csat_invite": (
            "Your request about order %(order)s has been solved. How did we do? Rate us in one click: %(link)s"
        ),
        "stall_notice": (
            "We noticed that the parcel %(tracking)s for your order %(order)s has not moved for %(days)s days. "
            "We are checking with the carrier and will get back to you. Sorry for the wait."
        ),
        "thanks_coupon": (
            "Thank you for your patience with order %(order)s. As an apology, here is a coupon code for your next "
            "order: %(code)s"
        ),
        "page_title": "How did we do?",
        "question": "How satisfied are you with how we handled your request?",
        "rating_1": "Very unsatisfied",
        "rating_2": "Unsatisfied",
        "rating_3": "Neutral",
        "rating_4": "Satisfied",
        "rating_5": "Very satisfied",
        "comment": "Anything you would like to add? (optional)",
        "submit": "Send",
        "thanks": "Thank you for your feedback!",
        "your_rating": "Your rating: %(rating)s of 5.",
        "change_until": "You can change your rating until %(day)s.",
        "invalid": "This link is not valid. Please use the link from our message as it was sent.",
        "expired": "This survey has closed. Thank you all the same.",
        "too_many": "Too many attempts. Please try again in a minute.",
        "rating_error": "Please choose a rating from 1 to 5.",
    },
    "zh-hans": {
        "csat_invite": "您关于订单 %(order)s 的问题已解决。我们的服务如何？一键评分：%(link)s",
        "stall_notice": (
            "我们注意到您订单 %(order)s 的包裹 %(tracking)s 已经 %(days)s 天没有物流更新。"
            "我们正在与承运商核实，稍后会联系您。抱歉让您久等。"
        ),
        "thanks_coupon": "感谢您对订单 %(order)s 的耐心。为表歉意，这是您下次购物可用的优惠码：%(code)s",
        "page_title": "我们的服务如何？",
        "question": "您对我们处理您问题的方式满意吗？",
        "rating_1": "非常不满意",
        "rating_2": "不满意",
        "rating_3": "一般",
        "rating_4": "满意",
        "rating_5": "非常满意",
        "comment": "还有什么想告诉我们的吗？（可选）",
        "submit": "提交",
        "thanks": "感谢您的反馈！",
        "your_rating": "您的评分：%(rating)s / 5。",
        "change_until": "您可以在 %(day)s 之前修改评分。",
        "invalid": "此链接无效。请使用我们消息中的原始链接。",
        "expired": "此调查已结束。仍然感谢您。",
        "too_many": "尝试次数过多，请一分钟后再试。",
        "rating_error": "请选择 1 到 5 的评分。",
    },
    "de": {
        "csat_invite": (
            "Ihr Anliegen zur Bestellung %(order)s ist erledigt. Wie waren wir? Bewerten Sie uns mit einem Klick: "
            "%(link)s"
        ),
        "stall_notice": (
            "Uns ist aufgefallen, dass sich das Paket %(tracking)s Ihrer Bestellung %(order)s seit %(days)s Tagen "
            "nicht bewegt hat. Wir klären das mit dem Versanddienstleister und melden uns. Entschuldigen Sie die "
            "Wartezeit."
        ),
        "thanks_coupon": (
            "Danke für Ihre Geduld mit der Bestellung %(order)s. Als Entschuldigung erhalten Sie einen Gutscheincode "
            "für Ihre nächste Bestellung: %(code)s"
        ),
        "page_title": "Wie waren wir?",
        "question": "Wie zufrieden sind Sie mit der Bearbeitung Ihres Anliegens?",
        "rating_1": "Sehr unzufrieden",
        "rating_2": "Unzufrieden",
        "rating_3": "Neutral",
        "rating_4": "Zufrieden",
        "rating_5": "Sehr zufrieden",
        "comment": "Möchten Sie noch etwas hinzufügen? (optional)",
        "submit": "Senden",
        "thanks": "Vielen Dank für Ihr Feedback!",
        "your_rating": "Ihre Bewertung: %(rating)s von 5.",
        "change_until": "Sie können Ihre Bewertung bis %(day)s ändern.",
        "invalid": "Dieser Link ist ungültig. Bitte verwenden Sie den Link aus unserer Nachricht unverändert.",
        "expired": "Diese Umfrage ist beendet. Trotzdem vielen Dank.",
        "too_many": "Zu viele Versuche. Bitte versuchen Sie es in einer Minute erneut.",
        "rating_error": "Bitte wählen Sie eine Bewertung von 1 bis 5.",
    },
    "es": {
        "csat_invite": (
            "Su consulta sobre el pedido %(order)s está resuelta. ¿Qué tal lo hicimos? Valórenos con un clic: %(link)s"
        ),
        "stall_notice": (
            "Hemos visto que el paquete %(tracking)s de su pedido %(order)s lleva %(days)s días sin movimiento. "
            "Lo estamos comprobando con el transportista y le responderemos. Disculpe la espera."
        ),
        "thanks_coupon": (
            "Gracias por su paciencia con el pedido %(order)s. Como disculpa, aquí tiene un código de descuento para "
            "su próximo pedido: %(code)s"
        ),
        "page_title": "¿Qué tal lo hicimos?",
        "question": "¿Qué tan satisfecho está con la gestión de su consulta?",
        "rating_1": "Muy insatisfecho",
        "rating_2": "Insatisfecho",
        "rating_3": "Neutral",
        "rating_4": "Satisfecho",
        "rating_5": "Muy satisfecho",
        "comment": "¿Algo más que quiera añadir? (opcional)",
        "submit": "Enviar",
        "thanks": "¡Gracias por su opinión!",
        "your_rating": "Su valoración: %(rating)s de 5.",
        "change_until": "Puede cambiar su valoración hasta el %(day)s.",
        "invalid": "Este enlace no es válido. Use el enlace de nuestro mensaje tal como se envió.",
        "expired": "Esta encuesta ha finalizado. Gracias de todos modos.",
        "too_many": "Demasiados intentos. Inténtelo de nuevo en un minuto.",
        "rating_error": "Elija una valoración del 1 al 5.",
    },
    "fr": {
        "csat_invite": (
            "Votre demande concernant la commande %(order)s est résolue. Comment nous sommes-nous débrouillés ? "
            "Notez-nous en un clic : %(link)s"
        ),
        "stall_notice": (
            "Nous avons remarqué que le colis %(tracking)s de votre commande %(order)s n'a pas bougé depuis "
            "%(days)s jours. Nous vérifions auprès du transporteur et revenons vers vous. Désolés pour l'attente."
        ),
        "thanks_coupon": (
            "Merci pour votre patience concernant la commande %(order)s. Pour nous excuser, voici un code de "
            "réduction pour votre prochaine commande : %(code)s"
        ),
        "page_title": "Comment nous sommes-nous débrouillés ?",
        "question": "Êtes-vous satisfait de la façon dont nous avons traité votre demande ?",
        "rating_1": "Très insatisfait",
        "rating_2": "Insatisfait",
        "rating_3": "Neutre",
        "rating_4": "Satisfait",
        "rating_5": "Très satisfait",
        "comment": "Souhaitez-vous ajouter quelque chose ? (facultatif)",
        "submit": "Envoyer",
        "thanks": "Merci pour votre avis !",
        "your_rating": "Votre note : %(rating)s sur 5.",
        "change_until": "Vous pouvez modifier votre note jusqu'au %(day)s.",
        "invalid": "Ce lien n'est pas valide. Utilisez le lien de notre message tel qu'il a été envoyé.",
        "expired": "Cette enquête est terminée. Merci quand même.",
        "too_many": "Trop de tentatives. Réessayez dans une minute.",
        "rating_error": "Choisissez une note de 1 à 5.",
    },
    "ja": {
        "csat_invite": (
            "ご注文 %(order)s に関するお問い合わせは解決しました。対応はいかがでしたか？"
            "ワンクリックで評価してください：%(link)s"
        ),
        "stall_notice": (
            "ご注文 %(order)s の荷物 %(tracking)s の配送状況が %(days)s 日間更新されていません。"
            "配送業者に確認のうえ、改めてご連絡いたします。お待たせして申し訳ございません。"
        ),
        "thanks_coupon": (
            "ご注文 %(order)s の件ではご辛抱いただきありがとうございました。"
            "お詫びとして、次回のご注文にご利用いただけるクーポンコードをお送りします：%(code)s"
        ),
        "page_title": "対応はいかがでしたか？",
        "question": "お問い合わせへの対応にどの程度ご満足いただけましたか？",
        "rating_1": "非常に不満",
        "rating_2": "不満",
        "rating_3": "普通",
        "rating_4": "満足",
        "rating_5": "非常に満足",
        "comment": "ご意見があればお聞かせください（任意）",
        "submit": "送信",
        "thanks": "ご意見ありがとうございました！",
        "your_rating": "あなたの評価：5 段階中 %(rating)s。",
        "change_until": "%(day)s まで評価を変更できます。",
        "invalid": "このリンクは無効です。メッセージに記載されたリンクをそのままご利用ください。",
        "expired": "このアンケートは終了しました。ありがとうございました。",
        "too_many": "試行回数が多すぎます。1 分後にもう一度お試しください。",
        "rating_error": "1 から 5 の評価を選んでください。",
    },
    "pt": {
        "csat_invite": (
            "A sua solicitação sobre o pedido %(order)s foi resolvida. Como nos saímos? Avalie-nos com um clique: "
            "%(link)s"
        ),
        "stall_notice": (
            "Notamos que o pacote %(tracking)s do seu pedido %(order)s está sem movimentação há %(days)s dias. "
            "Estamos verificando com a transportadora e retornaremos em breve. Desculpe a espera."
        ),
        "thanks_coupon": (
            "Obrigado pela paciência com o pedido %(order)s. Como pedido de desculpas, aqui está um cupom para o "
            "seu próximo pedido: %(code)s"
        ),
        "page_title": "Como nos saímos?",
        "question": "Qual é a sua satisfação com o atendimento da sua solicitação?",
        "rating_1": "Muito insatisfeito",
        "rating_2": "Insatisfeito",
        "rating_3": "Neutro",
        "rating_4": "Satisfeito",
        "rating_5": "Muito satisfeito",
        "comment": "Algo mais que queira acrescentar? (opcional)",
        "submit": "Enviar",
        "thanks": "Obrigado pela sua opinião!",
        "your_rating": "A sua avaliação: %(rating)s de 5.",
        "change_until": "Pode alterar a sua avaliação até %(day)s.",
        "invalid": "Este link não é válido. Use o link da nossa mensagem tal como foi enviado.",
        "expired": "Esta pesquisa foi encerrada. Obrigado mesmo assim.",
        "too_many": "Tentativas demais. Tente novamente daqui a um minuto.",
        "rating_error": "Escolha uma avaliação de 1 a 5.",
    },
    "ar": {
        "csat_invite": "تم حل طلبك بخصوص الطلب %(order)s. كيف كانت خدمتنا؟ قيّمنا بنقرة واحدة: %(link)s",
        "stall_notice": (
            "لاحظنا أن الطرد %(tracking)s الخاص بطلبك %(order)s لم يتحرك منذ %(days)s أيام. "
            "نحن نتحقق من الأمر مع شركة الشحن وسنعود إليك. نعتذر عن الانتظار."
        ),
        "thanks_coupon": "شكرًا لصبرك بخصوص الطلب %(order)s. اعتذارًا منا، إليك رمز قسيمة لطلبك القادم: %(code)s",
        "page_title": "كيف كانت خدمتنا؟",
        "question": "ما مدى رضاك عن طريقة تعاملنا مع طلبك؟",
        "rating_1": "غير راضٍ إطلاقًا",
        "rating_2": "غير راضٍ",
        "rating_3": "محايد",
        "rating_4": "راضٍ",
        "rating_5": "راضٍ جدًا",
        "comment": "هل تود إضافة شيء؟ (اختياري)",
        "submit": "إرسال",
        "thanks": "شكرًا لك على ملاحظاتك!",
        "your_rating": "تقييمك: %(rating)s من 5.",
        "change_until": "يمكنك تغيير تقييمك حتى %(day)s.",
        "invalid": "هذا الرابط غير صالح. يرجى استخدام الرابط كما ورد في رسالتنا.",
        "expired": "انتهى هذا الاستبيان. شكرًا لك على أي حال.",
        "too_many": "محاولات كثيرة جدًا. يرجى المحاولة مرة أخرى بعد دقيقة.",
        "rating_error": "يرجى اختيار تقييم من 1 إلى 5.",
    },
}
LANGUAGES: Final = tuple(TEXTS)


def buyer_language(code: str | None) -> str:
    """The catalogue language for a buyer's language code (zh, zh-CN, zh-Hans -> zh-hans; pt-BR ->
    pt; anything unknown -> en)."""
    value = (code or "").strip().lower().replace("_", "-")
    if value.startswith("zh"):
        return "zh-hans"
    base = value.split("-", 1)[0]
    return base if base in TEXTS else DEFAULT


# In a buyer message, these values are isolated in right-to-left text (an order number such as
# 113-0000000-0000000 would otherwise be shown backwards); links, tracking numbers and coupon codes stay
# bare, as the buyer's client must recognise and copy them.
MESSAGE_ISOLATED = frozenset({"order", "days"})


def text(language: str, key: str, *, isolate: bool | frozenset[str] = False, **values: object) -> str:
    """The text `key` in `language` (a catalogue code), placeholders filled. `isolate`: the values
    (all with True, or those named) wrapped in Unicode first-strong isolates (U+2068 ... U+2069), so a
    date or a number keeps its own direction inside right-to-left text."""
    template = TEXTS.get(language, TEXTS[DEFAULT]).get(key) or TEXTS[DEFAULT][key]
    if isolate:
        values = {
            name: f"\u2068{value}\u2069" if isolate is True or name in isolate else value
            for name, value in values.items()
        }
    return template % values if values else template


def message_text(language: str, key: str, **values: object) -> str:
    """A buyer message's built-in text: `text()` with MESSAGE_ISOLATED values isolated in RTL languages."""
    return text(language, key, isolate=MESSAGE_ISOLATED if is_rtl(language) else False, **values)


def is_rtl(language: str) -> bool:
    return language in RTL_LANGUAGES
