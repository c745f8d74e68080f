"""Notification API pushes: the X-EBAY-SIGNATURE check and the endpoint challenge.

X-EBAY-SIGNATURE is base64 of a JSON object {"alg": "ecdsa", "kid": <public key id>,
"signature": <base64 DER ECDSA signature>, "digest": "SHA1"}. The public key is fetched by its
id from the Notification API (GET /commerce/notification/v1/public_key/{public_key_id}, with an
application token), cached for an hour, and the signature is checked over the raw body (eBay's
event-notification SDKs do the same). The endpoint challenge: eBay calls
GET <endpoint>?challenge_code=X and expects {"challengeResponse": hex(sha256(X + verification
token + endpoint URL))}."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aftersales.channels.base import AuthError, ConnectorError, RawRecord, SignatureInvalid, Stream

from .client import EbayClient

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec

# cryptography is imported where a push is verified: the connector module is imported by web pages that
# only read its capabilities (issue 13, web process memory).

PUBLIC_KEY_PATH = "/commerce/notification/v1/public_key/{kid}"
KEY_TTL = 3600.0
DIGESTS = ("SHA1", "SHA256", "SHA384", "SHA512")  # cryptography.hazmat.primitives.hashes' class names

_keys: dict[tuple[str, str], tuple[ec.EllipticCurvePublicKey, float]] = {}
_keys_lock = threading.Lock()


def clear_key_cache() -> None:
    with _keys_lock:
        _keys.clear()


def challenge_response(challenge_code: str, verification_token: str, endpoint: str) -> str:
    return hashlib.sha256((challenge_code + verification_token + endpoint).encode()).hexdigest()


def parse_signature_header(value: str) -> dict[str, str]:
    if not value:
        raise SignatureInvalid("missing X-EBAY-SIGNATURE header")
    try:
        decoded = json.loads(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise SignatureInvalid("X-EBAY-SIGNATURE is not base64 JSON") from exc
    if not isinstance(decoded, dict):
        raise SignatureInvalid("X-EBAY-SIGNATURE is not a JSON object")
    for name in ("alg", "kid", "signature", "digest"):
        if not isinstance(decoded.get(name), str) or not decoded[name]:
            raise SignatureInvalid(f"X-EBAY-SIGNATURE has no {name}")
    if decoded["alg"].lower() != "ecdsa":
        raise SignatureInvalid(f"unsupported signature algorithm {decoded['alg']!r}")
    if decoded["digest"].upper() not in DIGESTS:
        raise SignatureInvalid(f"unsupported digest {decoded['digest']!r}")
    return decoded


def _pem(key_text: str) -> bytes:
    """eBay returns the key as one line with the PEM markers inline: rebuild a proper PEM."""
    body = key_text.replace("-----BEGIN PUBLIC KEY-----", "").replace("-----END PUBLIC KEY-----", "").replace("\\n", "")
    body = "".join(body.split())
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return ("-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n").encode()


def public_key(client: EbayClient, kid: str) -> ec.EllipticCurvePublicKey:
    cache_key = (client.base(), kid)
    with _keys_lock:
        cached = _keys.get(cache_key)
    if cached and cached[1] > client.clock():
        return cached[0]
    try:
        data = client.json(
            "GET", PUBLIC_KEY_PATH.format(kid=quote(kid, safe="")), auth="app", bucket="ebay:notification"
        )
    except AuthError:
        raise  # our own credentials are refused: the seller must fix them (not the push's fault)
    except ConnectorError as exc:
        if exc.status in (400, 404):
            raise SignatureInvalid(f"eBay does not know the public key {kid!r}") from exc
        raise
    if not isinstance(data, Mapping) or not isinstance(data.get("key"), str):
        raise ConnectorError("eBay's getPublicKey answer has no key")
    if str(data.get("algorithm", "ECDSA")).upper() != "ECDSA":
        raise SignatureInvalid(f"public key {kid!r} is not an ECDSA key")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        key = serialization.load_pem_public_key(_pem(data["key"]))
    except ValueError as exc:
        raise ConnectorError("eBay's getPublicKey answer is not a PEM public key") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise SignatureInvalid(f"public key {kid!r} is not an elliptic-curve key")
    with _keys_lock:
        _keys[cache_key] = (key, client.clock() + KEY_TTL)
    return key


def verify_push(client: EbayClient, headers: Mapping[str, str], body: bytes) -> list[RawRecord]:
    """Verify a push's signature and return it as one raw record (a trigger: it opens nothing; a
    well-signed body that does not match the schema is stored and quarantined by the engine)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    header = parse_signature_header(lowered.get("x-ebay-signature", ""))
    key = public_key(client, header["kid"])
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        signature = base64.b64decode(header["signature"], validate=True)
        key.verify(signature, body, ec.ECDSA(getattr(hashes, header["digest"].upper())()))
    except (binascii.Error, ValueError, InvalidSignature) as exc:
        raise SignatureInvalid("X-EBAY-SIGNATURE does not verify") from exc
    payload: Any
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        notification_id = (
            (payload.get("notification") or {}).get("notificationId")
            if isinstance(payload.get("notification"), dict)
            else None
        )
    else:
        notification_id = None
    event_id = (
        f"notification:{notification_id}"
        if isinstance(notification_id, str) and notification_id
        else (f"notification:sha256:{hashlib.sha256(body).hexdigest()}")
    )
    data = payload if isinstance(payload, dict) else {"unparsed": body.decode("utf-8", errors="replace")[:2000]}
    return [
        RawRecord(stream=Stream.ORDERS, event_id=event_id, payload={"kind": "notification", "data": data}, raw=body)
    ]
