"""Is this e-mail a bounce (a delivery failure report) of one of our replies?

A bounce opens no ticket and changes no ticket's status; the reply it reports is marked failed
(DeliveryFailureRecord). Recognised: RFC 3464 reports (multipart/report; report-type=
delivery-status), and the older forms mailer-daemon / postmaster send (flufl.bounce knows the
formats of qmail, Exim, Postfix, Sendmail, Exchange, Yahoo, AOL...). A *delayed* report (Action:
delayed, only temporary failures) is not a failure yet: it is ignored.

The reply is found by its Message-ID, which the report quotes in its returned message
(message/rfc822 or text/rfc822-headers part) or in its text ("Message-ID: <...>", and the
In-Reply-To / References of the quoted headers do not count). Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import Message

from .decoding import decode_bytes

_DAEMON = re.compile(r"^(?:mailer-daemon|postmaster|mail-daemon|maildelivery|mdaemon)\b", re.IGNORECASE)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|delivery (?:status notification|failure|has failed)|returned mail|mail delivery failed|"
    r"failure notice|non[- ]?delivery|unzustellbar|nicht zustellbar|non remis|退信|无法投递|系统退信|配信エラー|"
    r"配送失敗|Returned to sender",
    re.IGNORECASE,
)
_MESSAGE_ID_LINE = re.compile(r"^\s*Message-ID:\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)
_STATUS_LINE = re.compile(r"^\s*Status:\s*([245])\.\d{1,3}\.\d{1,3}", re.IGNORECASE | re.MULTILINE)
_DIAGNOSTIC = re.compile(r"^\s*Diagnostic-Code:\s*(?:smtp;\s*)?(.+(?:\n[ \t]+.+)*)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Bounce:
    original_message_ids: list[str]
    reason: str
    recipients: list[str] = field(default_factory=list)
    permanent: bool = True


def looks_like_bounce(msg: Message, from_address: str, subject: str) -> bool:
    if msg.get_content_type() == "multipart/report":
        return str(msg.get_param("report-type") or "delivery-status").lower() == "delivery-status"
    if _DAEMON.match(from_address.partition("@")[0]):
        return True
    return str(msg.get("Return-Path", "")).strip() == "<>" and bool(_BOUNCE_SUBJECT.search(subject))


def parse_bounce(msg: Message) -> Bounce:
    """What a bounce reports (call when looks_like_bounce)."""
    texts = _texts(msg)
    joined = "\n".join(texts)
    ids = _returned_message_ids(msg, joined)
    from flufl.bounce import all_failures  # where a bounce is read, not in web processes (issue 13)

    try:
        temporary, permanent = all_failures(msg)
    except Exception:  # a report flufl cannot read still carries its Message-ID
        temporary, permanent = frozenset(), frozenset()
    recipients = sorted({_addr(r) for r in permanent} | {_addr(r) for r in temporary})
    statuses = _STATUS_LINE.findall(joined)
    is_permanent = bool(permanent) or "5" in statuses or not (temporary or "4" in statuses)
    diagnostic = _DIAGNOSTIC.search(joined)
    if diagnostic:
        reason = " ".join(diagnostic.group(1).split())
    else:
        reason = "delivery failed" if is_permanent else "delivery delayed"
    if recipients:
        reason = f"{reason} ({', '.join(recipients)})"
    return Bounce(original_message_ids=ids, reason=reason[:500], recipients=recipients, permanent=is_permanent)


def _addr(value: bytes | str) -> str:
    return (value.decode("utf-8", "replace") if isinstance(value, bytes) else value).strip().lower()


def _texts(msg: Message) -> list[str]:
    out: list[str] = []
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/delivery-status" and isinstance(part.get_payload(), list):
            out.extend(str(block) for block in part.get_payload())  # its header blocks (per recipient)
            continue
        if part.is_multipart():
            continue
        if ctype.startswith("text/") or ctype in {"message/delivery-status", "message/rfc822-headers"}:
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                out.append(decode_bytes(payload, part.get_content_charset()))
            elif isinstance(part.get_payload(), list):  # message/delivery-status parsed as header blocks
                out.extend(str(p) for p in part.get_payload())
            else:
                out.append(str(part.get_payload()))
    return out


def _returned_message_ids(msg: Message, text: str) -> list[str]:
    ids: list[str] = []
    for part in msg.walk():
        if part.get_content_type() == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message) and inner.get("Message-ID"):
                ids.append(str(inner["Message-ID"]).strip())
    ids += _MESSAGE_ID_LINE.findall(text)
    seen: set[str] = set()
    unique = []
    for mid in ids:
        match = re.search(r"<[^<>\s]+>", mid)
        if match and match.group(0) not in seen:
            seen.add(match.group(0))
            unique.append(match.group(0))
    return unique
