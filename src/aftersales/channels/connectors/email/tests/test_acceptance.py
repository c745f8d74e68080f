"""Acceptance: mailboxes synced from a real IMAP server (dovecot, started by the tests) into tickets
through the sync engine, replies delivered to a real SMTP server (aiosmtpd) and checked byte for
header. No mocks: IMAP, SMTP, the engine and the inbox all run for real."""

from __future__ import annotations

import threading
import time
from email.utils import make_msgid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from aftersales.catalog.models import Platform
from aftersales.channels.base import Stream
from aftersales.channels.connectors.email.client import MailboxCursor, wait_for_mail
from aftersales.channels.connectors.email.connector import EmailConnector
from aftersales.channels.context import store_context
from aftersales.channels.models import StreamCursor
from aftersales.channels.sync import sync_stream
from aftersales.core.errors import ValidationFailed
from aftersales.inbox.models import DeliveryStatus, Message, MessageDirection, Ticket
from aftersales.inbox.services import ticket_reply
from aftersales.inbox.services.delivery import message_deliver
from aftersales.inbox.services.tickets import ticket_change_status
from aftersales.testing.dovecot import DovecotServer
from aftersales.testing.factories import StoreFactory

pytestmark = pytest.mark.skipif(not DovecotServer.available(), reason="dovecot-imapd is not installed")

_counter = iter(range(1, 1_000_000))


def mail(
    *,
    sender: str = "Jane Doe <jane@example.com>",
    to: str = "support@gadgets.example",
    subject: str = "Order 1001 arrived broken",
    body: str = "The lid is cracked.",
    message_id: str | None = None,
    extra: str = "",
) -> tuple[bytes, str]:
    message_id = message_id or make_msgid(idstring=f"t{next(_counter)}", domain="customer.example")
    raw = (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\n"
        f"Message-ID: {message_id}\r\n{extra}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"\r\n{body}\r\n"
    ).encode()
    return raw, message_id


@pytest.fixture
def mailboxes(world, dovecot, smtp_server):
    """Two mailboxes of the organization on the IMAP server, sending through the SMTP server."""
    stores = []
    for local in ("support", "sales"):
        account = dovecot.add_account(f"{local}-{next(_counter)}@gadgets.example")
        store = StoreFactory(
            organization=world.org, name=f"Mailbox {account.username}", platform=Platform.EMAIL, site=""
        )
        store.credentials = dovecot.credentials(
            account,
            from_address=account.username,
            smtp_host="127.0.0.1",
            smtp_port=smtp_server.port,
            smtp_tls="none",
        )
        store.save()
        world.team_us.stores.add(store)
        stores.append((store, account))
    return stores


def sync(store):  # type: ignore[no-untyped-def]
    run = sync_stream(store_id=store.pk, stream=Stream.MESSAGES)
    assert run.status == "succeeded", (run.status, run.error)
    return run


