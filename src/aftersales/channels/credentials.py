"""What each platform's connector needs in a store's credentials: one declared schema per platform.

`POST /api/v1/stores`, `PATCH /api/v1/stores/{id}` and the store page of the agent UI all check
credentials here (through catalog.services): unknown keys, missing required ones, wrong types and
out-of-range ports are refused naming the field (`credentials.imap_port`). The keys are the ones the
connectors actually read (channels/connectors/<platform>/client.py); a test keeps them in step with
the connectors' own `credential_fields`.

Secrets are write-only: stored encrypted (Store.credentials), never shown again, only "set" or
"not set". A secret left out of an update is kept (so an admin changing the IMAP port does not have
to type the password again). `internal` fields are written by the connector itself (refreshed
OAuth access tokens): accepted, kept, never asked for.

A platform without a schema (no connector yet) takes any small object of text keys
(catalog.services.check_credentials)."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_countries import countries

from aftersales.core.errors import ValidationFailed


class Kind(StrEnum):
    TEXT = "text"
    URL = "url"
    INT = "int"
    BOOL = "bool"
    EMAIL = "email"
    HOST = "host"  # a host name or IP address (no scheme, no port)
    CHOICE = "choice"
    LIST = "list"  # a list of texts; a comma-separated text is accepted and split
    SIGNING_KEY = "signing_key"  # eBay's {"private_key": PEM, "jwe": ...}
    COUNTRY = "country"  # an ISO 3166-1 alpha-2 code, stored upper case


@dataclass(frozen=True)
class CredentialField:
    name: str
    label: str | Promise
    kind: Kind = Kind.TEXT
    secret: bool = False
    required: bool = False
    help: str | Promise = ""
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    max_length: int = 500
    internal: bool = False  # written by the connector (refreshed tokens): never asked for
    # Filled by "Connect" (channels/authorization.py: the platform's consent page): a store may be
    # saved with none of these fields, awaiting its connection; given in part, the rest is required.
    by_connect: bool = False

    @property
    def multiline(self) -> bool:
        return self.kind in (Kind.SIGNING_KEY, Kind.LIST)


F = CredentialField

EMAIL_FIELDS = (
    F(
        "address",
        gettext_lazy("Mailbox address"),
        Kind.EMAIL,
        required=True,
        help=gettext_lazy("The address customers write to."),
    ),
    F("imap_host", gettext_lazy("IMAP server"), Kind.HOST, required=True, help=gettext_lazy("e.g. imap.gmail.com")),
    F(
        "imap_port",
        gettext_lazy("IMAP port"),
        Kind.INT,
        help=gettext_lazy("993 with SSL (the default), 143 otherwise."),
        minimum=1,
        maximum=65535,
    ),
    F(
        "imap_ssl",
        gettext_lazy("IMAP over SSL"),
        Kind.BOOL,
        help=gettext_lazy("On by default unless STARTTLS is chosen."),
    ),
    F("imap_starttls", gettext_lazy("IMAP with STARTTLS"), Kind.BOOL),
    F("username", gettext_lazy("User name"), help=gettext_lazy("Defaults to the mailbox address.")),
    F(
        "auth",
        gettext_lazy("Sign-in"),
        Kind.CHOICE,
        choices=("password", "oauth2"),
        help=gettext_lazy("password, or oauth2 for Gmail / Google Workspace and Microsoft 365 (then: Connect)."),
    ),
    F(
        "password",
        gettext_lazy("Password"),
        secret=True,
        help=gettext_lazy("An app password where the provider offers one. Not used with oauth2."),
    ),
    F(
        "oauth_provider",
        gettext_lazy("OAuth provider"),
        Kind.CHOICE,
        choices=("google", "microsoft", "custom"),
        help=gettext_lazy("With oauth2: who signs the mailbox in."),
    ),
    F(
        "oauth_client_id",
        gettext_lazy("OAuth client id"),
        help=gettext_lazy("Your OAuth app (Google Cloud console or Microsoft Entra), with this site's redirect URL."),
    ),
    F("oauth_client_secret", gettext_lazy("OAuth client secret"), secret=True),
    F(
        "oauth_tenant",
        gettext_lazy("Microsoft tenant"),
        help=gettext_lazy("Microsoft only: your tenant id or domain; empty: organizations."),
    ),
    F("oauth_authorize_url", gettext_lazy("OAuth authorization URL"), Kind.URL, help=gettext_lazy("custom only")),
    F("oauth_token_url", gettext_lazy("OAuth token URL"), Kind.URL, help=gettext_lazy("custom only")),
    F("oauth_scopes", gettext_lazy("OAuth scopes"), Kind.LIST, help=gettext_lazy("custom only")),
    F("oauth_refresh_token", gettext_lazy("OAuth refresh token"), secret=True, max_length=4000, internal=True),
    F("oauth_access_token", gettext_lazy("OAuth access token"), secret=True, max_length=8000, internal=True),
    F("oauth_access_token_expires_at", gettext_lazy("OAuth access token expiry"), internal=True),
    F(
        "folders",
        gettext_lazy("Folders"),
        Kind.LIST,
        help=gettext_lazy("Folders to read, comma-separated; INBOX by default."),
    ),
    F(
        "smtp_host",
        gettext_lazy("SMTP server"),
        Kind.HOST,
        help=gettext_lazy("Empty: replies go out through this site's mail server."),
    ),
    F(
        "smtp_port",
        gettext_lazy("SMTP port"),
        Kind.INT,
        help=gettext_lazy("465 with SSL, 587 with STARTTLS (the default)."),
        minimum=1,
        maximum=65535,
    ),
    F("smtp_tls", gettext_lazy("SMTP security"), Kind.CHOICE, choices=("starttls", "ssl", "none")),
    F("smtp_username", gettext_lazy("SMTP user name"), help=gettext_lazy("Defaults to the IMAP user name.")),
    F("smtp_password", gettext_lazy("SMTP password"), secret=True, help=gettext_lazy("Defaults to the IMAP password.")),
    F("from_address", gettext_lazy("From address"), Kind.EMAIL, help=gettext_lazy("Defaults to the mailbox address.")),
    F(
        "use_tls", gettext_lazy("SMTP with STARTTLS (older setting)"), Kind.BOOL, internal=True
    ),  # read when smtp_tls is unset
)

LWA_HELP = gettext_lazy("Seller Central > Apps and Services > Develop Apps > your app > LWA credentials.")
AMAZON_FIELDS = (
    F("lwa_client_id", gettext_lazy("LWA client id"), required=True, help=LWA_HELP),
    F("lwa_client_secret", gettext_lazy("LWA client secret"), secret=True, required=True, help=LWA_HELP),
    F(
        "refresh_token",
        gettext_lazy("Refresh token"),
        secret=True,
        required=True,
        by_connect=True,
        max_length=2000,
        help=gettext_lazy(
            "Filled by Connect (the seller's authorisation), or pasted from self-authorisation (Atzr|...)."
        ),
    ),
    F(
        "application_id",
        gettext_lazy("SP-API application id"),
        max_length=200,
        help=gettext_lazy(
            "Developer Central > your app: the App ID (amzn1.sp.solution...). Needed by Connect; its OAuth "
            "redirect URI must be this site's redirect URL."
        ),
    ),
    F(
        "draft_app",
        gettext_lazy("Draft app"),
        Kind.BOOL,
        help=gettext_lazy("On while the app is not published: Connect adds version=beta to the consent link."),
    ),
    F(
        "marketplace_id",
        gettext_lazy("Marketplace id"),
        help=gettext_lazy("Empty: the site's marketplace, e.g. A1PA6795UKMFR9."),
    ),
    F(
        "sqs_queue_url",
        gettext_lazy("SQS queue URL"),
        Kind.URL,
        help=gettext_lazy("The Amazon SQS queue that receives ORDER_CHANGE notifications (optional)."),
    ),
    F(
        "aws_access_key_id",
        gettext_lazy("AWS access key id"),
        help=gettext_lazy("Of an IAM user allowed to read the SQS queue."),
    ),
    F("aws_secret_access_key", gettext_lazy("AWS secret access key"), secret=True),
    F("aws_region", gettext_lazy("AWS region"), help=gettext_lazy("The queue's region; us-east-1 by default.")),
    F("access_token", gettext_lazy("Access token"), secret=True, internal=True, max_length=4000),
    F("access_token_expires_at", gettext_lazy("Access token expiry"), internal=True),
)

EBAY_FIELDS = (
    F(
        "client_id",
        gettext_lazy("App ID (client id)"),
        required=True,
        help=gettext_lazy("developer.ebay.com > Application Keys."),
    ),
    F("client_secret", gettext_lazy("Cert ID (client secret)"), secret=True, required=True),
    F(
        "refresh_token",
        gettext_lazy("User refresh token"),
        secret=True,
        required=True,
        by_connect=True,
        max_length=4000,
        help=gettext_lazy(
            "Filled by Connect (the seller's consent), valid 18 months; or pasted from the consent flow."
        ),
    ),
    F(
        "ru_name",
        gettext_lazy("RuName (redirect URL name)"),
        max_length=200,
        help=gettext_lazy(
            "developer.ebay.com > User Tokens > your redirect URL's RuName, whose accept URL is this site's "
            "redirect URL: needed by Connect."
        ),
    ),
    F("environment", gettext_lazy("Environment"), Kind.CHOICE, choices=("production", "sandbox")),
    F(
        "marketplace_id",
        gettext_lazy("Marketplace id"),
        help=gettext_lazy("Empty: from the store's site, e.g. EBAY_DE."),
    ),
    F(
        "eu_uk_seller",
        gettext_lazy("EU/UK seller"),
        Kind.BOOL,
        help=gettext_lazy("Sign calls; by marketplace if empty."),
    ),
    F(
        "signing_key",
        gettext_lazy("Signing key"),
        Kind.SIGNING_KEY,
        secret=True,
        max_length=8000,
        help=gettext_lazy(
            'From the Key Management API: {"private_key": "-----BEGIN PRIVATE KEY-----...", "jwe": "..."}'
        ),
    ),
    F(
        "verification_token",
        gettext_lazy("Push verification token"),
        secret=True,
        help=gettext_lazy("The token you gave eBay for the Notification API endpoint (32 to 80 characters)."),
    ),
    F(
        "endpoint_url",
        gettext_lazy("Registered push endpoint"),
        Kind.URL,
        help=gettext_lazy("Empty: this store's webhook URL."),
    ),
    F("scopes", gettext_lazy("OAuth scopes"), Kind.LIST, help=gettext_lazy("Empty: the scopes of the consent.")),
    F("access_token", gettext_lazy("Access token"), secret=True, internal=True, max_length=4000),
    F("access_token_expires_at", gettext_lazy("Access token expiry"), internal=True),
)

SHOPIFY_FIELDS = (
    F("shop", gettext_lazy("Shop domain"), required=True, help=gettext_lazy("<name>.myshopify.com")),
    F(
        "access_token",
        gettext_lazy("Admin API access token"),
        secret=True,
        help=gettext_lazy(
            "A legacy custom app's Admin API access token (shpat_...). An app from the Dev Dashboard: "
            "leave it empty and give its client id (API key) and secret: tokens are fetched."
        ),
    ),
    F(
        "client_secret",
        gettext_lazy("API secret key"),
        secret=True,
        help=gettext_lazy("Verifies the webhooks Shopify sends."),
    ),
    F("client_id", gettext_lazy("API key"), help=gettext_lazy("Your app's API key (client id).")),
    F(
        "old_client_secret",
        gettext_lazy("Previous API secret key"),
        secret=True,
        help=gettext_lazy("While a rotated secret phases out."),
    ),
    F(
        "api_version",
        gettext_lazy("API version"),
        help=gettext_lazy("Empty: the version this connector was written for."),
    ),
    # Expiring offline tokens only (connectors/shopify/oauth.py renews and rewrites both).
    F("refresh_token", gettext_lazy("Refresh token"), secret=True, max_length=4000),
    F("access_token_expires_at", gettext_lazy("Access token expiry"), internal=True),
)

SHOPEE_FIELDS = (
    F(
        "partner_id",
        gettext_lazy("Partner id"),
        required=True,
        help=gettext_lazy("Shopee Open Platform console > App List > your app: the Partner ID (live)."),
    ),
    F("partner_key", gettext_lazy("Partner key"), secret=True, required=True, max_length=200),
    F(
        "shop_id",
        gettext_lazy("Shop id"),
        required=True,
        by_connect=True,
        help=gettext_lazy("Filled by Connect (the shop's authorisation), or given with the code of auth_partner."),
    ),
    F(
        "refresh_token",
        gettext_lazy("Refresh token"),
        secret=True,
        required=True,
        by_connect=True,
        max_length=2000,
        help=gettext_lazy("Filled by Connect, or from /api/v2/auth/token/get; renewed at each refresh."),
    ),
    F("environment", gettext_lazy("Environment"), Kind.CHOICE, choices=("live", "test")),
    F(
        "dispute_email",
        gettext_lazy("Dispute e-mail"),
        Kind.EMAIL,
        help=gettext_lazy("Shopee requires the seller's e-mail to dispute a return (a declined return)."),
    ),
    F(
        "push_url",
        gettext_lazy("Registered push URL"),
        Kind.URL,
        help=gettext_lazy(
            "The callback URL set in the console (pushes are signed over it). Empty: this store's webhook URL."
        ),
    ),
    F(
        "push_key",
        gettext_lazy("Push key"),
        secret=True,
        max_length=200,
        help=gettext_lazy("Only if the console shows a separate key for push notifications; else the partner key."),
    ),
    F("access_token", gettext_lazy("Access token"), secret=True, internal=True, max_length=4000),
    F("access_token_expires_at", gettext_lazy("Access token expiry"), internal=True),
)

TIKTOK_FIELDS = (
    F(
        "app_key",
        gettext_lazy("App key"),
        required=True,
        help=gettext_lazy("TikTok Shop Partner Center > App & Service > your app: the App key."),
    ),
    F("app_secret", gettext_lazy("App secret"), secret=True, required=True, max_length=200),
    F(
        "shop_cipher",
        gettext_lazy("Shop cipher"),
        required=True,
        by_connect=True,
        max_length=200,
        help=gettext_lazy("Filled by Connect, or from Get Authorized Shops (/authorization/202309/shops)."),
    ),
    F(
        "shop_id",
        gettext_lazy("Shop id"),
        help=gettext_lazy("The shop's id in the same answer: webhooks of other shops are refused."),
    ),
    F(
        "refresh_token",
        gettext_lazy("Refresh token"),
        secret=True,
        required=True,
        by_connect=True,
        max_length=2000,
        help=gettext_lazy("Filled by Connect, or from auth.tiktok-shops.com/api/v2/token/get."),
    ),
    F("access_token", gettext_lazy("Access token"), secret=True, internal=True, max_length=4000),
    F("access_token_expires_at", gettext_lazy("Access token expiry"), internal=True),
)

WHATSAPP_FIELDS = (
    F(
        "phone_number_id",
        gettext_lazy("Phone number id"),
        required=True,
        help=gettext_lazy("Meta app dashboard > WhatsApp > API Setup: the Phone number ID (not the phone number)."),
    ),
    F(
        "waba_id",
        gettext_lazy("WhatsApp Business Account id"),
        required=True,
        help=gettext_lazy("Same page: the WhatsApp Business Account ID (its approved message templates are read)."),
    ),
    F(
        "access_token",
        gettext_lazy("Access token"),
        secret=True,
        required=True,
        max_length=4000,
        help=gettext_lazy("A system user's permanent token with whatsapp_business_messaging and management."),
    ),
    F(
        "app_secret",
        gettext_lazy("App secret"),
        secret=True,
        required=True,
        max_length=200,
        help=gettext_lazy("App settings > Basic: the App secret (webhooks are signed with it)."),
    ),
    F(
        "verify_token",
        gettext_lazy("Webhook verify token"),
        secret=True,
        required=True,
        max_length=200,
        help=gettext_lazy("Any secret text: type the same in WhatsApp > Configuration > Webhook > Verify token."),
    ),
)

ALIEXPRESS_FIELDS = (
    F(
        "app_key",
        gettext_lazy("App key"),
        required=True,
        help=gettext_lazy("AliExpress Open Platform console > App Management > your app: the App Key."),
    ),
    F("app_secret", gettext_lazy("App secret"), secret=True, required=True, max_length=200),
    F(
        "refresh_token",
        gettext_lazy("Refresh token"),
        secret=True,
        required=True,
        by_connect=True,
        max_length=2000,
        help=gettext_lazy("Filled by Connect, or from /auth/token/create; renewed at each refresh."),
    ),
    F("access_token", gettext_lazy("Access token"), secret=True, internal=True, max_length=4000),
    F("access_token_expires_at", gettext_lazy("Access token expiry"), internal=True),
    F(
        "return_address_id",
        gettext_lazy("Return address id"),
        max_length=20,
        help=gettext_lazy("AliExpress Seller Center: the id of your return address, needed to agree to returns."),
    ),
)

MESSENGER_FIELDS = (
    F(
        "page_id",
        gettext_lazy("Page id"),
        required=True,
        help=gettext_lazy("The Facebook Page's id (Page > About > Page transparency, or Meta Business Suite)."),
    ),
    F(
        "access_token",
        gettext_lazy("Page access token"),
        secret=True,
        required=True,
        max_length=4000,
        help=gettext_lazy("A long-lived Page access token with pages_messaging."),
    ),
    F(
        "app_secret",
        gettext_lazy("App secret"),
        secret=True,
        required=True,
        max_length=200,
        help=gettext_lazy("App settings > Basic: the App secret (webhooks are signed with it)."),
    ),
    F(
        "verify_token",
        gettext_lazy("Webhook verify token"),
        secret=True,
        required=True,
        max_length=200,
        help=gettext_lazy("Any secret text: type the same in Messenger > Settings > Webhooks > Verify token."),
    ),
    F(
        "human_agent",
        gettext_lazy("Human agent tag"),
        Kind.BOOL,
        help=gettext_lazy("On only if Meta granted your app the Human Agent permission: replies up to 7 days."),
    ),
)

WISH_FIELDS = (
    F(
        "client_id",
        gettext_lazy("Client id"),
        required=True,
        help=gettext_lazy("Wish Merchant Dashboard > Settings > API settings: your app's client id."),
    ),
    F("client_secret", gettext_lazy("Client secret"), secret=True, required=True, max_length=200),
    F(
        "refresh_token",
        gettext_lazy("Refresh token"),
        secret=True,
        required=True,
        by_connect=True,
        max_length=2000,
        help=gettext_lazy("Filled by Connect, or from /api/v3/oauth/access_token; renewed here."),
    ),
    F("access_token", gettext_lazy("Access token"), secret=True, internal=True, max_length=4000),
    F("access_token_expires_at", gettext_lazy("Access token expiry"), internal=True),
    F(
        "origin_country",
        gettext_lazy("Ships from (country)"),
        Kind.COUNTRY,
        max_length=2,
        help=gettext_lazy("The ISO country code parcels leave from, e.g. CN: Wish needs it to mark orders shipped."),
    ),
)

PLATFORM_CREDENTIALS: Mapping[str, tuple[CredentialField, ...]] = {
    "wish": WISH_FIELDS,
    "aliexpress": ALIEXPRESS_FIELDS,
    "email": EMAIL_FIELDS,
    "amazon": AMAZON_FIELDS,
    "ebay": EBAY_FIELDS,
    "shopify": SHOPIFY_FIELDS,
    "shopee": SHOPEE_FIELDS,
    "tiktok": TIKTOK_FIELDS,
    "whatsapp": WHATSAPP_FIELDS,
    "facebook": MESSENGER_FIELDS,
}

SHOP_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
API_VERSION = re.compile(r"^\d{4}-(01|04|07|10)$|^unstable$")
HOST = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
MAX_LIST = 50


def credential_fields(platform: str) -> tuple[CredentialField, ...] | None:
    """The platform's declared fields; None for a platform without a schema (no connector yet)."""
    return PLATFORM_CREDENTIALS.get(platform)


