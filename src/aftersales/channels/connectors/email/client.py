"""IMAP (imapclient) and SMTP access to one mailbox, with errors classified for the engine.

Credentials of a mailbox store (encrypted at rest, never logged):
    address, imap_host, imap_port, imap_ssl (implicit TLS, default on) or imap_starttls,
    username, password, folders (default ["INBOX"]), auth ("password" | "oauth2": XOAUTH2 with a
    token from oauth.py, for Gmail / Microsoft 365),
    smtp_host, smtp_port, smtp_tls ("ssl" | "starttls" | "none"; default starttls),
    smtp_username / smtp_password (default: the IMAP ones), from_address (default: address).

The cursor of a mailbox is one JSON object for all its folders: {"folders": {"INBOX": [uidvalidity,
last uid]}, "since": "2026-11-01"}. A folder whose UIDVALIDITY changed (the server rebuilt it) is
read again from the start of the window: the raw-record dedupe on the Message-ID keeps that
idempotent. New mail is waited for with IDLE where the server offers it, else by polling."""

from __future__ import annotations

import json
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aftersales.channels.base import AuthError, ConnectorError

from .oauth import xoauth2

if TYPE_CHECKING:
    from imapclient import IMAPClient

DEFAULT_LOOKBACK = timedelta(days=30)
# A watched mailbox holds one IMAP connection per folder while it waits (IDLE applies to the
# selected folder only, RFC 2177); at most this many, since servers cap a user's connections
# (dovecot's mail_max_userip_connections defaults to 10, Gmail allows 15). Folders past the bound
# are still read by every sync; only their new mail does not wake the watcher.
MAX_WATCHED_FOLDERS = 8
TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class MailboxSettings:
    address: str
    imap_host: str
    imap_port: int
    imap_ssl: bool
    imap_starttls: bool
    username: str
    password: str
    folders: tuple[str, ...]
    smtp_host: str
    smtp_port: int
    smtp_tls: str  # ssl | starttls | none
    smtp_username: str
    smtp_password: str
    from_address: str
    auth: str = "password"  # "oauth2": sign in with XOAUTH2 and `oauth_token`
    oauth_token: str = ""

    @property
    def domain(self) -> str:
        return self.from_address.rpartition("@")[2] or "localhost"