def test_mailbox_sync_threads_ignores_and_dedupes(
    world, dovecot, mailboxes, smtp_server, django_capture_on_commit_callbacks
):
    (support, support_account), (sales, sales_account) = mailboxes

    # 1. A customer's first mail opens a ticket.
    first, first_id = mail()
    dovecot.deliver(support_account, first)
    run = sync(support)
    assert run.created == 1
    ticket = Ticket.objects.get(store=support)
    assert ticket.subject == "Order 1001 arrived broken"
    assert ticket.customer.email == "jane@example.com"
    inbound = ticket.messages.get()
    assert inbound.external_id == first_id and inbound.body == "The lid is cracked."

    # 2. The agent's reply reaches the SMTP server with our Message-ID and the threading headers.
    with django_capture_on_commit_callbacks(execute=True):
        reply = ticket_reply(ticket=ticket, author=world.agent, body="Sorry! A replacement is on its way.")
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.SENT, reply.delivery_error
    assert len(smtp_server.received) == 1
    sent = smtp_server.received[0]
    assert sent["From"] == support_account.username
    assert sent["To"] == "jane@example.com"
    assert sent["Subject"] == "Re: Order 1001 arrived broken"
    assert sent["In-Reply-To"] == first_id
    assert sent["References"] == first_id
    assert sent["Message-ID"] == reply.external_id
    assert sent["Message-ID"].startswith(f"<as.{reply.pk}.") and sent["Message-ID"].endswith("@gadgets.example>")
    assert sent.get_content().strip() == "Sorry! A replacement is on its way."
    assert sent["Auto-Submitted"] is None  # a person's answer, not an automatic one
    ticket.refresh_from_db()
    assert ticket.status == "pending_customer"

    # 3. The customer answers from another address, another subject: threaded by our Message-ID.
    answer, _ = mail(
        sender="Jane at work <jane.doe@work.example>",
        subject="the box",
        body="Thanks! Will it come before Friday?\r\n\r\nOn Tue, Support wrote:\r\n> Sorry!",
        extra=f"In-Reply-To: {sent['Message-ID']}\r\nReferences: {first_id} {sent['Message-ID']}\r\n",
    )
    dovecot.deliver(support_account, answer)
    # 4. An out-of-office and a mailing-list mail open nothing and change nothing.
    dovecot.deliver(support_account, mail(subject="Out of Office: Re: x", extra="Auto-Submitted: auto-replied\r\n")[0])
    dovecot.deliver(support_account, mail(sender="news@shop.example", extra="Precedence: bulk\r\n")[0])
    run = sync(support)
    assert (run.records, run.ignored) == (3, 2)
    assert Ticket.objects.filter(organization=world.org, store=support).count() == 1
    ticket.refresh_from_db()
    assert ticket.status == "open"  # the customer's answer reopened it; the auto-replies did not count
    latest = ticket.messages.filter(direction=MessageDirection.INBOUND).order_by("-id").first()
    assert latest is not None and latest.body_display == "Thanks! Will it come before Friday?"
    assert "Support wrote" in latest.body  # the original keeps the quoted history

    # 5. A solved ticket takes a message naming it in the subject ([#id]) from its customer only.
    ticket_change_status(ticket=ticket, actor=world.agent, status="solved")
    dovecot.deliver(support_account, mail(subject=f"Still broken [#{ticket.pk}]", body="The new one too.")[0])
    stranger, _ = mail(sender="mallory@evil.example", subject=f"[#{ticket.pk}] hello", body="Let me in.")
    dovecot.deliver(support_account, stranger)
    sync(support)
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert ticket.messages.filter(body="The new one too.").exists()
    assert Ticket.objects.filter(store=support, customer__email="mallory@evil.example").count() == 1

    # 6. A bounce of our reply marks it failed; no ticket, no status change.
    bounce = (
        "From: MAILER-DAEMON@mx.example.com\r\nTo: {to}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Date: Tue, 01 Dec 2026 11:00:00 +0000\r\nMessage-ID: <bounce-1@mx.example.com>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n"
        "Final-Recipient: rfc822; jane@example.com\r\nAction: failed\r\nStatus: 5.2.2\r\n"
        "Diagnostic-Code: smtp; 552 5.2.2 Mailbox full\r\n\r\n"
        "--b\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: {to}\r\nTo: jane@example.com\r\n"
        "Message-ID: {mid}\r\n\r\n--b--\r\n"
    ).format(to=support_account.username, mid=sent["Message-ID"])
    dovecot.deliver(support_account, bounce.encode())
    status_before = Ticket.objects.get(pk=ticket.pk).status
    sync(support)
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED
    assert "Mailbox full" in reply.delivery_error
    assert Ticket.objects.get(pk=ticket.pk).status == status_before
    assert Ticket.objects.filter(organization=world.org, customer__email__icontains="mailer-daemon").count() == 0

    # 7. One mail sent to both mailboxes (Cc) is stored once.
    both, both_id = mail(sender="Ken <ken@example.jp>", to=f"{support_account.username}, {sales_account.username}")
    dovecot.deliver(support_account, both)
    dovecot.deliver(sales_account, both)
    sync(support)
    run = sync(sales)
    assert run.duplicates == 1 and run.created == 0
    assert Message.objects.filter(external_id=both_id).count() == 1

    # 8. Syncing again creates nothing; neither does a rebuilt folder (new UIDVALIDITY, same mail).
    messages = Message.objects.filter(ticket__organization=world.org).count()
    tickets = Ticket.objects.filter(organization=world.org).count()
    for store in (support, sales):
        assert sync(store).records == 0
    with dovecot.client(support_account) as client:
        client.select_folder("INBOX")
        raws = [data[b"BODY[]"] for data in client.fetch(client.search("ALL"), ["BODY.PEEK[]"]).values()]
    dovecot.reset_folder(support_account)
    for raw in raws:
        dovecot.deliver(support_account, raw)
    cursor = StreamCursor.objects.get(store=support, stream=Stream.MESSAGES)
    state = MailboxCursor.load(cursor.cursor)
    run = sync(support)
    assert run.created == 0 and run.records == len(raws)
    assert MailboxCursor.load(StreamCursor.objects.get(pk=cursor.pk).cursor).folders["INBOX"] != state.folders["INBOX"]
    assert Message.objects.filter(ticket__organization=world.org).count() == messages
    assert Ticket.objects.filter(organization=world.org).count() == tickets