def _fail(name: str, message: str) -> ValidationFailed:
    field = f"credentials.{name}"
    return ValidationFailed(_("%(field)s: %(problem)s") % {"field": field, "problem": message}, field=field)


def _text(spec: CredentialField, value: Any) -> str:
    if not isinstance(value, str):
        raise _fail(spec.name, _("must be a text"))
    text = value.strip()
    if len(text) > spec.max_length:
        raise _fail(spec.name, _("at most %(max)d characters") % {"max": spec.max_length})
    if "\x00" in text or (not spec.multiline and ("\n" in text or "\r" in text)):
        raise _fail(spec.name, _("must be one line without control characters"))
    return text


def _bool(spec: CredentialField, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "on", "yes", "1", "false", "off", "no", "0"}:
        return value.strip().lower() in {"true", "on", "yes", "1"}
    raise _fail(spec.name, _("must be true or false"))


def _int(spec: CredentialField, value: Any) -> int:
    if isinstance(value, bool):
        raise _fail(spec.name, _("must be a whole number"))
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,9}\s*", value):
        value = int(value)
    if not isinstance(value, int):
        raise _fail(spec.name, _("must be a whole number"))
    if (spec.minimum is not None and value < spec.minimum) or (spec.maximum is not None and value > spec.maximum):
        raise _fail(
            spec.name,
            _("must be between %(min)d and %(max)d") % {"min": spec.minimum or 0, "max": spec.maximum or 0},
        )
    return value


