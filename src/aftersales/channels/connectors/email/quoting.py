"""Quoted history and signatures trimmed for display; the message keeps its full body.

Buyers answer on top of everything we wrote before. The ticket shows the new text (`display_text`)
and keeps the original (Message.body) for "show quoted text" and the API (`body` + `body_display`).

Cut at the first of (whatever comes after it is history):
- an attribution line: "On <date>, <name> wrote:" in the languages clients write it (en, de, fr,
  es, pt, it, nl, ru, ar, zh: "在 ... 写道：" (163 / QQ / Foxmail), "於 ... 寫道："; ja: Yahoo Japan
  and Gmail's "2026年12月1日(火) 10:00 Name <x@y>:", "... のメッセージ:"; ko: "... 작성:");
- a separator: "-----Original Message-----" and its translations (QQ Mail's
  "------------------ 原始邮件 ------------------", Outlook's "________________"), forwarded headers;
- an Outlook header block: "From:" then within four lines "Sent:" / "Date:" / "Subject:" (in the
  client's language: Von/Gesendet, De/Envoyé, 发件人/发送时间, 差出人/送信日時, 보낸 사람/보낸 날짜...);
- the trailing run of "> " quoted lines;
then signatures: the RFC 3676 "-- " delimiter and "Sent from my iPhone" in its translations.
Finally mail-parser-reply (its header and signature rules for en, de, es, fr, it, ja, ko, zh, nl, pl,
sv, cs, da) runs over what is left. Never empty: when everything would go, the text is kept.
Pure."""

from __future__ import annotations

import re

_ATTRIBUTION = [
    r"^On\b.{4,250}\bwrote\s*:\s*$",
    r"^.{0,200}\bwrote\s*:\s*$",
    r"^Am\b.{4,250}\bschrieb\b.{0,200}:\s*$",
    r"^.{0,200}\bschrieb\s*:\s*$",
    r"^Le\b.{4,250}\ba [ée]crit\s*:\s*$",
    r"^El\b.{4,250}\bescribi[óo]\s*:\s*$",
    r"^Em\b.{4,250}\bescreveu\s*:\s*$",
    r"^Il\b.{4,250}\bha scritto\s*:\s*$",
    r"^Op\b.{4,250}\bschreef\b.{0,200}:\s*$",
    r"^.{0,250}\b(?:пишет|написал|написала)\s*:\s*$",
    r"^.{0,250}كتب\s*:\s*$",
    r"^在.{2,250}写道\s*[:：]\s*$",
    r"^於.{2,250}寫道\s*[:：]\s*$",
    r"^.{0,250}(?:写道|寫道)\s*[:：]\s*$",
    r"^\d{4}年\d{1,2}月\d{1,2}日.{0,200}[:：]\s*$",
    r"^.{0,250}のメッセージ\s*[:：]\s*$",
    r"^.{0,250}(?:さんは書きました|wrote)\s*[:：]\s*$",
    r"^\d{4}년\s*\d{1,2}월\s*\d{1,2}일.{0,200}작성\s*[:：]?\s*$",
    r"^.{0,250}님이 작성\s*[:：]?\s*$",
]
_SEPARATOR = [
    r"^\s*-{2,}\s*(?:Original Message|Forwarded message|Forwarded Message|Begin forwarded message|"
    r"Ursprüngliche Nachricht|Weitergeleitete Nachricht|Message d'origine|Message transféré|Mensaje original|"
    r"Mensaje reenviado|Mensagem original|Mensagem encaminhada|Messaggio originale|Messaggio inoltrato|"
    r"Oorspronkelijk bericht|Doorgestuurd bericht|Исходное сообщение|Пересылаемое сообщение|"
    r"Пересланное сообщение|الرسالة الأصلية|원본 메시지|전달된 메시지|原始邮件|原始郵件|原邮件|转发邮件|"
    r"Original|元のメッセージ|転送メッセージ|オリジナルメッセージ)\s*-{0,}\s*$",
    r"^\s*(?:Begin forwarded message|Anfang der weitergeleiteten Nachricht|Début du message réexpédié)\s*:\s*$",
    r"^\s*_{8,}\s*$",
    r"^\s*-{8,}\s*$",
    r"^\s*={8,}\s*$",
]
_FROM = (
    r"^\s*\*?(?:From|Von|De|Da|Van|От|Od|Från|Fra|发件人|發件人|寄件者|差出人|送信者|보낸 사람|보낸사람|من)\*?\s*[:：]"
)
_HEADER_FOLLOW = re.compile(
    r"^\s*\*?(?:Sent|Date|Subject|To|Gesendet|Datum|Betreff|An|Envoyé|Date|Objet|À|Enviado|Fecha|Asunto|Para|"
    r"Inviato|Data|Oggetto|A|Verzonden|Onderwerp|Aan|Отправлено|Дата|Тема|Кому|Skickat|Ämne|Till|"
    r"发送时间|发送日期|日期|时间|主题|收件人|寄件日期|主旨|收件者|送信日時|日時|件名|宛先|"
    r"보낸 날짜|날짜|제목|받는 사람|"
    r"أرسلت|التاريخ|الموضوع|إلى)\*?\s*[:：]",
    re.IGNORECASE,
)
_SIGNATURE = [
    r"^-- ?$",
    r"^\s*(?:Sent from my|Sent from|Get Outlook for|Envoyé de mon|Envoyé depuis|Von meinem|Gesendet von|"
    r"Enviado desde mi|Enviado do meu|Enviado de meu|Inviato da|Verzonden vanaf|Отправлено с|"
    r"Отправлено из|Skickat från|Wysłane z|発自|发自我的|發自我的|发自网易邮箱|来自网易邮箱|iPhoneから送信|"
    r"Android から送信|Yahoo!メール|Yahoo Mail|Samsung Galaxy|내 iPhone에서 보냄|"
    r"أرسلت من)\b.{0,80}$",
    r"^\s*(?:发自我的|發自我的|来自我的|iPhoneから送信|内 iPhone에서 보냄|発信元).{0,60}$",
]
_ATTRIBUTION_RE = re.compile("|".join(f"(?:{p})" for p in _ATTRIBUTION), re.IGNORECASE)
_SEPARATOR_RE = re.compile("|".join(f"(?:{p})" for p in _SEPARATOR), re.IGNORECASE)
_FROM_RE = re.compile(_FROM, re.IGNORECASE)
_SIGNATURE_RE = re.compile("|".join(f"(?:{p})" for p in _SIGNATURE), re.IGNORECASE)
_PARSER_LANGUAGES = ["en", "de", "es", "fr", "it", "ja", "ko", "zh", "nl", "pl", "sv", "cs", "da"]
MAX_TRIM_CHARS = 200_000  # longer bodies are shown as they are (no regex over megabytes)


