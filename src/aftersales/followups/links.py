"""The CSAT survey link: a signed, expiring token (django.core.signing) naming the survey (the
follow-up row) and its expiry. Tampering breaks the signature; the expiry is inside the signed
payload and also kept on the row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "aftersales.followups.csat"


@dataclass(frozen=True)
class SurveyToken:
    follow_up_id: int
    expires_at: datetime


class BadToken(Exception):
    """The token was altered, truncated or made with another key."""


def make_token(follow_up_id: int, expires_at: datetime) -> str:
    return signing.dumps({"f": follow_up_id, "e": int(expires_at.timestamp())}, salt=SALT, compress=True)


def read_token(token: str) -> SurveyToken:
    """The survey a token names (expired or not: the caller compares the expiry). BadToken when
    the signature does not match or the payload is not ours."""
    try:
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature as exc:
        raise BadToken from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("f"), int) or not isinstance(payload.get("e"), int):
        raise BadToken
    return SurveyToken(payload["f"], datetime.fromtimestamp(payload["e"], tz=UTC))


def survey_url(token: str) -> str:
    """The rating page's absolute address (the portal's `portal:csat` route)."""
    return settings.SITE_URL.rstrip("/") + reverse("portal:csat", args=[token])