def _url(spec: CredentialField, value: Any) -> str:
    text = _text(spec, value)
    try:
        parts = urlsplit(text)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("https", "http") or not parts.hostname:
        raise _fail(spec.name, _("must be an http(s) URL"))
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise _fail(spec.name, _("must be an https URL"))
    return text


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _clean(spec: CredentialField, value: Any) -> Any:
    """One field, checked and normalised (ValidationFailed naming `credentials.<name>`)."""
    if spec.kind is Kind.BOOL:
        return _bool(spec, value)
    if spec.kind is Kind.INT:
        return _int(spec, value)
    if spec.kind is Kind.LIST:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise _fail(spec.name, _("must be a list of texts (or one comma-separated text)"))
        clean = [i.strip() for i in items if i.strip()]
        if len(clean) > MAX_LIST or any(len(i) > 200 or "\x00" in i or "\n" in i for i in clean):
            raise _fail(spec.name, _("at most %(max)d entries of 200 characters") % {"max": MAX_LIST})
        return clean
    if spec.kind is Kind.SIGNING_KEY:
        entry = value
        if isinstance(value, str):
            try:
                entry = json.loads(value)
            except ValueError:
                raise _fail(spec.name, _('must be an object {"private_key": ..., "jwe": ...}')) from None
        if (
            not isinstance(entry, dict)
            or set(entry) != {"private_key", "jwe"}
            or not all(isinstance(v, str) and v.strip() for v in entry.values())
        ):
            raise _fail(spec.name, _('must be an object {"private_key": ..., "jwe": ...}'))
        if "PRIVATE KEY" not in entry["private_key"] or sum(len(v) for v in entry.values()) > spec.max_length:
            raise _fail(spec.name, _("private_key must be a PEM private key"))
        return {"private_key": entry["private_key"].strip(), "jwe": entry["jwe"].strip()}
    text = _text(spec, value)
    if spec.kind is Kind.EMAIL:
        try:
            validate_email(text)
        except DjangoValidationError:
            raise _fail(spec.name, _("must be an e-mail address")) from None
        return text
    if spec.kind is Kind.HOST:
        if not HOST.match(text):
            raise _fail(spec.name, _("must be a host name such as imap.example.com (no scheme, no port)"))
        return text.lower()
    if spec.kind is Kind.URL:
        return _url(spec, value)
    if spec.kind is Kind.COUNTRY:
        code = text.upper()
        if len(code) != 2 or code not in countries:
            raise _fail(
                spec.name, _("unknown country %(value)r; use an ISO 3166 code such as DE") % {"value": text[:10]}
            )
        return code
    if spec.kind is Kind.CHOICE:
        if text.lower() not in spec.choices:
            raise _fail(spec.name, _("must be one of %(choices)s") % {"choices": ", ".join(spec.choices)})
        return text.lower()
    if spec.name == "shop" and not SHOP_DOMAIN.match(text.lower()):
        raise _fail(spec.name, _("must be the shop's <name>.myshopify.com domain"))
    if spec.name in ("partner_id", "shop_id", "return_address_id") and not text.isdigit():
        raise _fail(spec.name, _("must be a number"))
    if spec.name == "api_version" and not API_VERSION.match(text):
        raise _fail(spec.name, _("must be a version such as 2026-04"))
    return text.lower() if spec.name == "shop" else text


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# The same checks for the organization's marketplace apps (channels/marketplace_apps.py).
blank = _blank
clean_field = _clean
fail = _fail


