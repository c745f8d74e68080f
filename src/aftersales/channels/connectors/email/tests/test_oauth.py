"""Mailboxes that sign in with OAuth 2.0 / XOAUTH2 (issue 9: e-mail OAuth for Gmail and Microsoft
365). Against real servers the tests start: a local OAuth provider (testing/fake_oauth.py: code +
PKCE, refresh, RFC 7662 introspection), dovecot checking XOAUTH2 logins through its oauth2 passdb
and that introspection endpoint, and an SMTP server that requires AUTH XOAUTH2. The admin connects
the mailbox from its store page (consent round trip), then mail is read and replies are sent with
tokens only; an expired token is refreshed and saved; a revoked refresh token pauses the store with
the provider's words. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.urls import reverse

from aftersales.channels.base import AuthError, Stream
from aftersales.channels.connectors.email import oauth
from aftersales.channels.credentials import check_platform_credentials
from aftersales.channels.models import StoreSync
from aftersales.channels.store_sync import MAILBOX_OAUTH_CALLBACK, mailbox_oauth_redirect_uri
from aftersales.channels.sync import store_context, sync_stream
from aftersales.core.errors import ValidationFailed
from aftersales.inbox.models import Ticket
from aftersales.testing.dovecot import DovecotServer
from aftersales.testing.factories import StoreFactory
from aftersales.testing.fake_oauth import FakeOAuthProvider
from aftersales.testing.smtp import SmtpServer

pytestmark = pytest.mark.django_db

ADDRESS = "support@example.com"


@pytest.fixture
def provider() -> Iterator[FakeOAuthProvider]:
    fake = FakeOAuthProvider(user=ADDRESS)
    with fake.running():
        yield fake


@pytest.fixture
def imap(provider: FakeOAuthProvider) -> Iterator[DovecotServer]:
    server = DovecotServer(oauth2_introspection_url=f"{provider.url}/introspect").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp(provider: FakeOAuthProvider) -> Iterator[SmtpServer]:
    server = SmtpServer(xoauth2=provider.valid_token).start()
    try:
        yield server
    finally:
        server.stop()


def _credentials(provider: FakeOAuthProvider, imap: DovecotServer, smtp: SmtpServer | None = None) -> dict:
    account = imap.add_account(ADDRESS)  # the mailbox exists; its password is never given to us
    creds: dict[str, Any] = {
        "address": ADDRESS,
        "imap_host": imap.host,
        "imap_port": imap.port,
        "imap_ssl": False,
        "auth": "oauth2",
        "oauth_provider": "custom",
        "oauth_client_id": provider.client_id,
        "oauth_client_secret": provider.client_secret,
        "oauth_authorize_url": f"{provider.url}/authorize",
        "oauth_token_url": f"{provider.url}/token",
        "oauth_scopes": ["mail.imap", "mail.smtp", "offline_access"],
    }
    if smtp is not None:
        creds.update({"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_tls": "none"})
    imap.accounts_by_name = {ADDRESS: account}  # type: ignore[attr-defined]
    return creds


def _mail(subject: str, body: str, sender: str = "anna@example.de") -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ADDRESS
    message["Subject"] = subject
    message["Message-ID"] = f"<{subject.replace(' ', '-')}@example.de>"
    message["Date"] = formatdate(localtime=False)
    message.set_content(body)
    return message.as_bytes()


def _connect(client: Any, store: Any) -> Any:
    """The admin's consent round trip: our connect button -> the provider -> our callback."""
    started = client.post(reverse("web:settings_mailbox_oauth_connect", args=[store.pk]))
    assert started.status_code == 302
    consent = httpx.get(started["Location"], follow_redirects=False)  # the provider's page "consents"
    assert consent.status_code == 302
    back = urlsplit(consent.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == mailbox_oauth_redirect_uri()
    return client.get(back.path + "?" + back.query)


def test_the_consent_url_carries_pkce_state_and_the_providers_extras() -> None:
    creds = {"oauth_provider": "google", "oauth_client_id": "cid", "oauth_client_secret": "s", "address": ADDRESS}
    request = oauth.authorization_request(creds, redirect_uri="https://help.example.com/cb")
    parts = urlsplit(request.url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://accounts.google.com/o/oauth2/v2/auth"
    assert query["client_id"] == "cid" and query["redirect_uri"] == "https://help.example.com/cb"
    assert query["scope"] == "https://mail.google.com/" and query["response_type"] == "code"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["state"] == request.state and query["access_type"] == "offline" and query["prompt"] == "consent"
    assert query["login_hint"] == ADDRESS
    microsoft = oauth.authorization_request(
        {**creds, "oauth_provider": "microsoft", "oauth_tenant": "contoso.onmicrosoft.com"}, redirect_uri="https://x/cb"
    )
    assert microsoft.url.startswith("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize?")
    assert "IMAP.AccessAsUser.All" in microsoft.url and "offline_access" in microsoft.url


def test_credentials_of_an_oauth_mailbox_are_checked() -> None:
    base = {"address": ADDRESS, "imap_host": "imap.gmail.com", "auth": "oauth2"}
    with pytest.raises(ValidationFailed) as missing:
        check_platform_credentials("email", base)
    assert missing.value.field == "credentials.oauth_provider"
    ok = check_platform_credentials(
        "email", {**base, "oauth_provider": "google", "oauth_client_id": "c", "oauth_client_secret": "s"}
    )
    assert "password" not in ok
    with pytest.raises(ValidationFailed) as custom:
        check_platform_credentials(
            "email", {**base, "oauth_provider": "custom", "oauth_client_id": "c", "oauth_client_secret": "s"}
        )
    assert custom.value.field == "credentials.oauth_authorize_url"
    with pytest.raises(ValidationFailed) as plain:
        check_platform_credentials(
            "email", {**base, "oauth_authorize_url": "http://idp.example.com/a"} | {"auth": "oauth2"}
        )
    assert plain.value.field in ("credentials.oauth_authorize_url", "credentials.oauth_provider")
    with pytest.raises(ValidationFailed) as password:
        check_platform_credentials("email", {"address": ADDRESS, "imap_host": "imap.example.com"})
    assert password.value.field == "credentials.password"


def test_connect_read_and_reply_with_tokens_only(
    world: Any, client: Any, provider: FakeOAuthProvider, imap: DovecotServer, smtp: SmtpServer, settings: Any
) -> None:
    from aftersales.inbox.services.delivery import message_deliver
    from aftersales.inbox.services.tickets import ticket_reply

    settings.SITE_URL = "http://testserver"
    provider.redirect_uris.add(mailbox_oauth_redirect_uri())
    assert reverse("web:mailbox_oauth_callback") == MAILBOX_OAUTH_CALLBACK
    store = StoreFactory(
        organization=world.org, platform="email", site="", credentials=_credentials(provider, imap, smtp)
    )
    client.force_login(world.admin)
    page = client.get(reverse("web:settings_store_connection", args=[store.pk]))
    assert 'data-oauth="not-connected"' in page.content.decode()

    done = _connect(client, store)
    assert done.status_code == 302 and done["Location"].endswith("#oauth")
    store.refresh_from_db()
    creds = store.credentials
    assert creds["oauth_refresh_token"].startswith("rt-") and creds["oauth_access_token"].startswith("at-")
    token_call = provider.requests_to("/token")[-1]
    assert b"grant_type=authorization_code" in token_call.body and b"code_verifier=" in token_call.body
    assert (
        'data-oauth="connected"'
        in client.get(reverse("web:settings_store_connection", args=[store.pk])).content.decode()
    )

    account = imap.accounts_by_name[ADDRESS]  # type: ignore[attr-defined]
    imap.deliver(account, _mail("Handy kaputt", "Das Display ist gebrochen."))
    run = sync_stream(store_id=store.pk, stream=Stream.MESSAGES)
    assert run.status == "succeeded" and run.created == 1, run.error
    ticket = Ticket.objects.get(store=store)
    assert provider.requests_to("/introspect")  # dovecot checked the token with the provider

    reply = ticket_reply(ticket=ticket, author=world.admin, body="Wir senden Ersatz.")
    assert message_deliver(reply.pk) == "sent"
    assert smtp.handler.logins == [ADDRESS]  # type: ignore[attr-defined]
    [sent] = smtp.received
    assert sent["To"] == "anna@example.de" and "Wir senden Ersatz." in sent.get_content()

    # The access token expires: the next sync refreshes it first and saves the new one.
    provider.expire_access_tokens()
    store.refresh_from_db()
    old = store.credentials["oauth_access_token"]
    creds = dict(store.credentials)
    creds["oauth_access_token_expires_at"] = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    store.credentials = creds
    store.save()
    imap.deliver(account, _mail("Noch eine Frage", "Wann kommt es?"))
    assert sync_stream(store_id=store.pk, stream=Stream.MESSAGES).created == 1
    store.refresh_from_db()
    assert store.credentials["oauth_access_token"] != old
    assert sum(b"grant_type=refresh_token" in r.body for r in provider.requests_to("/token")) == 1


def test_a_token_the_server_refuses_is_refreshed_once_and_a_revoked_grant_pauses_the_store(
    world: Any, provider: FakeOAuthProvider, imap: DovecotServer
) -> None:
    creds = _credentials(provider, imap)
    store = StoreFactory(organization=world.org, platform="email", site="", credentials=creds)
    # connected earlier: tokens as the provider issued them
    pending = oauth.authorization_request(creds, redirect_uri="http://testserver/cb")
    provider.redirect_uris.add("http://testserver/cb")
    back = httpx.get(pending.url, follow_redirects=False).headers["location"]
    updates = oauth.exchange_code(
        creds,
        code=oauth.parse_callback(back, state=pending.state),
        redirect_uri="http://testserver/cb",
        code_verifier=pending.code_verifier,
    )
    store_context(store).save_credentials(updates)
    # the provider invalidated the access token early (the expiry we hold says it is still good)
    provider.expire_access_tokens()
    assert sync_stream(store_id=store.pk, stream=Stream.MESSAGES).status == "succeeded"
    assert sum(b"grant_type=refresh_token" in r.body for r in provider.requests_to("/token")) == 1

    provider.revoke_refresh_tokens()
    provider.expire_access_tokens()
    run = sync_stream(store_id=store.pk, stream=Stream.MESSAGES)
    assert run.status == "paused"
    sync = StoreSync.objects.get(store=store)
    assert sync.paused and "invalid_grant" in sync.paused_reason and "connect the mailbox again" in sync.paused_reason


def test_refused_consent_and_a_forged_state_save_nothing(
    world: Any, client: Any, provider: FakeOAuthProvider, imap: DovecotServer, settings: Any
) -> None:
    settings.SITE_URL = "http://testserver"
    provider.redirect_uris.add(mailbox_oauth_redirect_uri())
    store = StoreFactory(organization=world.org, platform="email", site="", credentials=_credentials(provider, imap))
    client.force_login(world.admin)
    provider.refuse_consent = True
    refused = _connect(client, store)
    assert refused.status_code == 302
    store.refresh_from_db()
    assert "oauth_refresh_token" not in store.credentials
    provider.refuse_consent = False
    started = client.post(reverse("web:settings_mailbox_oauth_connect", args=[store.pk]))
    location = httpx.get(started["Location"], follow_redirects=False).headers["location"]
    forged = location.replace("state=", "state=x")
    assert client.get(urlsplit(forged).path + "?" + urlsplit(forged).query).status_code == 302
    store.refresh_from_db()
    assert "oauth_refresh_token" not in store.credentials
    # a callback without a started connection
    answer = client.get(MAILBOX_OAUTH_CALLBACK + "?code=x&state=y")
    assert answer.status_code == 422
    # an agent may not start it
    client.force_login(world.agent)
    assert client.post(reverse("web:settings_mailbox_oauth_connect", args=[store.pk])).status_code == 403


def test_a_provider_without_a_refresh_token_is_refused(provider: FakeOAuthProvider) -> None:
    provider.give_refresh_token = False
    provider.redirect_uris.add("http://testserver/cb")
    creds = {
        "oauth_provider": "custom",
        "oauth_client_id": provider.client_id,
        "oauth_client_secret": provider.client_secret,
        "oauth_authorize_url": f"{provider.url}/authorize",
        "oauth_token_url": f"{provider.url}/token",
        "oauth_scopes": ["mail.imap"],
    }
    pending = oauth.authorization_request(creds, redirect_uri="http://testserver/cb")
    back = httpx.get(pending.url, follow_redirects=False).headers["location"]
    with pytest.raises(AuthError) as refused:
        oauth.exchange_code(
            creds,
            code=oauth.parse_callback(back, state=pending.state),
            redirect_uri="http://testserver/cb",
            code_verifier=pending.code_verifier,
        )
    assert refused.value.code == "oauth_no_refresh_token"
