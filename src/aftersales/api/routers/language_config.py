"""The organization's language settings: supported pairs, translation providers (admins) and their
routing, the glossary (CSV import and export) and the translation memory."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from aftersales.accounts.models import Permission, User
from aftersales.accounts.permissions import check_perm
from aftersales.core.errors import ValidationFailed
from aftersales.language.models import ProviderConfig
from aftersales.language.selectors import (
    glossary_export,
    glossary_terms,
    memory_segments,
    provider_statuses,
    supported_pairs,
    translation_routes,
)
from aftersales.language.services import (
    glossary_import_csv,
    provider_config_save,
    provider_config_test,
    translation_route_set,
)

from ..auth import current_user
from ..errors import PayloadTooLarge, UnsupportedMediaType
from ..schemas.common import ErrorOut, with_errors
from ..schemas.language import (
    GlossaryPageOut,
    ImportOut,
    MemoryPageOut,
    PageQuery,
    PairsOut,
    ProviderConfigOut,
    ProviderIn,
    ProviderStatusOut,
    RouteIn,
    RouteOut,
)

router = Router(tags=["language settings"])

CSV_TYPES = frozenset({"text/csv", "application/csv", "text/plain"})
MAX_IMPORT_BYTES = 5 * 1024 * 1024


def _organization_id(user: User) -> int:
    return user.organization_id or 0  # a user without one has no permission (checked first)


@router.get("/language/pairs", response=with_errors({200: PairsOut}))
def list_language_pairs(request: HttpRequest) -> dict[str, Any]:
    """Language pairs the organization can translate ("de-zh"), directly or through English."""
    user = current_user(request)
    check_perm(user, Permission.VIEW)
    return {"pairs": supported_pairs(organization_id=_organization_id(user))}


# --- providers and routes (admins) ----------------------------------------------------------


@router.get("/language/providers", response=with_errors({200: list[ProviderStatusOut]}))
def list_language_providers(request: HttpRequest, check: bool = False) -> list[dict[str, Any]]:
    """The configured providers and the built-in offline engine; `check=true` calls each enabled
    one (health, latency). Credentials are never returned. Admins only."""
    user = current_user(request)
    check_perm(user, Permission.ADMINISTER)
    configs = {c.name: c for c in ProviderConfig.objects.filter(organization_id=_organization_id(user))}
    out = []
    for status in provider_statuses(user=user, check=check):
        config = configs.get(status.name)
        out.append(
            {
                "name": status.name,
                "kind": status.kind,
                "enabled": status.enabled,
                "ok": status.ok,
                "detail": status.detail,
                "latency_ms": status.latency_ms,
                "pairs": status.pairs,
                "config": config if config is not None and config.kind == status.kind else None,
            }
        )
    return out


@router.put("/language/providers/{name}", response=with_errors({200: ProviderConfigOut}))
def save_language_provider(request: HttpRequest, name: str, payload: ProviderIn) -> Any:
    """Create or replace a provider's configuration. `credentials` are write-only, stored
    encrypted; omit them to keep the stored ones. Admins only."""
    user = current_user(request)
    check_perm(user, Permission.ADMINISTER)
    if not name.isprintable():
        raise ValidationFailed(_("name must not contain control characters"), field="name")
    return provider_config_save(
        user=user,
        name=name,
        kind=payload.kind.value,
        base_url=payload.base_url,
        credentials=payload.credentials,
        options=payload.options,
        timeout_seconds=payload.timeout_seconds,
        priority=payload.priority,
        is_enabled=payload.is_enabled,
    )


class ProviderTestOut(Schema):
    ok: bool
    detail: str
    latency_ms: float | None


@router.post("/language/providers/{name}/test", response=with_errors({200: ProviderTestOut}))
def test_language_provider(request: HttpRequest, name: str, payload: ProviderIn) -> Any:
    """Call a provider once with a test sentence, with the settings sent (before saving them;
    credentials omitted come from the stored provider of that name). Writes nothing; a provider
    that does not answer is `ok: false` with the reason. Admins only."""
    user = current_user(request)
    check_perm(user, Permission.ADMINISTER)
    return provider_config_test(
        user=user,
        name=name,
        kind=payload.kind.value,
        base_url=payload.base_url,
        credentials=payload.credentials,
        options=payload.options,
        timeout_seconds=payload.timeout_seconds,
    )


class RouteChainOut(Schema):
    source_language: str
    target_language: str
    providers: list[str]


@router.get("/language/routes", response=with_errors({200: list[RouteChainOut]}))
def list_language_routes(request: HttpRequest) -> Any:
    """The fallback chains set per pair ("*" = any language), most specific first. Admins only."""
    user = current_user(request)
    check_perm(user, Permission.ADMINISTER)
    return translation_routes(user=user)


@router.put("/language/routes", response=with_errors({200: list[RouteOut]}))
def set_language_route(request: HttpRequest, payload: RouteIn) -> Any:
    """Set the fallback chain of a pair ("*" = any language) to the named providers, in order;
    an empty list removes it (the default chain applies). Admins only."""
    user = current_user(request)
    check_perm(user, Permission.ADMINISTER)
    return translation_route_set(
        user=user,
        source_language=payload.source_language,
        target_language=payload.target_language,
        provider_names=payload.provider_names,
    )


# --- glossary and translation memory --------------------------------------------------------


@router.get("/glossary", response=with_errors({200: GlossaryPageOut}))
def list_glossary_terms(request: HttpRequest, page: Query[PageQuery]) -> dict[str, Any]:
    """The termbase: forced translations and do-not-translate terms, per pair ("*" = any)."""
    user = current_user(request)
    check_perm(user, Permission.VIEW)
    terms = glossary_terms(organization_id=_organization_id(user))
    return {"items": list(terms[page.offset : page.offset + page.limit]), "total": terms.count()}


CSV_RESPONSE = {
    200: {
        "description": "The glossary as CSV (UTF-8, with a header row)",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


@router.get("/glossary/export", response=with_errors({}), openapi_extra={"responses": CSV_RESPONSE})
def export_glossary(request: HttpRequest) -> HttpResponse:
    """Download the glossary as CSV (the columns POST /glossary/import reads). Admins only."""
    user = current_user(request)
    check_perm(user, Permission.ADMINISTER)
    response = HttpResponse(glossary_export(user=user), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="glossary.csv"'
    return response


CSV_REQUEST = {
    "required": True,
    "content": {
        "text/csv": {"schema": {"type": "string"}},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
    },
}


def _uploaded_csv(request: HttpRequest) -> bytes:
    content_type = request.content_type or ""
    if content_type == "multipart/form-data":
        files = request.FILES.getlist("file")
        if len(files) != 1:
            raise ValidationFailed(_("send one CSV file in the form field 'file'"), field="file")
        upload = files[0]
        if (upload.size or 0) > MAX_IMPORT_BYTES:
            raise PayloadTooLarge(f"the file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB", field="file")
        return upload.read()
    if content_type in CSV_TYPES:
        body = request.body
        if len(body) > MAX_IMPORT_BYTES:
            raise PayloadTooLarge(f"the file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB", field="file")
        return body
    how = "send the CSV as text/csv or as the multipart/form-data field 'file'"
    if not content_type and not request.body:
        raise ValidationFailed(_("the request has no CSV: %(how)s") % {"how": how}, field="file")
    raise UnsupportedMediaType(f"{how}, not {content_type or 'no content type'}", field="file")


@router.post(
    "/glossary/import",
    response={**with_errors({200: ImportOut}), 415: ErrorOut},
    openapi_extra={"requestBody": CSV_REQUEST},
)
def import_glossary(request: HttpRequest) -> Any:
    """Import terms from CSV (columns source_language, target_language, term, translation,
    do_not_translate, case_sensitive, note); existing terms of a pair are updated. Every row is
    valid or nothing is imported: the 422 names the bad rows. Admins only."""
    user = current_user(request)
    check_perm(user, Permission.ADMINISTER)
    return glossary_import_csv(user=user, content=_uploaded_csv(request))


@router.get("/translation-memory", response=with_errors({200: MemoryPageOut}))
def list_memory_segments(request: HttpRequest, page: Query[PageQuery]) -> dict[str, Any]:
    """Approved translations (agents' corrections), most recently used first."""
    user = current_user(request)
    check_perm(user, Permission.VIEW)
    segments = memory_segments(organization_id=_organization_id(user))
    return {"items": list(segments[page.offset : page.offset + page.limit]), "total": segments.count()}