def test_amazon_relay_message_goes_to_the_amazon_store_and_is_answered_by_its_rules(
    world, dovecot, mailboxes, smtp_server, django_capture_on_commit_callbacks
):
    (support, support_account), _ = mailboxes
    relay = "q9w8e7r6t5y4abc@marketplace.amazon.com"
    raw, relay_id = mail(
        sender=f"John Smith - Amazon Marketplace <{relay}>",
        subject="Return request for order 114-3941689-8772232",
        body="------------- Message: -------------\r\n\r\nIt does not fit.\r\n\r\n"
        "------------- End message -------------\r\n\r\nFor Your Information: ...",
    )
    dovecot.deliver(support_account, raw)
    sync(support)
    ticket = Ticket.objects.get(messages__external_id=relay_id)
    assert ticket.store == world.store_us  # the organization's only Amazon store
    assert ticket.customer.name == "John Smith"
    assert ticket.messages.get().body_display == "It does not fit."

    with pytest.raises(ValidationFailed) as refused:
        ticket_reply(ticket=ticket, author=world.agent, body="Please see https://my-shop.example/returns")
    assert refused.value.field == "body" and "links" in str(refused.value)
    with pytest.raises(ValidationFailed) as refused:
        ticket_reply(ticket=ticket, author=world.agent, body="Write to me at help@my-shop.example")
    assert refused.value.field == "body"
    assert not Message.objects.filter(ticket=ticket, direction=MessageDirection.OUTBOUND).exists()

    with django_capture_on_commit_callbacks(execute=True):
        reply = ticket_reply(
            ticket=ticket, author=world.agent, body="Sorry! Start the return at https://www.amazon.com/returns"
        )
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.SENT, reply.delivery_error
    sent = smtp_server.received[-1]
    assert sent["To"] == relay
    assert sent["From"] == support_account.username  # the address registered with Amazon
    assert sent["In-Reply-To"] == relay_id
    assert sent.get_content_type() == "text/plain"


