"""RFC 822 bytes -> records, over real-looking mail of the clients sellers' buyers use. Pure."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from aftersales.channels.base import DeliveryFailureRecord, IgnoredRecord, MappingError, MessageRecord
from aftersales.channels.connectors.email.autoreply import autoreply_reason
from aftersales.channels.connectors.email.decoding import decode_bytes, decode_header_value, html_to_text
from aftersales.channels.connectors.email.mapping import Mailbox, dedupe_id, map_email
from aftersales.channels.connectors.email.quoting import display_text

FIXTURES = Path(__file__).parent / "fixtures"
MAILBOX = Mailbox(store_id=1, addresses=frozenset({"support@gadgets.example"}), amazon_stores={7: "amazon.de"})


def mapped(name: str, mailbox: Mailbox = MAILBOX) -> MessageRecord:
    records = map_email((FIXTURES / name).read_bytes(), mailbox)
    assert len(records) == 1
    record = records[0]
    assert isinstance(record, MessageRecord), record
    return record


@pytest.mark.parametrize(
    ("name", "subject", "buyer", "new_text", "quoted_text"),
    [
        ("gmail_en_reply.eml", "Re: Order 1001 – where is my parcel?", "Jane Doe", "hasn’t arrived", "has shipped"),
        ("yahoo_japan_iso2022jp.eml", "商品が届きません", "山田太郎", "注文した商品がまだ届きません", "発送しました"),
        ("shift_jis_gmail_ja.eml", "返品について①", "Hanako", "箱は①番の状態です", "発送しました"),
        ("qq_gb2312_mislabelled_gbk.eml", "回复：订单问题", "王喆", "我是王喆", "您的订单已发货"),
        ("netease_163_gbk.eml", "Re: 退款进度", "李娜", "退款什么时候到账", "已为您办理退款"),
        ("big5_traditional.eml", "詢問保固", "陳小姐", "保固期多久", "感謝您的購買"),
        ("outlook_de_windows1252.eml", "AW: Rechnung über 49,90 €", "Jürgen Müller", "„dringend“", "wurde versandt"),
        ("mislabelled_latin1_is_utf8_fr.eml", "Problème de livraison", "Amélie", "arrivé abîmé", "est partie"),
        ("unlabelled_cp1251_ru.eml", "Заказ не пришёл", "Ivan", "до сих пор не пришёл", "Ваш заказ отправлен"),
        ("euckr_korean.eml", "교환 요청", "김민수", "교환하고 싶습니다", "발송되었습니다"),
        ("arabic_utf8.eml", "استفسار عن الطلب", "Ahmed", "لم يصل طلبي", "تم شحن طلبك"),
        ("gmail_pt.eml", "Devolução", "Ana", "quero devolver", "foi enviado"),
        ("gmail_es.eml", "Garantía", "Lucía", "dejó de funcionar", "Gracias por su compra"),
        ("gmail_it.eml", "Reso", "Marco", "vorrei restituire", "è stato spedito"),
        ("forwarded_gmail.eml", "Fwd: Your invoice", "Jane Doe", "invoice is wrong", "Invoice 42"),
    ],
)
def test_charsets_and_quoting_styles(name, subject, buyer, new_text, quoted_text):
    record = mapped(name)
    assert record.subject == subject
    assert record.buyer.name == buyer
    assert "\ufffd" not in record.body  # nothing lost to a wrong charset
    assert new_text in record.body and quoted_text in record.body  # the original keeps everything
    assert new_text in record.body_display
    assert quoted_text not in record.body_display  # the display text has no quoted history
    assert record.message_id_header == record.external_id and record.external_id.startswith("<")


def test_gb18030_four_byte_characters():
    record = mapped("gb18030_fourbyte.eml")
    assert "𠮷" in record.subject and "配件𠮷" in record.body


def test_signatures_are_trimmed_for_display():
    assert "iPhone" not in mapped("gmail_pt.eml").body_display
    assert "iPhone" not in mapped("gmail_it.eml").body_display
    assert "Enviado do meu iPhone" in mapped("gmail_pt.eml").body


def test_threading_headers_nearest_first():
    record = mapped("gmail_en_reply.eml")
    assert record.references == ["<earlier-0001@gadgets.example>"]
    raw = (
        b"From: a@example.com\r\nSubject: Re: x\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\n"
        b"Message-ID: <m3@example.com>\r\nIn-Reply-To: <m2@example.com>\r\n"
        b"References: <m0@example.com> <m1@example.com>\r\n <m2@example.com>\r\n\r\nbody\r\n"
    )
    record = map_email(raw, MAILBOX)[0]
    assert isinstance(record, MessageRecord)
    assert record.references == ["<m2@example.com>", "<m1@example.com>", "<m0@example.com>"]


def test_html_only_mail_gets_text_and_sanitised_later():
    record = mapped("html_only_gmail.eml")
    assert record.body.startswith("Hello,") and "cracked" in record.body
    assert "alert(1)" not in record.body and "color:red" not in record.body
    assert "cracked" in record.body_display and "Your order has shipped" not in record.body_display
    assert "<script>" in record.body_html  # raw here: ingest sanitises it (nh3) before storing


def test_inline_images_and_attachments():
    record = mapped("inline_image_and_attachments.eml")
    assert record.body == "Photos of the damage attached."
    names = [(a.filename, a.content_type) for a in record.attachments]
    assert names == [("photo1.png", "image/png"), ("发票.pdf", "application/pdf"), ("archive.zip", "application/zip")]


def test_message_without_message_id_gets_a_stable_content_hash():
    raw = (FIXTURES / "no_message_id.eml").read_bytes()
    record = mapped("no_message_id.eml")
    assert record.external_id.startswith("<sha256.") and record.external_id.endswith("@content-hash.invalid>")
    assert dedupe_id(raw) == record.external_id
    # the same mail in another mailbox (other Received / Delivered-To headers) has the same id
    other = b"Delivered-To: sales@gadgets.example\r\nReceived: from mx by mx2; Tue, 01 Dec 2026 10:15:02 +0100\r\n"
    assert dedupe_id(other + raw) == record.external_id
    assert dedupe_id(raw.replace(b"Norway", b"Sweden")) != record.external_id


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("autoreply_rfc3834.eml", "Auto-Submitted: auto-replied"),
        ("autoreply_exchange.eml", "X-Auto-Response-Suppress: All"),
        ("autoreply_subject_zh.eml", "out-of-office subject"),
        ("autoreply_subject_ja.eml", "out-of-office subject"),
        ("autoreply_subject_fr.eml", "out-of-office subject"),
        ("precedence_bulk.eml", "Precedence: bulk"),
        ("x_autoreply.eml", "x-autoreply: yes"),
    ],
)
def test_autoreplies_are_ignored(name, reason):
    records = map_email((FIXTURES / name).read_bytes(), MAILBOX)
    assert records == [IgnoredRecord(reason="autoreply", detail=reason)]


@pytest.mark.parametrize(
    "subject",
    [
        "Out of Office: Re: order",
        "Automatische Antwort: Bestellung",
        "Abwesenheitsnotiz",
        "Réponse automatique : commande",
        "Respuesta automática: pedido",
        "Resposta automática: pedido",
        "Risposta automatica: ordine",
        "自动回复：订单",
        "自動返信：ご注文",
        "자동 응답: 주문",
        "Автоответ: заказ",
        "رد تلقائي: الطلب",
    ],
)
def test_out_of_office_subjects_in_the_supported_languages(subject):
    assert autoreply_reason({}, subject) == "out-of-office subject"


@pytest.mark.parametrize(
    "subject",
    ["Where is my order?", "В посылке отсутствует товар", "Retour für Bestellung", "Reply needed", "外出时丢失了耳机"],
)
def test_ordinary_subjects_are_not_autoreplies(subject):
    assert autoreply_reason({"auto-submitted": "no"}, subject) is None


def test_rfc3464_bounce_names_our_reply():
    records = map_email((FIXTURES / "bounce_rfc3464.eml").read_bytes(), MAILBOX)
    assert len(records) == 1
    bounce = records[0]
    assert isinstance(bounce, DeliveryFailureRecord)
    assert bounce.original_message_ids == ["<as.77.0123456789abcdef@gadgets.example>"]
    assert bounce.recipients == ["gone@example.net"]
    assert "User unknown" in bounce.reason


def test_mailer_daemon_bounce_without_report():
    bounce = map_email((FIXTURES / "bounce_qmail.eml").read_bytes(), MAILBOX)[0]
    assert isinstance(bounce, DeliveryFailureRecord)
    assert bounce.original_message_ids == ["<as.78.fedcba9876543210@gadgets.example>"]
    assert bounce.recipients == ["nobody@example.net"]


def test_amazon_relay_messages_are_linked_to_the_amazon_store_and_order():
    record = mapped("amazon_relay_de.eml")
    assert record.target_store_id == 7
    assert record.order_external_id == "302-1234567-7654321"
    assert record.buyer.name == "Klaus Weber" and record.buyer.email == "5m2k9x7v4qz1abc@marketplace.amazon.de"
    assert record.conversation_id == "amazon-relay:1:5m2k9x7v4qz1abc@marketplace.amazon.de:302-1234567-7654321"
    assert record.body_display == "Hallo, wo bleibt mein Paket? Bestellnummer 302-1234567-7654321."
    japan = mapped("amazon_relay_jp.eml", Mailbox(store_id=1, amazon_stores={7: "amazon.de", 8: "amazon.co.jp"}))
    assert japan.target_store_id == 8 and japan.order_external_id == "249-7654321-1234567"
    assert japan.buyer.name == "佐藤"
    only = mapped("amazon_relay_us.eml", Mailbox(store_id=1, amazon_stores={9: "amazon.com"}))
    assert only.target_store_id == 9 and only.order_external_id == "114-3941689-8772232"
    # several Amazon stores, none of that marketplace: stays on the mailbox
    unknown = mapped("amazon_relay_us.eml", Mailbox(store_id=1, amazon_stores={7: "amazon.de", 8: "amazon.co.jp"}))
    assert unknown.target_store_id is None


def test_own_messages_are_from_the_seller():
    raw = b"From: Support <support@gadgets.example>\r\nTo: x@example.com\r\nSubject: Hi\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\nMessage-ID: <own@x>\r\n\r\nHello\r\n"  # noqa: E501
    assert mapped_raw(raw).from_seller


def mapped_raw(raw: bytes) -> MessageRecord:
    record = map_email(raw, MAILBOX)[0]
    assert isinstance(record, MessageRecord)
    return record


def test_broken_mail_is_a_mapping_error_naming_the_header():
    with pytest.raises(MappingError) as exc:
        map_email(b"Subject: no sender\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\n\r\nbody\r\n", MAILBOX)
    assert exc.value.field == "From"
    with pytest.raises(MappingError) as exc:
        map_email(b"From: a@example.com\r\nSubject: x\r\n\r\nbody\r\n", MAILBOX)
    assert exc.value.field == "Date"
    # no Date, but a Received header: its date is used
    record = mapped_raw(b"Received: from x by y; Tue, 01 Dec 2026 10:00:00 +0000\r\nFrom: a@example.com\r\n\r\nhi\r\n")
    assert record.sent_at.isoformat() == "2026-12-01T10:00:00+00:00"


def test_decoding_helpers():
    gbk = base64.b64encode("耳机喆".encode("gbk")).decode()
    assert decode_header_value(f"=?gb2312?B?{gbk}?=") == "耳机喆"  # a GBK character under a gb2312 label
    assert decode_header_value("=?iso-2022-jp?B?GyRCJUYlOSVIGyhC?=") == "テスト"
    assert decode_header_value("=?unknown-charset?Q?caf=C3=A9?=") == "café"
    assert decode_bytes("naïve €".encode(), "us-ascii") == "naïve €"  # labelled ASCII, really UTF-8
    assert decode_bytes("naïve €".encode("cp1252"), "iso-8859-1") == "naïve €"  # "Latin-1" is cp1252
    assert decode_bytes("壊れていました".encode("cp932"), "shift_jis") == "壊れていました"
    assert decode_bytes("喆".encode("gbk"), "gb2312") == "喆"
    assert html_to_text("<p>a</p><p>b<br>c</p><blockquote>q</blockquote>", drop_quotes=True) == "a\n\nb\nc"


def test_display_text_keeps_the_text_when_everything_would_go():
    assert display_text("> only a quote") == "> only a quote"
    assert display_text("") == ""
