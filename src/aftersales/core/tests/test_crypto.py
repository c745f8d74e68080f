from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from aftersales.catalog.models import Store
from aftersales.core import crypto
from aftersales.testing.factories import StoreFactory


def _raw(store: Store) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM catalog_store WHERE id = %s", [store.pk])
        return cursor.fetchone()[0]


def test_credentials_are_encrypted_at_rest(db):
    store = StoreFactory(credentials={"refresh_token": "Atzr|secret-value", "client_id": "amzn1.app"})
    raw = _raw(store)
    assert "secret-value" not in raw and "amzn1" not in raw
    assert raw.startswith("gAAAA")
    assert Store.objects.get(pk=store.pk).credentials["refresh_token"] == "Atzr|secret-value"


def test_key_rotation(db, settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    store = StoreFactory(credentials={"token": "t1"})
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]  # new key first: encrypts; old still decrypts
    call_command("rotate_credentials", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key can now be dropped
    assert Store.objects.get(pk=store.pk).credentials == {"token": "t1"}
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    with pytest.raises(ValueError, match="cannot decrypt"):
        Store.objects.get(pk=store.pk)


def test_default_key_derived_from_secret_key(settings):
    settings.FIELD_ENCRYPTION_KEYS = []
    token = crypto.encrypt_json({"a": 1})
    assert crypto.decrypt_json(token) == {"a": 1}
    settings.SECRET_KEY = "another-secret-key-entirely-different-0123456789"
    with pytest.raises(ValueError):
        crypto.decrypt_json(token)


def test_every_encrypted_field_is_found_for_rotation():
    found = {f"{model._meta.label}.{name}" for model, name in crypto.encrypted_fields()}
    # The secrets the product stores today; a new EncryptedJSONField is picked up without a list.
    assert found >= {
        "catalog.Store.credentials",
        "channels.MarketplaceApp.credentials",
        "language.ProviderConfig.credentials",
        "notifications.WebhookSigningKey.secret",
        "rules.RuleWebhookSecret.secret",
        "tracking.TrackingAccount.credentials",
        "triage.LLMProviderSettings.credentials",
    }


def test_rotation_covers_the_webhook_signing_secrets(db, settings):
    """The organization's webhook signing key (and any other EncryptedJSONField) is re-encrypted
    by the operator's command, so the old key can be dropped without losing it."""
    from aftersales.notifications.models import WebhookSigningKey

    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    store = StoreFactory(credentials={"token": "t1"})
    WebhookSigningKey.objects.create(organization=store.organization, secret={"current": "whsec-1"})
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old_key]
    counts = crypto.rotate_encrypted_fields()
    assert counts["notifications.WebhookSigningKey.secret"] == 1
    assert counts["catalog.Store.credentials"] == 1
    settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_ENCRYPTION_KEYS[:1]  # the old key dropped
    assert WebhookSigningKey.objects.get().secret == {"current": "whsec-1"}
    assert Store.objects.get(pk=store.pk).credentials == {"token": "t1"}
