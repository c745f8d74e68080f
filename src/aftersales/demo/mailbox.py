"""The demo's mail server on loopback: the seeded mailbox "Email (support@gadgets.example)" reads
its mail over IMAP and sends its replies over SMTP here, so `make run` shows e-mail end to end
through exactly the production pipeline (the IMAP watcher, the sync engine, SMTP delivery).

- SMTP (aiosmtpd): accepts every message and keeps it; each one is logged by `manage.py fakes`
  ("mail: delivered ... to ...") and listed on the outbox page `GET /` of the IMAP port's
  neighbour (`DemoMailServer.outbox_url`).
- IMAP: a small IMAP4rev1 server for the one demo mailbox, enough for imapclient: LOGIN,
  CAPABILITY, SELECT / EXAMINE, UID SEARCH (UID range, SINCE, ALL), UID FETCH BODY.PEEK[],
  STATUS, LIST, NOOP, IDLE (new mail is announced at once), LOGOUT. Buyers' new e-mails are
  appended to its INBOX by `DemoMailServer.tick` (and seeded at start).

Everything listens on 127.0.0.1 only; the credentials are the fake's demo values."""

from __future__ import annotations

import html
import logging
import random
import re
import select
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.utils import format_datetime, make_msgid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

logger = logging.getLogger(__name__)

MAILBOX_ADDRESS = "support@gadgets.example"
MAILBOX_PASSWORD = "demo-mail-pass"  # noqa: S105 (the local fake's demo value)
# Offsets from the fakes' port base (after the marketplaces' ports): SMTP, IMAP, the outbox page.
PORT_OFFSETS = {"smtp": 20, "imap": 21, "outbox": 22}


@dataclass
class StoredMail:
    uid: int
    raw: bytes
    received: datetime


@dataclass
class Outgoing:
    sender: str
    recipients: list[str]
    subject: str
    body: str
    at: datetime


@dataclass
class MailStore:
    # A new INBOX on every start (its mail lives in memory): a new UIDVALIDITY tells the mailbox's
    # cursor to read the window again (deduplicated by Message-ID), as a rebuilt folder does.
    uidvalidity: int = field(default_factory=lambda: int(time.time()))
    inbox: list[StoredMail] = field(default_factory=list)
    outbox: list[Outgoing] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def append(self, raw: bytes, when: datetime | None = None) -> int:
        with self.changed:
            uid = (self.inbox[-1].uid + 1) if self.inbox else 1
            self.inbox.append(StoredMail(uid, raw, when or datetime.now(UTC)))
            self.changed.notify_all()
            return uid


# --- IMAP ----------------------------------------------------------------------------------------

_ATOM = re.compile(r'"((?:[^"\\]|\\.)*)"|(\S+)')
CAPABILITIES = "IMAP4rev1 IDLE LITERAL+"


def _args(text: str) -> list[str]:
    return [m.group(1) if m.group(1) is not None else m.group(2) for m in _ATOM.finditer(text)]


def _uid_set(text: str, highest: int) -> set[int]:
    uids: set[int] = set()
    for part in text.split(","):
        low, _, high = part.partition(":")
        start = highest if low == "*" else int(low)
        end = start if not high else (highest if high == "*" else int(high))
        if start > end:
            start, end = end, start
        uids.update(range(start, end + 1))
    return uids