def check_platform_credentials(
    platform: str, credentials: Mapping[str, Any], *, app_supplied: Collection[str] = ()
) -> dict[str, Any]:
    """Credentials checked against the platform's schema, in the schema's order; blank optional
    values dropped. Unknown keys, missing required ones, wrong types: ValidationFailed naming
    `credentials.<key>`. A platform without a schema: returned as given (checked elsewhere).
    `app_supplied`: the keys the organization's marketplace app gives the store
    (marketplace_apps.app_supplied_fields): not required on the store."""
    fields = credential_fields(platform)
    if fields is None:
        return dict(credentials)
    known = {spec.name: spec for spec in fields}
    unknown = sorted(set(credentials) - set(known))
    if unknown:
        raise _fail(
            unknown[0],
            _("unknown for %(platform)s; expected some of %(names)s")
            % {"platform": platform, "names": ", ".join(s.name for s in fields if not s.internal)},
        )
    clean: dict[str, Any] = {}
    connected_later = all(_blank(credentials.get(s.name)) for s in fields if s.by_connect)
    for spec in fields:
        value = credentials.get(spec.name)
        if _blank(value):
            if spec.required and not (spec.by_connect and connected_later) and spec.name not in app_supplied:
                raise _fail(spec.name, _("required for %(platform)s") % {"platform": platform})
            continue
        clean[spec.name] = _clean(spec, value)
    if platform == "email" and clean.get("imap_ssl") and clean.get("imap_starttls"):
        raise _fail("imap_starttls", _("choose SSL or STARTTLS, not both"))
    if platform == "email":
        _check_mailbox_sign_in(clean)
    if platform == "shopify" and not clean.get("access_token"):
        for name in ("client_id", "client_secret"):
            if not clean.get(name) and name not in app_supplied:
                raise _fail(name, _("required without an access token (the app's client credentials)"))
    return clean


