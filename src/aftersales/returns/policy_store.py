"""The organization's versioned return-policy set: save / import (a new active version each time,
the previous ones kept), the active version (the default policy until the first save), export.

Writes are services (`policy_save`); reads return frozen dataclasses. The compiled policy of a
version is cached per process by version id (versions are immutable)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from aftersales.accounts.audit import setting_changes_record
from aftersales.accounts.models import Organization, Permission
from aftersales.accounts.permissions import check_perm, organization_of
from aftersales.core import clock
from aftersales.core.errors import NotFound, ValidationFailed
from aftersales.core.validation import check_text

from .models import ReturnPolicyVersion
from .policy import DEFAULT_POLICY, CompiledPolicy, PolicyDocumentError, compile_policy, load_text, parse_document


@dataclass(frozen=True)
class PolicyVersionView:
    number: int  # 0 = the built-in default (never saved)
    is_active: bool
    document: dict[str, Any]
    comment: str
    created_at: datetime | None
    created_by: str | None


def _view(version: ReturnPolicyVersion) -> PolicyVersionView:
    return PolicyVersionView(
        number=version.number,
        is_active=version.is_active,
        document=version.document,
        comment=version.comment,
        created_at=version.created_at,
        created_by=str(version.created_by) if version.created_by_id else None,
    )


DEFAULT_VIEW = PolicyVersionView(
    number=0, is_active=True, document=DEFAULT_POLICY, comment="default", created_at=None, created_by=None
)


def check_policy_document(document: Any) -> dict[str, Any]:
    """A document given as a dict (API body) or as JSON/YAML text -> the plain dict. 422 naming the
    offending path (`document.windows[2].scope.sku`)."""
    try:
        if isinstance(document, str):
            return load_text(document)
        parse_document(document)
    except PolicyDocumentError as exc:
        field = f"document.{exc.path}" if exc.path else "document"
        raise ValidationFailed(
            _("%(field)s: %(problem)s") % {"field": field, "problem": exc.message}, field=field
        ) from None
    json.dumps(document)  # the stored form is plain JSON
    return document  # type: ignore[no-any-return]


# Compiled policies by (version id, saved at): a version's document never changes once stored; the
# time guards against an id used again for another document (a database restored or flushed, as the
# tests do), so the document is read and compiled once per process and version, on first use.
_COMPILED: dict[tuple[int, Any], CompiledPolicy] = {}
_COMPILED_MAX = 256
_DEFAULT_COMPILED = compile_policy(parse_document(DEFAULT_POLICY))


def active_compiled_policy(organization_id: int) -> tuple[int, CompiledPolicy]:
    """(version number, compiled policy) of the organization's active version; (0, default)."""
    row = (
        ReturnPolicyVersion.objects.filter(organization_id=organization_id, is_active=True)
        .values_list("id", "number", "created_at")
        .first()
    )
    if row is None:
        return 0, _DEFAULT_COMPILED
    version_id, number, saved_at = row
    compiled = _COMPILED.get((version_id, saved_at))
    if compiled is None:
        document = ReturnPolicyVersion.objects.values_list("document", flat=True).get(pk=version_id)
        compiled = compile_policy(parse_document(document))
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.clear()
        _COMPILED[(version_id, saved_at)] = compiled
    return number, compiled


def policy_active(user: Any) -> PolicyVersionView:
    """The active version (admins)."""
    check_perm(user, Permission.ADMINISTER)
    version = ReturnPolicyVersion.objects.filter(organization_id=organization_of(user), is_active=True).first()
    return _view(version) if version else DEFAULT_VIEW


def policy_versions(user: Any) -> list[PolicyVersionView]:
    """Every saved version, newest first (admins)."""
    check_perm(user, Permission.ADMINISTER)
    rows = ReturnPolicyVersion.objects.filter(organization_id=organization_of(user)).select_related("created_by")
    return [_view(v) for v in rows[:200]]


def policy_version(user: Any, number: int) -> PolicyVersionView:
    check_perm(user, Permission.ADMINISTER)
    version = ReturnPolicyVersion.objects.filter(organization_id=organization_of(user), number=number).first()
    if version is None:
        raise NotFound(_("no policy version %(number)d") % {"number": number}, field="number")
    return _view(version)


def policy_save(*, user: Any, document: Any, comment: str = "") -> PolicyVersionView:
    """Check, then store the document as the organization's new active version (admins)."""
    check_perm(user, Permission.ADMINISTER)
    clean = check_policy_document(document)
    check_text(comment, field="comment", max_length=200, one_line=True)
    return _store(organization_id=organization_of(user), document=clean, comment=comment, created_by=user)


def policy_import(*, organization: Organization, text: str, comment: str = "") -> PolicyVersionView:
    """`manage.py policies_import`: the same checks, no user (an operator at the console)."""
    clean = check_policy_document(text)
    return _store(organization_id=organization.pk, document=clean, comment=comment or "import", created_by=None)


def _store(*, organization_id: int, document: dict[str, Any], comment: str, created_by: Any) -> PolicyVersionView:
    """Locks the organization row so that two saves get distinct numbers and one active version."""
    with transaction.atomic():
        Organization.objects.select_for_update().filter(pk=organization_id).first()
        last = ReturnPolicyVersion.objects.filter(organization_id=organization_id).aggregate(n=Max("number"))["n"]
        ReturnPolicyVersion.objects.filter(organization_id=organization_id, is_active=True).update(is_active=False)
        version = ReturnPolicyVersion.objects.create(
            organization_id=organization_id,
            number=(last or 0) + 1,
            document=document,
            is_active=True,
            comment=comment,
            created_by=created_by if getattr(created_by, "pk", None) else None,
            created_at=clock.now(),
        )
        setting_changes_record(
            organization_id=organization_id,
            actor=created_by,
            setting="return_policy",
            old={"version": last},
            new={"version": version.number},
        )
    return _view(version)


def policy_export_text(document: dict[str, Any], *, fmt: str = "json") -> str:
    if fmt == "yaml":
        import yaml

        return str(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
