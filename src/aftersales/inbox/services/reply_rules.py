"""A marketplace's rules for a reply, checked when the agent queues it (API and UI alike), so a draft
that would be refused or stripped is refused at once with the field and the reason, not by a bounce
hours later.

Today: Amazon's buyer messages answered through Amazon's relay (channels/connectors/email/
amazon_relay.py): plain text, no links outside Amazon, no e-mail addresses, attachments of the
allowed types only and at most 10 MB together; eBay's Message API (channels/connectors/ebay):
2,000 characters at most, at most five pictures of the formats eBay Picture Services takes; Shopee's
seller chat (channels/connectors/shopee) and TikTok Shop's customer service (connectors/tiktok): replies are
sent as text, without attachments; WhatsApp
(channels/connectors/whatsapp): free-form replies only within 24 hours of the buyer's last message
(after that only approved templates), text of at most 4,096 characters; Messenger
(channels/connectors/messenger): replies within 24 hours of the person's last message, 7 days with the
Human Agent tag where Meta granted it, text of at most 2,000 characters."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.template.defaultfilters import filesizeformat
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from aftersales.channels.connectors.ebay.limits import (
    MEDIA_PER_MESSAGE as EBAY_MEDIA_PER_MESSAGE,
)
from aftersales.channels.connectors.ebay.limits import (
    MESSAGE_MAX_CHARS as EBAY_MESSAGE_MAX_CHARS,
)
from aftersales.channels.connectors.ebay.limits import (
    REPLY_IMAGE_MAX_BYTES as EBAY_IMAGE_MAX_BYTES,
)
from aftersales.channels.connectors.ebay.limits import (
    REPLY_IMAGE_TYPES as EBAY_IMAGE_TYPES,
)
from aftersales.channels.connectors.email.amazon_relay import (
    MAX_ATTACHMENTS_BYTES,
    RuleProblem,
    parse_relay_conversation,
    relay_reply_problems,
)
from aftersales.channels.connectors.messenger.limits import TEXT_MAX_CHARS as MESSENGER_MAX_CHARS
from aftersales.channels.connectors.meta.window import HUMAN_AGENT_WINDOW, STANDARD_WINDOW
from aftersales.channels.connectors.whatsapp.window import TEXT_MAX_CHARS as WHATSAPP_MAX_CHARS
from aftersales.channels.connectors.whatsapp.window import window_closes_at, window_open
from aftersales.core.clock import now
from aftersales.core.errors import ValidationFailed

from ..models import Message, MessageDirection, Ticket
from .common import AttachmentInput


def check_reply_rules(*, ticket: Ticket, body: str, attachments: list[AttachmentInput], types: list[str]) -> None:
    """Raise ValidationFailed (naming the field) when the reply breaks the rules of the channel the
    ticket is answered through. `types`: the sniffed attachment types (check_attachments)."""
    if _answered_on_ebay(ticket):
        _check_ebay(body, attachments, types)
        return
    text_only = _text_only_chat(ticket)
    if text_only is not None:
        if attachments:
            raise ValidationFailed(text_only[0], field="attachments")
        return
    if _answered_on(ticket, "whatsapp"):
        _check_whatsapp(ticket, body)
        return
    if _answered_on(ticket, "facebook"):
        _check_messenger(ticket, body)
        return
    if parse_relay_conversation(ticket.conversation_id) is None:
        return
    problems = relay_reply_problems(
        body, [(att.filename, len(att.content), kind) for att, kind in zip(attachments, types, strict=True)]
    )
    if problems:
        raise ValidationFailed(_amazon_reason(problems[0]), field=problems[0].field)


def _answered_on_ebay(ticket: Ticket) -> bool:
    return ticket.store_id is not None and ticket.store.platform == "ebay"


def _text_only_chat(ticket: Ticket) -> tuple[str, str] | None:
    """(the refusal of attachments, the reply box's notice) of a marketplace chat that takes text only:
    Shopee's seller chat and TikTok Shop's customer service (channels/connectors/shopee, tiktok)."""
    platform = ticket.store.platform if ticket.store_id is not None else ""
    if platform == "shopee":
        return (
            _("Shopee chat replies are sent as text only: remove the attachments"),
            _("Shopee chat message: text only, no attachments."),
        )
    if platform == "tiktok":
        return (
            _("TikTok Shop chat replies are sent as text only: remove the attachments"),
            _("TikTok Shop chat message: text only, no attachments."),
        )
    return None


def _answered_on(ticket: Ticket, platform: str) -> bool:
    return ticket.store_id is not None and ticket.store.platform == platform


def last_inbound_at(ticket: Ticket) -> datetime | None:
    """When the buyer last wrote on this ticket (the platform's time when it says it)."""
    last = (
        Message.objects.filter(ticket_id=ticket.pk, direction=MessageDirection.INBOUND)
        .order_by("-created_at", "-id")
        .values_list("sent_at", "created_at")
        .first()
    )
    return None if last is None else (last[0] or last[1])


def _when(at: datetime) -> str:
    return date_format(localtime(at), "DATETIME_FORMAT")


def _check_whatsapp(ticket: Ticket, body: str) -> None:
    last = last_inbound_at(ticket)
    if not window_open(last, now()):
        closes = window_closes_at(last)
        if closes is None:
            raise ValidationFailed(
                _("The buyer has not written on WhatsApp yet: only an approved template can be sent"), field="body"
            )
        raise ValidationFailed(
            _(
                "The WhatsApp 24-hour customer-service window closed at %(closed)s: "
                "only an approved template can be sent now"
            )
            % {"closed": _when(closes)},
            field="body",
        )
    if len(body.strip()) > WHATSAPP_MAX_CHARS:
        raise ValidationFailed(
            _("WhatsApp messages are limited to %(max)d characters (%(count)d given)")
            % {"max": WHATSAPP_MAX_CHARS, "count": len(body.strip())},
            field="body",
        )


def _messenger_window(ticket: Ticket) -> tuple[bool, timedelta]:
    tagged = str(ticket.store.credentials.get("human_agent", "")).lower() in {"true", "1", "yes", "on"}
    return tagged, HUMAN_AGENT_WINDOW if tagged else STANDARD_WINDOW


def _check_messenger(ticket: Ticket, body: str) -> None:
    tagged, window = _messenger_window(ticket)
    last = last_inbound_at(ticket)
    if not window_open(last, now(), window):
        if tagged:
            message = _("Messenger allows a human agent's reply up to 7 days after the person's last message")
        else:
            message = _(
                "Messenger allows replies only within 24 hours of the person's last message "
                "(7 days with the Human Agent permission)"
            )
        raise ValidationFailed(message, field="body")
    if len(body.strip()) > MESSENGER_MAX_CHARS:
        raise ValidationFailed(
            _("Messenger messages are limited to %(max)d characters (%(count)d given)")
            % {"max": MESSENGER_MAX_CHARS, "count": len(body.strip())},
            field="body",
        )


def _check_ebay(body: str, attachments: list[AttachmentInput], types: list[str]) -> None:
    if len(body.strip()) > EBAY_MESSAGE_MAX_CHARS:
        raise ValidationFailed(
            _("eBay messages have at most %(max)d characters (this one has %(count)d)")
            % {"max": EBAY_MESSAGE_MAX_CHARS, "count": len(body.strip())},
            field="body",
        )
    if len(attachments) > EBAY_MEDIA_PER_MESSAGE:
        raise ValidationFailed(
            _("eBay messages carry at most %(max)d pictures") % {"max": EBAY_MEDIA_PER_MESSAGE}, field="attachments"
        )
    for index, (attachment, kind) in enumerate(zip(attachments, types, strict=True)):
        if kind.lower() not in EBAY_IMAGE_TYPES:
            raise ValidationFailed(
                _(
                    "eBay messages carry pictures only (JPG, GIF, PNG, BMP, TIFF, AVIF, HEIC, WEBP): "
                    "%(name)s is %(type)s"
                )
                % {"name": attachment.filename, "type": kind},
                field=f"attachments[{index}]",
            )
        if len(attachment.content) > EBAY_IMAGE_MAX_BYTES:
            raise ValidationFailed(
                _("eBay takes pictures of at most %(limit)s (%(name)s)")
                % {"limit": filesizeformat(EBAY_IMAGE_MAX_BYTES), "name": attachment.filename},
                field=f"attachments[{index}]",
            )


def template_required(ticket: Ticket) -> bool:
    """Only an approved template can be sent now: a WhatsApp ticket whose 24-hour window is closed
    (the reply box then offers the store's templates)."""
    if not _answered_on(ticket, "whatsapp"):
        return False
    closes = window_closes_at(last_inbound_at(ticket))
    return closes is None or closes <= now()


def reply_rules_notice(ticket: Ticket) -> str:
    """The rules a reply on this ticket must follow, for the reply box ("" when there are none)."""
    if _answered_on_ebay(ticket):
        return _(
            "eBay message: at most %(max)d characters; attachments: up to %(count)d pictures "
            "(JPG, GIF, PNG, BMP, TIFF, AVIF, HEIC, WEBP), %(limit)s each."
        ) % {
            "max": EBAY_MESSAGE_MAX_CHARS,
            "count": EBAY_MEDIA_PER_MESSAGE,
            "limit": filesizeformat(EBAY_IMAGE_MAX_BYTES),
        }
    text_only = _text_only_chat(ticket)
    if text_only is not None:
        return text_only[1]
    if _answered_on(ticket, "facebook"):
        tagged, window = _messenger_window(ticket)
        closes = window_closes_at(last_inbound_at(ticket), window)
        if closes is None or closes <= now():
            return _("Messenger: the reply window is closed; the person has to write again.")
        return _("Messenger: replies up to %(max)d characters, with attachments, until %(until)s%(tag)s.") % {
            "max": MESSENGER_MAX_CHARS,
            "until": _when(closes),
            "tag": _(" (Human Agent tag)") if tagged else "",
        }
    if _answered_on(ticket, "whatsapp"):
        closes = window_closes_at(last_inbound_at(ticket))
        if closes is None or closes <= now():
            return _("WhatsApp: the 24-hour customer-service window is closed; only an approved template can be sent.")
        return _(
            "WhatsApp: free-form replies (text up to %(max)d characters, pictures, audio, video, documents) "
            "until %(until)s, 24 hours after the buyer's last message; after that only approved templates."
        ) % {"max": WHATSAPP_MAX_CHARS, "until": _when(closes)}
    if parse_relay_conversation(ticket.conversation_id) is None:
        return ""
    return _(
        "Amazon buyer message: reply in plain text, without links outside Amazon or e-mail addresses; "
        "attachments: images, PDF, text or Word, at most %(limit)s."
    ) % {"limit": filesizeformat(MAX_ATTACHMENTS_BYTES)}


def _amazon_reason(problem: RuleProblem) -> str:
    kind, _sep, detail = problem.reason.partition(":")
    if kind == "html":
        return _("Amazon's buyer messages are plain text: remove the HTML markup")
    if kind == "link":
        return _("Amazon's rules allow no links outside Amazon in a buyer message (%(link)s)") % {"link": detail}
    if kind == "email":
        return _("Amazon's rules allow no e-mail addresses in a buyer message (%(address)s)") % {"address": detail}
    if kind == "type":
        name, _sep, content_type = detail.rpartition(":")
        return _(
            "Amazon does not accept this attachment type in buyer messages (%(name)s: %(type)s); "
            "allowed: images, PDF, text and Word documents"
        ) % {"name": name, "type": content_type}
    return _("Amazon accepts at most %(limit)s of attachments per buyer message") % {
        "limit": filesizeformat(MAX_ATTACHMENTS_BYTES)
    }
