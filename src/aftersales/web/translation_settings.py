"""The "Translation" section of the settings page (administrators only): the glossary, the
providers with their health and a form for each (base URL, model, write-only key, enabled,
priority, "test connection"), the routes (which providers translate which pair, in order), and
the language pairs the organization can translate. Nothing here needs the Django admin."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _

from aftersales.accounts.models import User
from aftersales.accounts.permissions import is_admin
from aftersales.core.errors import ValidationFailed
from aftersales.language.languages import SUPPORTED
from aftersales.language.models import ANY, ProviderKind
from aftersales.language.selectors import (
    ProviderSetting,
    glossary_terms,
    provider_settings,
    provider_statuses,
    supported_pairs,
    translation_routes,
)

GLOSSARY_SAMPLE = 50
_ROW_ERRORS = re.compile(r";\s+(?=row \d+:|and \d+ more)")
_NOT_IMPORTED = "glossary not imported, nothing was changed: "


@dataclass(frozen=True)
class PairGroup:
    source: str
    targets: tuple[str, ...]


def pair_groups(pairs: list[str]) -> list[PairGroup]:
    """["en-es", "en-pt", "es-en"] -> [en: (es, pt), es: (en,)]."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for pair in pairs:
        source, _sep, target = pair.partition("-")
        if source and target:
            grouped[source].append(target)
    return [PairGroup(source, tuple(sorted(targets))) for source, targets in sorted(grouped.items())]


def glossary_errors(message: str) -> tuple[str, list[str]]:
    """The import error as a headline and one line per bad row (the engine joins them with "; ")."""
    if not message.startswith(_NOT_IMPORTED):
        return message, []
    return "", [part.strip() for part in _ROW_ERRORS.split(message[len(_NOT_IMPORTED) :]) if part.strip()]


CREDENTIAL_FIELDS = ("api_key", "region", "project_id")
ROUTE_SLOTS = 3


@dataclass(frozen=True)
class ProviderForm:
    """One provider's form: the stored values, or what was just posted (with its errors and the
    result of "test connection"). Credentials are never put back into the form."""

    name: str
    kind: str
    base_url: str = ""
    model: str = ""
    languages: str = ""
    timeout_seconds: str = "15"
    priority: str = "100"
    enabled: bool = True
    credential_names: tuple[str, ...] = ()
    is_new: bool = False
    open: bool = False
    errors: dict[str, str] | None = None
    test: Any = None  # Health of the last "test connection"


def _form_of(setting: ProviderSetting) -> ProviderForm:
    return ProviderForm(
        name=setting.name,
        kind=setting.kind,
        base_url=setting.base_url,
        model=setting.model,
        languages=", ".join(setting.languages),
        timeout_seconds=f"{setting.timeout_seconds:g}",
        priority=str(setting.priority),
        enabled=setting.enabled,
        credential_names=setting.credential_names,
    )


def provider_forms(
    user: User, posted: ProviderForm | None = None, errors: dict[str, str] | None = None, test: Any = None
) -> list[ProviderForm]:
    """A form per configured provider, then an empty one to add a provider. The posted form (if
    any) replaces the one it was posted from, open, with its errors or test result."""
    forms = [_form_of(s) for s in provider_settings(user=user)]
    new = ProviderForm(name="", kind=ProviderKind.OPENAI, is_new=True)
    if posted is not None:
        shown = {**posted.__dict__, "open": True, "errors": errors or {}, "test": test}
        names = [f.name for f in forms]
        if posted.name in names:
            stored = forms[names.index(posted.name)]
            forms[names.index(posted.name)] = ProviderForm(
                **{**shown, "credential_names": stored.credential_names, "is_new": False}
            )
        else:
            new = ProviderForm(**{**shown, "is_new": True})
    return [*forms, new]


def _number(value: str, field: str, kind: type) -> Any:
    try:
        return kind(value.strip().replace(",", "."))
    except ValueError:
        raise ValidationFailed(_("Enter a number."), field=field) from None


def provider_form_values(data: QueryDict) -> ProviderForm:
    """What was typed in a provider form (to show it again); never the credentials."""
    return ProviderForm(
        name=" ".join(data.get("name", "").split())[:60],
        kind=data.get("kind", "").strip(),
        base_url=data.get("base_url", "").strip()[:500],
        model=data.get("model", "").strip()[:200],
        languages=data.get("languages", "").strip()[:300],
        timeout_seconds=data.get("timeout_seconds", "15").strip()[:10] or "15",
        priority=data.get("priority", "100").strip()[:10] or "100",
        enabled=data.get("enabled") == "on",
    )


def provider_arguments(form: ProviderForm, data: QueryDict) -> dict[str, Any]:
    """The keyword arguments of the provider services. Empty credential fields keep the stored
    ones (credentials None, or merged); "clear_credentials" removes them ({})."""
    secrets = {k: data.get(k, "").strip() for k in CREDENTIAL_FIELDS if data.get(k, "").strip()}
    if any(len(v) > 4000 for v in secrets.values()):
        raise ValidationFailed(_("A credential is longer than 4000 characters."), field="api_key")
    languages = [code for code in re.split(r"[\s,;]+", form.languages) if code]
    return {
        "name": form.name,
        "kind": form.kind,
        "base_url": form.base_url,
        "options": {"model": form.model, "languages": languages},
        "timeout_seconds": _number(form.timeout_seconds, "timeout_seconds", float),
        "credentials": {} if data.get("clear_credentials") == "on" else (secrets or None),
    }


def parse_priority(form: ProviderForm) -> int:
    return _number(form.priority, "priority", int)


def parse_route_form(data: QueryDict) -> dict[str, Any]:
    """The route form: a pair ("*" = any language) and up to three providers, in order."""
    names = [data.get(f"provider_{i}", "").strip() for i in range(1, ROUTE_SLOTS + 1)]
    return {
        "source_language": data.get("source_language", "").strip(),
        "target_language": data.get("target_language", "").strip(),
        "provider_names": [n for n in names if n],
    }


def translation_settings(user: User, **extra: Any) -> dict[str, Any]:
    if not is_admin(user) or user.organization_id is None:
        return {"can_administer": False}
    org_id: int = user.organization_id
    terms = glossary_terms(organization_id=org_id)
    return {
        "can_administer": True,
        "glossary_count": terms.count(),
        "glossary_sample": list(terms[:GLOSSARY_SAMPLE]),
        "providers": provider_statuses(user=user),
        "providers_checked": False,
        "pair_groups": pair_groups(supported_pairs(organization_id=org_id)),
        "provider_forms": provider_forms(user),
        "provider_kinds": ProviderKind.choices,
        "routes": translation_routes(user=user),
        "route_languages": [ANY, *SUPPORTED],
        "route_slots": range(1, ROUTE_SLOTS + 1),
        **extra,
    }
