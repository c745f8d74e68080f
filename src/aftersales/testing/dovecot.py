"""A real IMAP server for tests: Debian's dovecot (dovecot-imapd), run from a config in a temporary
folder, on 127.0.0.1 and a free high port, without touching the machine's own dovecot.

Everything lives in the folder: base_dir, state_dir, the log, the passwd-files (one per test
mailbox, plain passwords), the Maildirs. `ssl = no` and plaintext logins are allowed (loopback
only); imap-login runs with an empty `chroot` (no chroot: an unprivileged master cannot chroot).
Dovecot needs existing users for its login and internal processes and refuses root for them and
for mail: unprivileged, the current user runs everything; as root (CI), the users the Debian
package creates (dovenull, dovecot; else nobody) do, and own the Maildirs.

Messages are delivered the way a client would: IMAP APPEND (`deliver`)."""

from __future__ import annotations

import grp
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from imapclient import IMAPClient

from .smtp import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def _service_users() -> tuple[str, str, str]:
    """Users for dovecot's login and internal processes: the current user when unprivileged
    (dovecot cannot switch users then); as root (CI), which dovecot refuses for them, the users the
    Debian package creates (dovenull, dovecot), else nobody."""
    if os.getuid() != 0:
        me = pwd.getpwuid(os.getuid()).pw_name
        return me, me, grp.getgrgid(os.getgid()).gr_name

    def exists(name: str) -> bool:
        try:
            pwd.getpwnam(name)
        except KeyError:
            return False
        return True

    login = "dovenull" if exists("dovenull") else "nobody"
    internal = "dovecot" if exists("dovecot") else "nobody"
    return login, internal, grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name


def _ids(user: str) -> tuple[int, int]:
    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


@dataclass
class ImapAccount:
    username: str
    password: str


@dataclass
class DovecotServer:
    accounts: list[ImapAccount] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 0
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="aftersales-dovecot-")))
    # When set, XOAUTH2 / OAUTHBEARER logins are checked by dovecot's oauth2 passdb against this
    # RFC 7662 introspection endpoint (testing/fake_oauth.py), as a Gmail or Microsoft 365 server does.
    oauth2_introspection_url: str = ""
    _process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> bool:
        return os.path.exists(DOVECOT)

    def _config(self) -> Path:
        login_user, internal_user, internal_group = _service_users()
        # Mail processes run as the current user; as root (dovecot refuses uid 0 for mail) as the
        # internal user, who then owns the Maildirs.
        uid, gid = (os.getuid(), os.getgid()) if os.getuid() != 0 else _ids(internal_user)
        for name in ("run", "state", "mail", "home"):
            (self.root / name).mkdir(parents=True, exist_ok=True)
        for name in ("mail", "home"):
            os.chown(self.root / name, uid, gid)
        self.root.chmod(0o755)  # the login and internal users (root's case) must reach base_dir
        users = self.root / "users"  # one passwd-file per mailbox: accounts added later are read fresh
        users.mkdir(exist_ok=True)
        for account in self.accounts:
            self._write_account(account, uid, gid)
        oauth2 = ""
        mechanisms = "plain login"
        if self.oauth2_introspection_url:
            mechanisms = "plain login xoauth2 oauthbearer"
            ext = self.root / "dovecot-oauth2.conf.ext"
            ext.write_text(
                f"introspection_mode = post\n"
                f"introspection_url = {self.oauth2_introspection_url}\n"
                "username_attribute = email\n"
                "active_attribute = active\n"
                "active_value = true\n"
                "force_introspection = yes\n"
            )
            oauth2 = f"""
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {ext}
}}"""
        conf = self.root / "dovecot.conf"
        conf.write_text(
            f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
info_log_path = {self.root}/dovecot.log
protocols = imap
listen = {self.host}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
auth_failure_delay = 0
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
first_valid_uid = {uid}
first_valid_gid = 0
mail_location = maildir:{self.root}/mail/%u
mail_uid = {uid}
mail_gid = {gid}
passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u {users}/%u
}}{oauth2}
userdb {{
  driver = passwd-file
  args = username_format=%u {users}/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    auto = create
    special_use = \\Sent
  }}
  mailbox Support {{
    auto = create
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = {self.host}
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
""".lstrip()
        )
        return conf

    def start(self) -> DovecotServer:
        self.port = self.port or free_port()
        conf = self._config()
        self._process = subprocess.Popen(  # noqa: S603 - a fixed binary and our own config file
            [DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                output = self._process.stdout.read().decode() if self._process.stdout else ""
                raise RuntimeError(f"dovecot exited: {output}\n{self.log()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dovecot did not listen on {self.port}: {self.log()}")

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._process is not None and self._process.stdout:
            self._process.stdout.close()
        self._process = None
        shutil.rmtree(self.root, ignore_errors=True)

    # --- test helpers --------------------------------------------------------------------------

    def add_account(self, username: str, password: str | None = None) -> ImapAccount:
        """A new mailbox on the running server (its own passwd-file, read at its first login)."""
        account = ImapAccount(username, password or secrets.token_hex(8))
        self.accounts.append(account)
        uid, gid = (os.getuid(), os.getgid()) if os.getuid() != 0 else _ids(_service_users()[1])
        self._write_account(account, uid, gid)
        return account

    def _write_account(self, account: ImapAccount, uid: int, gid: int) -> None:
        home = self.root / "home" / account.username
        (self.root / "users" / account.username).write_text(
            f"{account.username}:{{PLAIN}}{account.password}:{uid}:{gid}::{home}::\n"
        )

    def credentials(self, account: ImapAccount, **extra: object) -> dict[str, object]:
        """A mailbox store's credentials for this server (plain IMAP on loopback)."""
        return {
            "address": account.username,
            "imap_host": self.host,
            "imap_port": self.port,
            "imap_ssl": False,
            "username": account.username,
            "password": account.password,
            "folders": ["INBOX"],
            **extra,
        }

    def client(self, account: ImapAccount) -> IMAPClient:
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        client.login(account.username, account.password)
        return client

    def deliver(self, account: ImapAccount, raw: bytes, *, folder: str = "INBOX") -> int:
        """APPEND one message; returns its UID."""
        with self.client(account) as client:
            response = client.append(folder, raw)
        text = response.decode() if isinstance(response, bytes) else str(response)
        # "[APPENDUID <uidvalidity> <uid>] Append completed."
        return int(text.split("APPENDUID", 1)[1].split()[1].rstrip("]")) if "APPENDUID" in text else 0

    def reset_folder(self, account: ImapAccount, folder: str = "INBOX") -> None:
        """Delete and recreate a folder: a new UIDVALIDITY (what a server rebuild does)."""
        with self.client(account) as client:
            if folder == "INBOX":
                client.select_folder("INBOX")
                client.delete_messages(client.search("ALL"))
                client.expunge()
                return
            client.delete_folder(folder)
            client.create_folder(folder)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """A dovecot IMAP server for the whole test session; each test adds its own mailboxes
    (`dovecot.add_account`), so tests never see each other's mail."""
    server = DovecotServer().start()
    try:
        yield server
    finally:
        server.stop()
