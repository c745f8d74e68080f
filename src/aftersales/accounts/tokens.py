"""What an API token's stored digest is: read by the selectors (look-up) and the services (creation)."""

from __future__ import annotations

import hashlib


def token_digest(raw: str) -> str:
    """SHA-256 of the raw token. Tokens carry 256 bits of randomness, so a fast hash is safe here (no brute
    force is feasible); a slow KDF would only slow every API call. See docs/adr/0002-api-tokens.md."""
    return hashlib.sha256(raw.encode()).hexdigest()
