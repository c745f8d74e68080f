"""E-mail channel: a mailbox is a store of platform "email" (IMAP in, SMTP out).

- pull(MESSAGES): new mail of every configured folder after the (UIDVALIDITY, UID) cursor
  (client.py), as RawRecords whose event id is the message's dedupe id (its Message-ID, or a
  content hash) and whose raw bytes are the RFC 822 message;
- map_record: mapping.py (bounce -> DeliveryFailureRecord, auto-reply -> IgnoredRecord, else a
  MessageRecord; Amazon relay messages linked to the organization's Amazon store), attachments
  the inbox would refuse are left out with a note in the text instead of failing the message;
- send_message / send_reply: SMTP per mailbox (its smtp_* credentials), else Django's EMAIL_*
  settings; our Message-ID carries the reply token (inbox/services/threading.py), In-Reply-To and
  References thread the answer in the customer's client;
- test_connection: IMAP login (and the folders exist) + SMTP EHLO/login.

A mailbox with `auth = "oauth2"` (Gmail, Microsoft 365) signs in with XOAUTH2: `_signed_in` asks
oauth.py for a valid access token first (refreshed and saved when due) and, when the server still
refuses it, refreshes once more and tries again."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from email.utils import formatdate
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from aftersales.catalog.models import Platform, Store
from aftersales.channels.base import (
    AttachmentRecord,
    AuthError,
    Capability,
    ConnectionCheck,
    ConnectorError,
    MessageRecord,
    OutboundReply,
    Page,
    RawRecord,
    Record,
    SentReceipt,
    StoreContext,
    Stream,
)
from aftersales.core.clock import now
from aftersales.core.errors import ValidationFailed
from aftersales.inbox.services.common import MAX_ATTACHMENTS, AttachmentInput, check_attachment
from aftersales.inbox.services.threading import reply_message_id

from . import oauth
from .client import (
    MailboxCursor,
    MailboxSettings,
    default_since,
    fetch_new,
    imap_session,
    mailbox_settings,
    smtp_session,
    wait_for_mail_in_folders,
)
from .mapping import Mailbox, dedupe_id, map_email

PAGE_SIZE = 50


class EmailConnector:
    platform = "email"
    capabilities = frozenset({Capability.PULL_MESSAGES, Capability.SEND_MESSAGE, Capability.TEST_CONNECTION})

    # --- pulling -------------------------------------------------------------------------------

    def pull(self, ctx: StoreContext, stream: Stream, cursor: str | None, since: datetime | None) -> Page:
        if stream != Stream.MESSAGES:
            raise ConnectorError(f"a mailbox has no {stream} stream", permanent=True)
        ctx.throttle("imap", 1)

        def fetch(mailbox: MailboxSettings) -> tuple[list[Any], bool, MailboxCursor]:
            state = MailboxCursor.load(cursor)
            with imap_session(mailbox) as client:
                mails, done = fetch_new(
                    client, state, mailbox.folders, limit=PAGE_SIZE, default_since=default_since(since, now().date())
                )
            return mails, done, state

        mails, done, state = _signed_in(ctx, fetch)
        records = [
            RawRecord(
                stream=Stream.MESSAGES,
                event_id=dedupe_id(mail.raw),
                payload={"folder": mail.folder, "uid": mail.uid, "uidvalidity": mail.uidvalidity},
                raw=mail.raw,
            )
            for mail in mails
        ]
        return Page(records=records, next_cursor=state.dump(), done=done)

    def wait_for_mail(
        self,
        ctx: StoreContext,
        *,
        timeout: float,
        poll_every: float = 30.0,
        ready: Callable[[], None] | None = None,
        cursor: str | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> bool:
        """Block until new mail reaches one of the mailbox's folders (IDLE where offered, else
        polling; one connection per folder, at most client.MAX_WATCHED_FOLDERS). With the stream's
        `cursor`, mail that came after its last fetch answers True at once; `stop` ends the wait
        early (client.wait_for_mail_in_folders)."""

        def wait(mailbox: MailboxSettings) -> bool:
            return wait_for_mail_in_folders(
                mailbox,
                mailbox.folders,
                timeout=timeout,
                poll_every=poll_every,
                ready=ready,
                cursor=MailboxCursor.load(cursor) if cursor else None,
                stop=stop,
            )

        return _signed_in(ctx, wait)

    def map_record(self, ctx: StoreContext, raw: RawRecord) -> list[Record]:
        creds = ctx.credentials or {}
        own = {str(creds.get(k) or "").strip().lower() for k in ("address", "from_address", "username")}
        records = map_email(
            raw.raw,
            Mailbox(
                store_id=ctx.store_id,
                addresses=frozenset(a for a in own if "@" in a),
                amazon_stores=_amazon_stores(ctx.organization_id) if _is_relay(raw.raw) else {},
            ),
        )
        return [_with_accepted_attachments(r) if isinstance(r, MessageRecord) else r for r in records]

    def test_connection(self, ctx: StoreContext) -> ConnectionCheck:
        try:

            def folders(mailbox: MailboxSettings) -> tuple[MailboxSettings, set[str]]:
                with imap_session(mailbox, timeout=15) as client:
                    return mailbox, {name for _flags, _sep, name in client.list_folders()}

            mailbox, existing = _signed_in(ctx, folders)
            missing = [f for f in mailbox.folders if f not in existing and f.upper() != "INBOX"]
            if missing:
                return ConnectionCheck(ok=False, detail=f"IMAP login ok; folder(s) not found: {', '.join(missing)}")
            detail = f"IMAP login ok ({', '.join(mailbox.folders)})"
            if mailbox.smtp_host:
                with smtp_session(mailbox, timeout=15):
                    pass
                detail += f"; SMTP ok ({mailbox.smtp_host}:{mailbox.smtp_port})"
            return ConnectionCheck(ok=True, detail=detail)
        except ConnectorError as exc:
            return ConnectionCheck(ok=False, detail=str(exc))

    # --- OAuth sign-in (Gmail, Microsoft 365) ---------------------------------------------------

    @staticmethod
    def oauth_authorization_request(credentials: Any, *, redirect_uri: str) -> oauth.AuthorizationRequest:
        return oauth.authorization_request(credentials, redirect_uri=redirect_uri)

    @staticmethod
    def oauth_exchange(
        credentials: Any, *, callback_url: str, state: str, redirect_uri: str, code_verifier: str
    ) -> dict[str, Any]:
        """The provider's redirect back: the code (state checked) traded for tokens to save."""
        code = oauth.parse_callback(callback_url, state=state)
        return oauth.exchange_code(credentials, code=code, redirect_uri=redirect_uri, code_verifier=code_verifier)

    # --- sending -------------------------------------------------------------------------------

    def send_message(self, ctx: StoreContext, reply: OutboundReply) -> SentReceipt:
        return self._send(reply, ctx.credentials or {}, ctx)

    def send_reply(self, reply: OutboundReply) -> SentReceipt:
        creds = reply.credentials or {}
        if creds.get("auth") == "oauth2" and creds.get("smtp_host"):
            # A refreshed token must be saved: the store's context carries the saver.
            from aftersales.channels.context import store_context  # the engine's; lazy (it imports models)

            return self.send_message(store_context(Store.objects.get(pk=reply.store_id), connector=self), reply)
        return self._send(reply, creds, None)

    def _send(self, reply: OutboundReply, creds: Any, ctx: StoreContext | None) -> SentReceipt:
        if "@" not in reply.customer_address:
            raise ConnectorError(f"customer address {reply.customer_address!r} is not an e-mail", permanent=True)
        from_address = str(creds.get("from_address") or creds.get("address") or settings.DEFAULT_FROM_EMAIL)
        domain = from_address.rpartition("@")[2] or "localhost"
        message_id = reply_message_id(message_id=reply.message_id, domain=domain)
        headers = {"Message-ID": message_id, "Date": formatdate(localtime=False)}
        references = [r for r in reply.references if r]
        if reply.in_reply_to:
            headers["In-Reply-To"] = reply.in_reply_to
            if reply.in_reply_to not in references:
                references.append(reply.in_reply_to)
        if references:
            headers["References"] = " ".join(references[-20:])
        subject = reply.subject if reply.subject.lower().startswith(("re:", "aw:", "回复")) else f"Re: {reply.subject}"
        email = EmailMessage(
            subject=subject,
            body=reply.body,
            from_email=from_address,
            to=[reply.customer_address],
            headers=headers,
            connection=None if creds.get("smtp_host") else get_connection(timeout=settings.EMAIL_TIMEOUT),
        )
        for name, content, content_type in reply.attachments:
            email.attach(name, content, content_type)
        try:
            if creds.get("smtp_host"):  # the mailbox's own SMTP server

                def send(mailbox: MailboxSettings) -> None:
                    with smtp_session(mailbox, timeout=settings.EMAIL_TIMEOUT) as server:
                        server.send_message(email.message(), from_address, [reply.customer_address])

                if ctx is not None:
                    _signed_in(ctx, send)
                else:
                    send(mailbox_settings(creds))
            else:  # the site's mail server (settings.EMAIL_*)
                email.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            raise ConnectorError(f"recipient refused: {exc}", permanent=True) from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise ConnectorError(f"SMTP authentication failed: {exc}", permanent=True) from exc
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
            raise ConnectorError(f"message refused: {exc}", permanent=exc.smtp_code >= 500) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise ConnectorError(f"SMTP delivery failed: {exc}") from exc
        return SentReceipt(external_id=message_id, sent_at=now())


