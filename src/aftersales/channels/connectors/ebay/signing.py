"""eBay's digital signatures for EU/UK sellers: HTTP Message Signatures (RFC 9421) as eBay
profiles them ("Digital Signatures for APIs"): the covered components are
`content-digest` (RFC 9530, sha-256 of the body), `x-ebay-signature-key` (the JWE eBay's Key
Management API returned for the public key), `@method`, `@path` and `@authority`, with a
`created` parameter; the key is Ed25519 or RSA (PKCS#1 v1.5, SHA-256).

Signing is used by the client; verification by the local fake (and tests)."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aftersales.channels.base import AuthError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

# cryptography (OpenSSL's bindings, ~9 MiB) is imported where a key is loaded, used or checked: the
# connector module is imported by web pages that only read its capabilities (issue 13, memory).

COVERED_WITH_BODY = ("content-digest", "x-ebay-signature-key", "@method", "@path", "@authority")
COVERED_WITHOUT_BODY = ("x-ebay-signature-key", "@method", "@path", "@authority")
LABEL = "sig1"


class SignatureMismatch(ValueError):
    """A signed request does not verify (used by the fake; the reason is what it answers)."""


@dataclass(frozen=True)
class SigningKey:
    private_key: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
    jwe: str


def load_signing_key(credentials: Mapping[str, Any]) -> SigningKey | None:
    """The store's signing key: credentials["signing_key"] = {"private_key": PKCS#8 PEM, "jwe": ...}."""
    entry = credentials.get("signing_key")
    if not entry:
        return None
    if not isinstance(entry, Mapping) or not entry.get("private_key") or not entry.get("jwe"):
        raise AuthError("signing_key needs private_key (PKCS#8 PEM) and jwe", code="signing_key")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    try:
        key = serialization.load_pem_private_key(str(entry["private_key"]).encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise AuthError("signing_key.private_key is not a PEM private key", code="signing_key") from exc
    if not isinstance(key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
        raise AuthError("signing_key.private_key must be an Ed25519 or RSA key", code="signing_key")
    return SigningKey(private_key=key, jwe=str(entry["jwe"]))


def content_digest(body: bytes) -> str:
    return f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode()}:"


def authority(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return f"{host}:{port}" if port and port != default else host


def _params(components: tuple[str, ...], created: int) -> str:
    return "(" + " ".join(f'"{c}"' for c in components) + f");created={created}"


def signature_base(values: Mapping[str, str], components: tuple[str, ...], created: int) -> bytes:
    lines = [f'"{name}": {values[name]}' for name in components]
    lines.append(f'"@signature-params": {_params(components, created)}')
    return "\n".join(lines).encode()


def _sign(key: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey, data: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ed25519, padding

    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def sign_headers(*, key: SigningKey, method: str, url: str, body: bytes, created: int) -> dict[str, str]:
    """The headers to add to a request so that eBay accepts it for an EU/UK seller."""
    headers = {"x-ebay-signature-key": key.jwe}
    values = {
        "x-ebay-signature-key": key.jwe,
        "@method": method.upper(),
        "@path": urlsplit(url).path or "/",
        "@authority": authority(url),
    }
    components: tuple[str, ...] = COVERED_WITHOUT_BODY
    if body:
        headers["Content-Digest"] = values["content-digest"] = content_digest(body)
        components = COVERED_WITH_BODY
    signature = _sign(key.private_key, signature_base(values, components, created))
    headers["Signature-Input"] = f"{LABEL}={_params(components, created)}"
    headers["Signature"] = f"{LABEL}=:{base64.b64encode(signature).decode()}:"
    return headers


_INPUT = re.compile(r"^(?P<label>[A-Za-z0-9_-]+)=\((?P<components>[^)]*)\);created=(?P<created>\d+)$")
_SIGNATURE = re.compile(r"^(?P<label>[A-Za-z0-9_-]+)=:(?P<value>[A-Za-z0-9+/=]+):$")


def verify_headers(
    *,
    public_keys: Mapping[str, ed25519.Ed25519PublicKey | rsa.RSAPublicKey],
    method: str,
    path: str,
    host: str,
    headers: Mapping[str, str],
    body: bytes,
    now: int,
    max_age: int = 300,
) -> None:
    """Verify a signed request as eBay does (headers with lower-cased names). `public_keys` maps a
    JWE to its public key. Raises SignatureMismatch with the reason."""
    jwe = headers.get("x-ebay-signature-key")
    if not jwe:
        raise SignatureMismatch("missing x-ebay-signature-key header")
    key = public_keys.get(jwe)
    if key is None:
        raise SignatureMismatch("unknown x-ebay-signature-key")
    match = _INPUT.match(headers.get("signature-input", ""))
    if not match:
        raise SignatureMismatch("missing or malformed Signature-Input header")
    components = tuple(c.strip('"') for c in match["components"].split())
    required = COVERED_WITH_BODY if body else COVERED_WITHOUT_BODY
    if set(required) - set(components):
        raise SignatureMismatch(f"Signature-Input must cover {', '.join(required)}")
    created = int(match["created"])
    if abs(now - created) > max_age:
        raise SignatureMismatch("signature created too long ago")
    sig = _SIGNATURE.match(headers.get("signature", ""))
    if not sig or sig["label"] != match["label"]:
        raise SignatureMismatch("missing or malformed Signature header")
    values = {
        "x-ebay-signature-key": jwe,
        "@method": method.upper(),
        "@path": path,
        "@authority": host.lower(),
    }
    if "content-digest" in components:
        digest = headers.get("content-digest", "")
        if digest != content_digest(body):
            raise SignatureMismatch("Content-Digest does not match the body")
        values["content-digest"] = digest
    for name in components:
        if name not in values:
            values[name] = headers.get(name, "")
    data = signature_base(values, components, created)
    raw = base64.b64decode(sig["value"])
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ed25519, padding

    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(raw, data)
        else:
            key.verify(raw, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise SignatureMismatch("signature does not verify") from exc
