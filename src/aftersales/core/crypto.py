"""Encryption at rest for secrets (store credentials, API keys of providers).

Keys come from settings.FIELD_ENCRYPTION_KEYS (Fernet keys, newest first). When none is set the
key is derived from SECRET_KEY with HKDF so a single-machine install works out of the box; a
production deployment sets its own keys. MultiFernet decrypts with any listed key and
`rotate()` re-encrypts with the first one (see `aftersales rotate_credentials`)."""

from __future__ import annotations

import base64
import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet


def _derived_key(secret: str) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"aftersales-field-encryption", info=b"v1")
    return base64.urlsafe_b64encode(hkdf.derive(secret.encode()))


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...], secret: str) -> MultiFernet:
    from cryptography.fernet import Fernet, MultiFernet

    material = [k.encode() for k in keys] or [_derived_key(secret)]
    return MultiFernet([Fernet(k) for k in material])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS), settings.SECRET_KEY)


def encrypt_json(value: Any) -> str:
    return fernet().encrypt(json.dumps(value, sort_keys=True).encode()).decode()


def decrypt_json(token: str) -> Any:
    from cryptography.fernet import InvalidToken

    try:
        return json.loads(fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise ValueError("cannot decrypt: key not in FIELD_ENCRYPTION_KEYS") from exc


def rotate(token: str) -> str:
    return fernet().rotate(token.encode()).decode()


def encrypted_fields() -> list[tuple[type[models.Model], str]]:
    """Every installed model's EncryptedJSONField, in a stable order (label, field name)."""
    from django.apps import apps

    found = [
        (model, field.name)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedJSONField)
    ]
    return sorted(found, key=lambda pair: (pair[0]._meta.label, pair[1]))


def rotate_encrypted_fields() -> dict[str, int]:
    """Re-encrypt every stored secret of every model with the first FIELD_ENCRYPTION_KEYS key, in
    one transaction, as tokens (never decoded): `aftersales rotate_credentials`. Found by field
    type, so a model that adds an EncryptedJSONField is rotated without being listed anywhere.
    Safe to rerun. Returns the rows re-encrypted per "app_label.Model.field"."""
    from django.db import connection, transaction

    quote = connection.ops.quote_name
    counts: dict[str, int] = {}
    with transaction.atomic():
        for model, name in encrypted_fields():
            meta = model._meta
            field, pk = meta.get_field(name), meta.pk
            assert isinstance(field, models.Field) and field.column and pk is not None and pk.column
            column, pk_column = quote(field.column), quote(pk.column)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT {pk_column}, {column} FROM {quote(meta.db_table)} WHERE {column} <> ''"  # noqa: S608
                )
                rows = cursor.fetchall()
            for pk, token in rows:
                model._base_manager.filter(pk=pk).update(**{name: EncryptedToken(rotate(token))})
            counts[f"{meta.label}.{name}"] = len(rows)
    return counts


class EncryptedToken(str):
    """A value that is already a Fernet token: written to the column as it is (key rotation)."""


class EncryptedJSONField(models.TextField):
    """A JSON value stored as a Fernet token. Never queryable by content, by design."""

    description = "Encrypted JSON"
    # Tell django-stubs the Python-side type: any JSON value, not str.
    _pyi_private_set_type: Any
    _pyi_private_get_type: Any

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return {}
        return decrypt_json(value)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith("gAAAA"):
            return decrypt_json(value)
        return value

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, EncryptedToken):
            return str(value)
        return encrypt_json(value)