def display_text(text: str) -> str:
    """The new part of an e-mail body: without quoted history and signature (never empty)."""
    original = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not original or len(original) > MAX_TRIM_CHARS:
        return original
    lines = original.split("\n")
    cut = _history_start(lines)
    kept = lines[:cut]
    kept = _without_trailing_quotes(kept)
    kept = _without_signature(kept)
    trimmed = "\n".join(kept).strip()
    if not trimmed:
        return original
    from mailparser_reply import EmailReplyParser  # where a reply is trimmed (issue 13: web memory)

    try:
        parsed = EmailReplyParser(languages=_PARSER_LANGUAGES).parse_reply(trimmed)
    except Exception:  # a third-party regex failing on odd input must not lose the message
        parsed = None
    if parsed and parsed.strip() and len(parsed.strip()) >= min(20, len(trimmed)):
        trimmed = parsed.strip()
    return trimmed


def _history_start(lines: list[str]) -> int:
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if index > 0 and (_ATTRIBUTION_RE.match(stripped) or _SEPARATOR_RE.match(stripped)):
            return index
        if index > 0 and _FROM_RE.match(stripped):
            following = [candidate for candidate in lines[index + 1 : index + 6] if candidate.strip()]
            if any(_HEADER_FOLLOW.match(candidate) for candidate in following[:4]):
                return index
        # A Gmail attribution split over two lines: "On Mon, 1 Dec 2026 at 10:00, Name <" + "x@y> wrote:"
        if index > 0 and index + 1 < len(lines) and stripped.lower().startswith(("on ", "am ", "le ", "el ")):
            joined = f"{stripped} {lines[index + 1].strip()}"
            if _ATTRIBUTION_RE.match(joined):
                return index
    return len(lines)


def _without_trailing_quotes(lines: list[str]) -> list[str]:
    end = len(lines)
    while end > 0 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith(">")):
        end -= 1
    kept = lines[:end]
    # the attribution right above a quoted block that _history_start did not recognise
    if end < len(lines) and kept and kept[-1].rstrip().endswith((":", "：")) and len(kept) > 1:
        kept = kept[:-1]
    return kept


def _without_signature(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        if index > 0 and _SIGNATURE_RE.match(line.strip() if line.strip() != "--" else "-- "):
            return lines[:index]
    return lines