def _check_mailbox_sign_in(clean: Mapping[str, Any]) -> None:
    """A password mailbox needs its password; an OAuth one its provider and client (the tokens come
    from connecting it), and a custom provider its endpoints."""
    if clean.get("auth", "password") != "oauth2":
        if not clean.get("password"):
            raise _fail("password", _("required for %(platform)s") % {"platform": "email"})
        return
    for name in ("oauth_provider", "oauth_client_id", "oauth_client_secret"):
        if not clean.get(name):
            raise _fail(name, _("required when the mailbox signs in with OAuth"))
    if clean.get("oauth_provider") == "custom":
        for name in ("oauth_authorize_url", "oauth_token_url"):
            if not clean.get(name):
                raise _fail(name, _("required for a custom OAuth provider"))


def merge_kept_secrets(platform: str, new: Mapping[str, Any], stored: Mapping[str, Any]) -> dict[str, Any]:
    """An update of a store's credentials: the secrets (and connector-written fields) left out of
    `new`, or sent blank, keep their stored value; every other key is as in `new`."""
    fields = credential_fields(platform)
    merged = dict(new)
    if fields is None:
        return merged
    for spec in fields:
        if (spec.secret or spec.internal) and _blank(merged.get(spec.name)) and not _blank(stored.get(spec.name)):
            merged[spec.name] = stored[spec.name]
    return merged


@dataclass(frozen=True)
class CredentialState:
    """One field as the store page shows it: secrets only as set / not set."""

    field: CredentialField
    is_set: bool
    value: Any  # the stored value of a non-secret field; None for a secret
    # Given by the organization's marketplace app (Settings > Marketplace apps), not by the store.
    from_app: bool = False


def credentials_state(
    platform: str, stored: Mapping[str, Any], *, app_supplied: Collection[str] = ()
) -> list[CredentialState]:
    """The platform's (non-internal) fields with what is stored; [] without a schema. A field the
    organization's app supplies and the store does not override is `from_app`."""
    return [
        CredentialState(
            field=spec,
            is_set=not _blank(stored.get(spec.name)),
            value=None if spec.secret else stored.get(spec.name),
            from_app=spec.name in app_supplied and _blank(stored.get(spec.name)),
        )
        for spec in credential_fields(platform) or ()
        if not spec.internal
    ]