class _ImapHandler(socketserver.StreamRequestHandler):
    server: _ImapServer

    def send(self, line: str | bytes) -> None:
        self.wfile.write((line.encode() if isinstance(line, str) else line) + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        store = self.server.store
        self.send(f"* OK [CAPABILITY {CAPABILITIES}] demo IMAP ready")
        authenticated = False
        while True:
            line = self.rfile.readline()
            if not line:
                return
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            tag, _, rest = text.partition(" ")
            command, _, args = rest.partition(" ")
            command = command.upper()
            if command == "UID":
                command, _, args = args.partition(" ")
                command = "UID " + command.upper()
            if command == "CAPABILITY":
                self.send(f"* CAPABILITY {CAPABILITIES}")
                self.send(f"{tag} OK CAPABILITY completed")
            elif command == "LOGIN":
                user, password = [*_args(args), "", ""][:2]
                if user.lower() == MAILBOX_ADDRESS and password == MAILBOX_PASSWORD:
                    authenticated = True
                    self.send(f"{tag} OK [CAPABILITY {CAPABILITIES}] Logged in")
                else:
                    self.send(f"{tag} NO [AUTHENTICATIONFAILED] Authentication failed.")
            elif command == "LOGOUT":
                self.send("* BYE Logging out")
                self.send(f"{tag} OK Logout completed.")
                return
            elif command == "NOOP":
                self.send(f"{tag} OK NOOP completed.")
            elif not authenticated:
                self.send(f"{tag} BAD Log in first")
            elif command in ("SELECT", "EXAMINE"):
                with store.changed:
                    count, uidnext = len(store.inbox), (store.inbox[-1].uid + 1 if store.inbox else 1)
                self.send(r"* FLAGS (\Seen \Answered \Flagged \Deleted \Draft)")
                self.send(f"* {count} EXISTS")
                self.send("* 0 RECENT")
                self.send(f"* OK [UIDVALIDITY {store.uidvalidity}] UIDs valid")
                self.send(f"* OK [UIDNEXT {uidnext}] Predicted next UID")
                mode = "READ-ONLY" if command == "EXAMINE" else "READ-WRITE"
                self.send(f"{tag} OK [{mode}] {command} completed.")
            elif command == "LIST":
                self.send('* LIST (\\HasNoChildren) "/" INBOX')
                self.send(f"{tag} OK LIST completed.")
            elif command == "STATUS":
                with store.changed:
                    count = len(store.inbox)
                self.send(f"* STATUS INBOX (MESSAGES {count})")
                self.send(f"{tag} OK STATUS completed.")
            elif command in ("UID SEARCH", "SEARCH"):
                self.send("* SEARCH " + " ".join(str(u) for u in self._search(args)))
                self.send(f"{tag} OK SEARCH completed.")
            elif command in ("UID FETCH", "FETCH"):
                self._fetch(args)
                self.send(f"{tag} OK FETCH completed.")
            elif command == "IDLE":
                self._idle(tag)
            else:
                self.send(f"{tag} BAD unsupported command in the demo IMAP")

    def _search(self, args: str) -> list[int]:
        store = self.server.store
        with store.changed:
            mails = list(store.inbox)
        words = _args(args)
        if len(words) >= 2 and words[0].upper() == "UID":
            wanted = _uid_set(words[1], mails[-1].uid if mails else 0)
            return [m.uid for m in mails if m.uid in wanted]
        if len(words) >= 2 and words[0].upper() == "SINCE":
            since = datetime.strptime(words[1], "%d-%b-%Y").replace(tzinfo=UTC).date()
            return [m.uid for m in mails if m.received.date() >= since]
        return [m.uid for m in mails]

    def _fetch(self, args: str) -> None:
        store = self.server.store
        with store.changed:
            mails = list(store.inbox)
        ids, _, _items = args.partition(" ")
        wanted = _uid_set(ids, mails[-1].uid if mails else 0)
        for seq, mail in enumerate(mails, start=1):
            if mail.uid in wanted:
                self.wfile.write(f"* {seq} FETCH (UID {mail.uid} BODY[] {{{len(mail.raw)}}}\r\n".encode())
                self.wfile.write(mail.raw)
                self.send(")")

    def _idle(self, tag: str) -> None:
        store = self.server.store
        self.send("+ idling")
        with store.changed:
            known = len(store.inbox)
        while True:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if readable:
                line = self.rfile.readline()
                if not line or line.strip().upper() == b"DONE":
                    break
            with store.changed:
                store.changed.wait(timeout=0.5)
                count = len(store.inbox)
            if count != known:
                known = count
                self.send(f"* {count} EXISTS")
        self.send(f"{tag} OK IDLE terminated.")


class _ImapServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], store: MailStore) -> None:
        self.store = store
        super().__init__(address, _ImapHandler)


# --- the outbox page -----------------------------------------------------------------------------


