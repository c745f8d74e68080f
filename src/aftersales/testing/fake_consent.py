"""The consent half of an OAuth-like first authorisation, shared by the local fakes' exchange
routes (channels/connectors/<platform>/fake_auth.py): a consent page that "the seller approves" at
once by redirecting to the app's redirect address with a fresh code, and the codes themselves
(valid once, for ten minutes, bound to what they were issued for)."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from .fake_platform import FakeResponse

CODE_SECONDS = 600


@dataclass
class IssuedCode:
    code: str
    issued_at: float
    bound: Mapping[str, Any]  # e.g. {"shop_id": 880001} or {"redirect_uri": ...}
    used: bool = False


class ConsentCodes:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.codes: dict[str, IssuedCode] = {}
        self.lock = threading.Lock()
        self.denied = False  # the seller refuses on the consent page

    def issue(self, **bound: Any) -> str:
        code = secrets.token_hex(16)
        with self.lock:
            self.codes[code] = IssuedCode(code=code, issued_at=self.clock(), bound=bound)
        return code

    def spend(self, code: str, **bound: Any) -> str | None:
        """None when the code is good for `bound` (it is spent now), else why not."""
        with self.lock:
            issued = self.codes.get(code)
            if issued is None:
                return "unknown code"
            if issued.used:
                return "code already used"
            if self.clock() - issued.issued_at > CODE_SECONDS:
                return "code expired"
            for key, value in bound.items():
                if key in issued.bound and issued.bound[key] != value:
                    return f"code not issued for this {key}"
            issued.used = True
            return None


def redirect_to(address: str, **params: Any) -> FakeResponse:
    """302 to `address` with `params` added to its query."""
    joiner = "&" if urlsplit(address).query else "?"
    return FakeResponse(status=302, headers={"Location": address + joiner + urlencode(params)}, body=b"")