def test_connection_check_and_idle(world, dovecot, mailboxes, smtp_server):
    (support, support_account), _ = mailboxes
    connector = EmailConnector()
    check = connector.test_connection(store_context(support, connector=connector))
    assert check.ok, check.detail
    assert "IMAP login ok" in check.detail and "SMTP ok" in check.detail

    wrong = StoreFactory(organization=world.org, name="Wrong password", platform=Platform.EMAIL)
    wrong.credentials = {**support.credentials, "password": "nope"}
    wrong.save()
    check = connector.test_connection(store_context(wrong, connector=connector))
    assert not check.ok and "IMAP login refused" in check.detail
    run = sync_stream(store_id=wrong.pk, stream=Stream.MESSAGES)
    assert run.status != "succeeded" and "IMAP login refused" in run.error

    # IDLE (dovecot offers it): returns as soon as a message arrives
    ctx = store_context(support, connector=connector)
    waiting = threading.Event()
    result: list[bool] = []
    watcher = threading.Thread(
        target=lambda: result.append(connector.wait_for_mail(ctx, timeout=10, ready=waiting.set))
    )
    watcher.start()
    assert waiting.wait(10)
    started = time.monotonic()
    dovecot.deliver(support_account, mail()[0])
    watcher.join(15)
    assert result == [True] and time.monotonic() - started < 5
    assert connector.wait_for_mail(ctx, timeout=0.5) is False

    # without IDLE: polling (NOOP + STATUS), the wait injected
    class NoIdle:
        def __init__(self, client):  # type: ignore[no-untyped-def]
            self.client = client

        def __getattr__(self, name):  # type: ignore[no-untyped-def]
            return getattr(self.client, name)

        def capabilities(self):  # type: ignore[no-untyped-def]
            return tuple(c for c in self.client.capabilities() if c != b"IDLE")

    with dovecot.client(support_account) as client:
        polls: list[float] = []

        def poll_wait(seconds: float) -> None:
            polls.append(seconds)
            if len(polls) == 2:
                dovecot.deliver(support_account, mail()[0])

        assert wait_for_mail(NoIdle(client), "INBOX", timeout=60, poll_every=7, sleep=poll_wait) is True
        assert polls == [7, 7]


def test_mail_watch_syncs_the_mailbox(world, dovecot, mailboxes):
    (support, support_account), _ = mailboxes
    dovecot.deliver(support_account, mail(subject="Watched")[0])
    out = StringIO()
    call_command("mail_watch", "--store", str(support.pk), "--once", "--timeout", "0.5", stdout=out)
    assert out.getvalue().strip() == f"store {support.pk}: no new mail, synced"  # it came before the wait
    assert Ticket.objects.filter(store=support, subject="Watched").exists()
    with pytest.raises(CommandError, match="not a mailbox"):
        call_command("mail_watch", "--store", str(world.store_us.pk), "--once")


class _AuthHandler:
    """aiosmtpd handler of a server that requires AUTH: keeps who logged in and what was sent."""

    def __init__(self) -> None:
        self.logins: list[str] = []
        self.received: list[bytes] = []

    def authenticate(self, server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"mailer", b"s3cret")
        if ok:
            self.logins.append(auth_data.login.decode())
        if ok:
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False, message="535 5.7.8 Authentication credentials invalid")

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.received.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp_with_auth():  # type: ignore[no-untyped-def]
    from aiosmtpd.controller import Controller

    from aftersales.testing.smtp import free_port

    handler = _AuthHandler()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=handler.authenticate,
        auth_required=True,
        auth_require_tls=False,  # loopback only: no certificate in the test
    )
    controller.start()
    yield handler, port
    controller.stop()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_mailbox_smtp_server_with_authentication(world, dovecot, mailboxes, smtp_with_auth):
    handler, port = smtp_with_auth
    (support, support_account), _ = mailboxes
    dovecot.deliver(support_account, mail()[0])
    sync(support)
    ticket = Ticket.objects.get(store=support)
    support.credentials = {
        **support.credentials,
        "smtp_port": port,
        "smtp_username": "mailer",
        "smtp_password": "s3cret",
    }
    support.save()
    check = EmailConnector().test_connection(store_context(support))
    assert check.ok and "SMTP ok" in check.detail, check.detail
    reply = ticket_reply(ticket=ticket, author=world.agent, body="Logged in and sent.")
    assert message_deliver(reply.pk) == DeliveryStatus.SENT
    assert handler.logins == ["mailer", "mailer"]  # the connection check, then the reply
    assert b"Logged in and sent." in handler.received[-1]

    support.credentials = {**support.credentials, "smtp_password": "wrong"}
    support.save()
    check = EmailConnector().test_connection(store_context(support))
    assert not check.ok and "SMTP authentication failed" in check.detail
    again = ticket_reply(ticket=ticket, author=world.agent, body="Not with a wrong password.")
    assert message_deliver(again.pk) == DeliveryStatus.FAILED  # permanent: the admin must fix it
    again.refresh_from_db()
    assert "SMTP authentication failed" in again.delivery_error
