"""Writes of the catalog: store credentials (encrypted at rest) and their key rotation."""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction

from aftersales.core.crypto import EncryptedToken, rotate
from aftersales.core.errors import ValidationFailed

from .models import Store


def store_set_credentials(*, store: Store, credentials: dict[str, Any]) -> Store:
    if not isinstance(credentials, dict) or not all(isinstance(k, str) for k in credentials):
        raise ValidationFailed("credentials must be an object with string keys", field="credentials")
    with transaction.atomic():
        locked = Store.objects.select_for_update().get(pk=store.pk)
        locked.credentials = credentials
        locked.save(update_fields=["credentials", "updated_at"])
    return locked


def stores_rotate_credentials() -> int:
    """Re-encrypt every store's credentials with the first key of FIELD_ENCRYPTION_KEYS, in one
    transaction. Tokens are rotated as tokens (never decoded into Python objects); safe to rerun."""
    table = connection.ops.quote_name(Store._meta.db_table)
    rotated = 0
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id, credentials FROM {table} WHERE credentials <> ''")  # noqa: S608
            rows = cursor.fetchall()
        for pk, token in rows:
            Store.objects.filter(pk=pk).update(credentials=EncryptedToken(rotate(token)))
            rotated += 1
    return rotated
