"""E-mail channel: replies go out over SMTP with proper threading headers.

The store's credentials may carry its own SMTP settings ({"smtp_host", "smtp_port", "username",
"password", "use_tls", "from_address"}); otherwise Django's EMAIL_* settings are used."""

from __future__ import annotations

import smtplib
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from aftersales.channels.base import Capability, ConnectorError, OutboundReply, SentReceipt
from aftersales.core.clock import now


class EmailConnector:
    platform = "email"
    capabilities = frozenset({Capability.SEND_MESSAGE})

    def send_reply(self, reply: OutboundReply) -> SentReceipt:
        creds = reply.credentials or {}
        if "@" not in reply.customer_address:
            raise ConnectorError(f"customer address {reply.customer_address!r} is not an e-mail", permanent=True)
        connection = get_connection(
            host=creds.get("smtp_host", settings.EMAIL_HOST),
            port=int(creds.get("smtp_port", settings.EMAIL_PORT)),
            username=creds.get("username", settings.EMAIL_HOST_USER),
            password=creds.get("password", settings.EMAIL_HOST_PASSWORD),
            use_tls=bool(creds.get("use_tls", settings.EMAIL_USE_TLS)),
            timeout=settings.EMAIL_TIMEOUT,
        )
        domain = creds.get("from_address", settings.DEFAULT_FROM_EMAIL).rpartition("@")[2] or "localhost"
        message_id = make_msgid(idstring=f"as{reply.message_id}", domain=domain)
        headers = {"Message-ID": message_id}
        if reply.in_reply_to:
            headers["In-Reply-To"] = reply.in_reply_to
            headers["References"] = reply.in_reply_to
        subject = reply.subject if reply.subject.lower().startswith("re:") else f"Re: {reply.subject}"
        email = EmailMessage(
            subject=subject,
            body=reply.body,
            from_email=creds.get("from_address", settings.DEFAULT_FROM_EMAIL),
            to=[reply.customer_address],
            headers=headers,
            connection=connection,
        )
        for name, content, content_type in reply.attachments:
            email.attach(name, content, content_type)
        try:
            email.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            raise ConnectorError(f"recipient refused: {exc}", permanent=True) from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise ConnectorError(f"SMTP authentication failed: {exc}", permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise ConnectorError(f"SMTP delivery failed: {exc}") from exc
        return SentReceipt(external_id=message_id, sent_at=now())