def _signed_in(ctx: StoreContext, work: Callable[[MailboxSettings], Any]) -> Any:
    """Run `work` with the mailbox's settings; an OAuth mailbox gets a valid access token first, and
    one more (refreshed) try when the server refuses the token it was given."""
    mailbox = mailbox_settings(ctx.credentials)
    if mailbox.auth != "oauth2":
        return work(mailbox)
    ctx, token = oauth.access_token(ctx)
    try:
        return work(replace(mailbox, oauth_token=token))
    except AuthError:
        ctx, token = oauth.access_token(ctx, force=True)
        return work(replace(mailbox, oauth_token=token))


def _is_relay(raw: bytes) -> bool:
    return b"@marketplace.amazon." in raw[:20_000].lower()


def _amazon_stores(organization_id: int) -> dict[int, str]:
    return dict(
        Store.objects.filter(organization_id=organization_id, platform=Platform.AMAZON, is_active=True).values_list(
            "id", "site"
        )
    )


def _with_accepted_attachments(record: MessageRecord) -> MessageRecord:
    """Keep the attachments the inbox accepts (the same checks as any upload); the others are named
    in a note under the text rather than failing the customer's whole message."""
    if not record.attachments:
        return record
    kept: list[AttachmentRecord] = []
    left_out: list[str] = []
    total = 0
    for attachment in record.attachments:
        if len(kept) >= MAX_ATTACHMENTS:
            left_out.append(f"{attachment.filename} (too many attachments)")
            continue
        if total + len(attachment.content) > settings.ATTACHMENT_MAX_TOTAL_BYTES:
            left_out.append(f"{attachment.filename} (the attachments are too large together)")
            continue
        try:
            check_attachment(
                AttachmentInput(attachment.filename, attachment.content, attachment.content_type), index=len(kept)
            )
        except ValidationFailed as exc:
            left_out.append(f"{attachment.filename} ({exc})")
            continue
        kept.append(attachment)
        total += len(attachment.content)
    if not left_out:
        return record
    note = "\n\n[Attachments not kept: " + "; ".join(left_out) + "]"
    body = record.body + note
    display = (record.body_display + note) if record.body_display else ""
    return replace(record, attachments=kept, body=body, body_display=display)
