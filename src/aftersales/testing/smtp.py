"""A real SMTP server (aiosmtpd) on 127.0.0.1 for tests: it speaks the protocol, stores what it
receives, and can be told to refuse recipients. With `xoauth2=check` it offers AUTH XOAUTH2 (as
Gmail's and Microsoft 365's submission servers do), requires it, and asks `check(user, token)`."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class _Handler:
    received: list[EmailMessage] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append(msg)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@dataclass
class _OAuthHandler(_Handler):
    check: Callable[[str, str], bool] = lambda user, token: False
    logins: list[str] = field(default_factory=list)

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> AuthResult:
        if len(args) > 1:
            answer = args[1]
        else:
            raw = await server.challenge_auth("", encode_to_b64=False)
            answer = raw.decode() if isinstance(raw, bytes) else str(raw)
        try:
            user, _sep, rest = base64.b64decode(answer).decode().partition("\x01auth=Bearer ")
            token = rest.rstrip("\x01")
            user = user.removeprefix("user=")
        except ValueError:
            return AuthResult(success=False, handled=False)
        if self.check(user, token):
            self.logins.append(user)
            return AuthResult(success=True, auth_data=user)
        # RFC 7628 style: a JSON error as a challenge, the client answers empty, then 535.
        error = base64.b64encode(json.dumps({"status": "401", "schemes": "bearer"}).encode()).decode()
        await server.challenge_auth(error, encode_to_b64=False)
        return AuthResult(success=False, handled=False)


class SmtpServer:
    def __init__(self, *, xoauth2: Callable[[str, str], bool] | None = None) -> None:
        self.port = free_port()
        if xoauth2 is None:
            self.handler: _Handler = _Handler()
            self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        else:
            self.handler = _OAuthHandler(check=xoauth2)
            self.controller = self._oauth_controller()

    def _oauth_controller(self) -> Controller:
        return Controller(
            self.handler,
            hostname="127.0.0.1",
            port=self.port,
            auth_require_tls=False,  # loopback only (aiosmtpd warns about it per connection)
            auth_required=True,
            auth_exclude_mechanism=["PLAIN", "LOGIN"],
        )

    @property
    def received(self) -> list[EmailMessage]:
        return self.handler.received

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