def _flag(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def mailbox_settings(credentials: Mapping[str, Any]) -> MailboxSettings:
    """Read a mailbox's credentials; a missing or malformed one is a permanent ConnectorError
    naming the credential (the store page shows it)."""
    creds = dict(credentials or {})
    address = str(creds.get("address") or creds.get("from_address") or "").strip()

    def port(name: str, default: int) -> int:
        try:
            value = int(creds.get(name) or default)
        except (TypeError, ValueError):
            raise ConnectorError(f"the mailbox's {name} is not a number", permanent=True, code="credentials") from None
        if not 0 < value < 65536:
            raise ConnectorError(f"the mailbox's {name} is out of range", permanent=True, code="credentials")
        return value

    imap_ssl = _flag(creds.get("imap_ssl"), default=not _flag(creds.get("imap_starttls"), default=False))
    folders = creds.get("folders") or ["INBOX"]
    if isinstance(folders, str):
        folders = [f.strip() for f in folders.split(",") if f.strip()]
    username = str(creds.get("username") or address).strip()
    password = str(creds.get("password") or "")
    smtp_tls = str(creds.get("smtp_tls") or ("starttls" if _flag(creds.get("use_tls"), True) else "none")).lower()
    if smtp_tls in {"true", "1", "yes"}:
        smtp_tls = "starttls"
    if smtp_tls not in {"ssl", "starttls", "none", "false", "0", "no"}:
        raise ConnectorError("the mailbox's smtp_tls must be ssl, starttls or none", permanent=True)
    return MailboxSettings(
        address=address.lower(),
        imap_host=str(creds.get("imap_host") or "").strip(),
        imap_port=port("imap_port", 993 if imap_ssl else 143),
        imap_ssl=imap_ssl,
        imap_starttls=_flag(creds.get("imap_starttls"), default=False),
        username=username,
        password=password,
        folders=tuple(str(f) for f in folders),
        smtp_host=str(creds.get("smtp_host") or "").strip(),
        smtp_port=port("smtp_port", 465 if smtp_tls == "ssl" else 587),
        smtp_tls=smtp_tls if smtp_tls in {"ssl", "starttls"} else "none",
        smtp_username=str(creds.get("smtp_username") or username),
        smtp_password=str(creds.get("smtp_password") or password),
        from_address=str(creds.get("from_address") or address).strip(),
        auth="oauth2" if str(creds.get("auth") or "") == "oauth2" else "password",
    )


def check_imap_settings(settings: MailboxSettings) -> None:
    if not settings.imap_host:
        raise ConnectorError("the mailbox's imap_host is not set", permanent=True, code="credentials")
    if settings.auth == "oauth2":
        if not settings.username or not settings.oauth_token:
            raise ConnectorError("the mailbox's OAuth sign-in is not connected", permanent=True, code="credentials")
        return
    if not settings.username or not settings.password:
        raise ConnectorError("the mailbox's username and password are not set", permanent=True, code="credentials")


# --- Cursor --------------------------------------------------------------------------------------


@dataclass
class MailboxCursor:
    folders: dict[str, tuple[int, int]] = field(default_factory=dict)  # folder -> (uidvalidity, last uid)
    since: date | None = None

    @classmethod
    def load(cls, text: str | None) -> MailboxCursor:
        if not text:
            return cls()
        try:
            data = json.loads(text)
            folders = {str(k): (int(v[0]), int(v[1])) for k, v in (data.get("folders") or {}).items()}
            since = date.fromisoformat(data["since"]) if data.get("since") else None
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            return cls()  # an unreadable cursor: read the window again (deduplicated)
        return cls(folders=folders, since=since)

    def dump(self) -> str:
        return json.dumps(
            {
                "folders": {k: [v[0], v[1]] for k, v in sorted(self.folders.items())},
                "since": self.since.isoformat() if self.since else None,
            },
            sort_keys=True,
        )


@dataclass(frozen=True)
class FetchedMail:
    folder: str
    uidvalidity: int
    uid: int
    raw: bytes


# --- IMAP ----------------------------------------------------------------------------------------


def _imap_error(exc: Exception) -> ConnectorError:
    from imapclient.exceptions import LoginError

    if isinstance(exc, LoginError):
        return AuthError(f"IMAP login refused: {_text(exc)}", code="imap_login")
    if isinstance(exc, ssl.SSLError):
        return ConnectorError(f"IMAP TLS failed: {exc}", permanent=True, code="imap_tls")
    if isinstance(exc, socket.gaierror):
        return ConnectorError(f"IMAP server not found: {exc}", code="imap_dns")
    return ConnectorError(f"IMAP failed: {_text(exc)}", code="imap")


def _text(exc: Exception) -> str:
    value = exc.args[0] if exc.args else exc
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


@contextmanager
def imap_session(settings: MailboxSettings, *, timeout: float = TIMEOUT_SECONDS) -> Iterator[IMAPClient]:
    check_imap_settings(settings)
    from imapclient import IMAPClient  # where a mailbox is opened (issue 13: not in web processes)
    from imapclient.exceptions import IMAPClientError

    try:
        client = IMAPClient(settings.imap_host, port=settings.imap_port, ssl=settings.imap_ssl, timeout=timeout)
        if settings.imap_starttls and not settings.imap_ssl:
            client.starttls(ssl.create_default_context())
        if settings.auth == "oauth2":
            client.oauth2_login(settings.username, settings.oauth_token)
        else:
            client.login(settings.username, settings.password)
    except (IMAPClientError, OSError, ssl.SSLError) as exc:
        raise _imap_error(exc) from exc
    try:
        yield client
    except (IMAPClientError, OSError) as exc:
        raise _imap_error(exc) from exc
    finally:
        with suppress(Exception):  # the session is over either way
            client.logout()


def fetch_new(
    client: IMAPClient, cursor: MailboxCursor, folders: tuple[str, ...], *, limit: int, default_since: date
) -> tuple[list[FetchedMail], bool]:
    """Up to `limit` messages after the cursor, folder by folder (UID order); updates `cursor` as it
    goes (the caller persists it only once the records are stored). Returns (mail, caught up)."""
    since = cursor.since or default_since
    cursor.since = since
    fetched: list[FetchedMail] = []
    for folder in folders:
        status = client.select_folder(folder, readonly=True)
        uidvalidity = int(status[b"UIDVALIDITY"])
        known_validity, last_uid = cursor.folders.get(folder, (uidvalidity, 0))
        if known_validity != uidvalidity:
            last_uid = 0  # the server renumbered the folder: read it again (deduplicated downstream)
        if last_uid:
            uids = [u for u in client.search(["UID", f"{last_uid + 1}:*"]) if u > last_uid]
        else:
            uids = client.search(["SINCE", since])
        uids = sorted(uids)
        room = limit - len(fetched)
        batch = uids[:room]
        if batch:
            response = client.fetch(batch, ["BODY.PEEK[]"])
            for uid in batch:
                data = response.get(uid) or {}
                raw = data.get(b"BODY[]")
                if isinstance(raw, bytes):
                    fetched.append(FetchedMail(folder=folder, uidvalidity=uidvalidity, uid=uid, raw=raw))
            last_uid = batch[-1]
        cursor.folders[folder] = (uidvalidity, last_uid)
        if len(uids) > len(batch):
            return fetched, False
    return fetched, True


def wait_for_mail(
    client: IMAPClient,
    folder: str,
    *,
    timeout: float,
    poll_every: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
    ready: Callable[[], None] | None = None,
    after: tuple[int, int] | None = None,
    since: date | None = None,
    stop: Callable[[], bool] | None = None,
) -> bool:
    """Block until the folder gets new mail or `timeout` passes; True if mail came. IDLE where the
    server offers it (RFC 2177), else polling with NOOP every `poll_every` seconds. `ready` is
    called once the wait has started (mail arriving from then on is seen).

    `after` = the cursor's (UIDVALIDITY, last UID) of the folder and `since` its date window: mail
    that the next fetch would take (the same searches as fetch_new) answers True at once, e.g. mail
    that arrived after the last fetch but before this wait began. `stop`, checked every second,
    ends the wait early (False)."""
    status = client.select_folder(folder, readonly=True)
    exists = int(status.get(b"EXISTS", 0))
    if after is not None or since is not None:
        validity, last_uid = after or (int(status.get(b"UIDVALIDITY", 0)), 0)
        if int(status.get(b"UIDVALIDITY", validity)) != validity:
            return True
        if last_uid and any(u > last_uid for u in client.search(["UID", f"{last_uid + 1}:*"])):
            return True
        if not last_uid and since is not None and client.search(["SINCE", since]):
            return True
    if timeout <= 0:
        return False
    deadline = time.monotonic() + timeout
    step = 1.0 if stop is not None else 60.0

    def stopped() -> bool:
        return stop is not None and stop()

    if b"IDLE" in client.capabilities():
        client.idle()
        if ready is not None:
            ready()
        try:
            while (left := deadline - time.monotonic()) > 0 and not stopped():
                responses = client.idle_check(timeout=min(left, step))
                if any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
                    return True
        finally:
            client.idle_done()
        return False
    if ready is not None:
        ready()
    while deadline - time.monotonic() > 0 and not stopped():
        wait = min(poll_every, max(0.0, deadline - time.monotonic()))
        if stop is None:
            sleep(wait)
        else:  # in steps of a second, to notice `stop`
            end = time.monotonic() + wait
            while (rest := end - time.monotonic()) > 0 and not stopped():
                sleep(min(step, rest))
            if stopped():
                return False
        client.noop()
        current = int(client.folder_status(folder, ["MESSAGES"]).get(b"MESSAGES", exists))
        if current > exists:
            return True
    return False


def wait_for_mail_in_folders(
    settings: MailboxSettings,
    folders: Sequence[str],
    *,
    timeout: float,
    poll_every: float = 30.0,
    ready: Callable[[], None] | None = None,
    cursor: MailboxCursor | None = None,
    stop: Callable[[], bool] | None = None,
) -> bool:
    """wait_for_mail on each of the first MAX_WATCHED_FOLDERS `folders` at once, one connection
    (and thread) per folder: True as soon as one gets new mail (the others then stop), False when
    all waited `timeout` or `stop` held. `ready` is called once every folder's wait has started.
    The first error of any folder is raised (after the others stopped), so the caller's backoff
    and OAuth retry apply to the whole mailbox."""
    watched = list(dict.fromkeys(folders))[:MAX_WATCHED_FOLDERS]

    def wait_one(folder: str, stop_one: Callable[[], bool] | None, ready_one: Callable[[], None] | None) -> bool:
        with imap_session(settings, timeout=timeout + 30) as client:
            return wait_for_mail(
                client,
                folder,
                timeout=timeout,
                poll_every=poll_every,
                ready=ready_one,
                after=cursor.folders.get(folder) if cursor else None,
                since=cursor.since if cursor else None,
                stop=stop_one,
            )

    if len(watched) <= 1:
        return wait_one(watched[0] if watched else "INBOX", stop, ready)
    finished = threading.Event()
    lock = threading.Lock()
    waiting: set[str] = set()
    arrived: list[str] = []
    errors: list[BaseException] = []

    def stop_all() -> bool:
        return finished.is_set() or (stop is not None and stop())

    def run(folder: str) -> None:
        def started() -> None:
            with lock:
                waiting.add(folder)
                everyone = len(waiting) == len(watched)
            if everyone and ready is not None:
                ready()

        try:
            if wait_one(folder, stop_all, started):
                arrived.append(folder)
        except BaseException as exc:  # raised below, in the caller's thread
            errors.append(exc)
        finally:
            finished.set()  # mail, an error, the timeout or `stop`: the other folders stop too

    threads = [threading.Thread(target=run, args=(f,), name=f"imap-wait-{f}", daemon=True) for f in watched]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return bool(arrived)


def default_since(since: datetime | None, today: date) -> date:
    return since.date() if since is not None else today - DEFAULT_LOOKBACK


# --- SMTP ----------------------------------------------------------------------------------------


@contextmanager
def smtp_session(settings: MailboxSettings, *, timeout: float = TIMEOUT_SECONDS) -> Iterator[smtplib.SMTP]:
    if not settings.smtp_host:
        raise ConnectorError("the mailbox's smtp_host is not set", permanent=True, code="credentials")
    try:
        server: smtplib.SMTP
        if settings.smtp_tls == "ssl":
            server = smtplib.SMTP_SSL(
                settings.smtp_host, settings.smtp_port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            server = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
        server.ehlo()
        if settings.smtp_tls == "starttls":
            server.starttls(context=ssl.create_default_context())
            server.ehlo()
        # log in where the server asks for it (a relay on the LAN may offer no AUTH at all)
        if settings.auth == "oauth2" and server.has_extn("auth"):
            user, token = settings.smtp_username, settings.oauth_token

            def respond(challenge: bytes | None = None) -> str:
                # XOAUTH2: the initial response; after a failure the server sends a JSON error as a
                # challenge, which is answered with an empty line to get the final 535.
                return xoauth2(user, token) if challenge is None else ""

            server.auth("XOAUTH2", respond, initial_response_ok=True)
        elif settings.smtp_username and settings.smtp_password and server.has_extn("auth"):
            server.login(settings.smtp_username, settings.smtp_password)
    except smtplib.SMTPAuthenticationError as exc:
        raise AuthError(f"SMTP authentication failed: {exc.smtp_code} {_smtp_text(exc)}", code="smtp_login") from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise ConnectorError(f"SMTP server refused: {exc}", permanent=True, code="smtp") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise ConnectorError(f"SMTP delivery failed: {exc}", code="smtp") from exc
    try:
        yield server
    finally:
        with suppress(Exception):  # the message was handed over (or not) already
            server.quit()


def _smtp_text(exc: smtplib.SMTPResponseException) -> str:
    error = exc.smtp_error
    return error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