def _outbox_handler(store: MailStore) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            rows = "".join(
                f"<tr><td>{html.escape(m.at.strftime('%Y-%m-%d %H:%M:%S'))}</td><td>{html.escape(m.sender)}</td>"
                f"<td>{html.escape(', '.join(m.recipients))}</td><td>{html.escape(m.subject)}</td>"
                f"<td><pre>{html.escape(m.body[:2000])}</pre></td></tr>"
                for m in reversed(store.outbox)
            )
            page = (
                "<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>"
                "<title>Demo outbox</title><style>body{font:14px system-ui;margin:1rem}table{border-collapse:collapse;"
                "width:100%}td,th{border:1px solid #ccc;padding:.4rem;vertical-align:top;text-align:left}"
                "pre{white-space:pre-wrap;margin:0}@media(max-width:640px){table,tbody,tr,td{display:block}"
                "th{display:none}tr{border:1px solid #ccc;margin-bottom:.6rem}"
                "td{border:0;overflow-wrap:anywhere}}</style>"
                f"<h1>Demo outbox</h1><p>{len(store.outbox)} message(s) sent by the demo mailbox through the local "
                "SMTP fake (nothing leaves this machine).</p><table><tr><th>Sent</th><th>From</th><th>To</th>"
                f"<th>Subject</th><th>Text</th></tr>{rows}</table>"
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


# --- the server ----------------------------------------------------------------------------------


class _SmtpSink:
    def __init__(self, store: MailStore, on_mail: Callable[[Outgoing], None]) -> None:
        self.store = store
        self.on_mail = on_mail

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        part = message.get_body(preferencelist=("plain", "html")) if hasattr(message, "get_body") else None
        body = part.get_content() if part is not None else ""
        outgoing = Outgoing(
            sender=str(envelope.mail_from),
            recipients=[str(r) for r in envelope.rcpt_tos],
            subject=str(message.get("Subject", "")),
            body=str(body),
            at=datetime.now(UTC),
        )
        self.store.outbox.append(outgoing)
        self.on_mail(outgoing)
        return "250 Message accepted for delivery"


class DemoMailServer:
    """SMTP sink + IMAP INBOX + outbox page of the demo mailbox, on 127.0.0.1."""

    def __init__(self, *, on_mail: Callable[[Outgoing], None] | None = None, seed: int = 7) -> None:
        self.store = MailStore()
        self.on_mail = on_mail or (lambda mail: None)
        self.random = random.Random(seed)  # noqa: S311 (demo content, not secrets)
        self.ports: dict[str, int] = {}
        self._smtp: Any = None
        self._imap: _ImapServer | None = None
        self._outbox: ThreadingHTTPServer | None = None
        self._counter = 0

    def start(self, port_base: int = 0) -> DemoMailServer:
        from aiosmtpd.controller import Controller  # a dev dependency: only the demo and the tests use it

        def port(key: str) -> int:
            if port_base:
                return port_base + PORT_OFFSETS[key]
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                return int(s.getsockname()[1])

        self.ports = {key: port(key) for key in PORT_OFFSETS}
        self._imap = _ImapServer(("127.0.0.1", self.ports["imap"]), self.store)
        self._outbox = ThreadingHTTPServer(("127.0.0.1", self.ports["outbox"]), _outbox_handler(self.store))
        for server in (self._imap, self._outbox):
            threading.Thread(target=server.serve_forever, daemon=True).start()
        self._smtp = Controller(
            _SmtpSink(self.store, lambda mail: self.on_mail(mail)), hostname="127.0.0.1", port=self.ports["smtp"]
        )
        self._smtp.start()
        return self

    def stop(self) -> None:
        if self._smtp is not None:
            self._smtp.stop()
        for server in (self._imap, self._outbox):
            if server is not None:
                server.shutdown()
                server.server_close()

    @property
    def outbox_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['outbox']}/"

    def credentials(self) -> dict[str, Any]:
        """The demo mailbox store's credentials for this server."""
        return {
            "address": MAILBOX_ADDRESS,
            "imap_host": "127.0.0.1",
            "imap_port": self.ports["imap"],
            "imap_ssl": False,
            "username": MAILBOX_ADDRESS,
            "password": MAILBOX_PASSWORD,
            "folders": ["INBOX"],
            "smtp_host": "127.0.0.1",
            "smtp_port": self.ports["smtp"],
            "smtp_tls": "none",
            "from_address": MAILBOX_ADDRESS,
        }

    # --- buyers writing ----------------------------------------------------------------------------

    def buyer_mail(
        self, *, name: str, address: str, subject: str, body: str, when: datetime | None = None, message_id: str = ""
    ) -> int:
        """Append a buyer's e-mail to the INBOX; a fixed `message_id` (the seeded mail) makes a
        restarted demo's copy a duplicate instead of a second message."""
        when = when or datetime.now(UTC)
        self._counter += 1
        message_id = message_id or make_msgid(idstring=f"demo{self._counter}", domain="mail.example")
        raw = (
            f"From: {name} <{address}>\r\nTo: Gadgets Support <{MAILBOX_ADDRESS}>\r\n"
            f"Subject: {subject}\r\nDate: {format_datetime(when)}\r\n"
            f"Message-ID: {message_id}\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
            f"\r\n{body}\r\n"
        ).encode()
        return self.store.append(raw, when)
