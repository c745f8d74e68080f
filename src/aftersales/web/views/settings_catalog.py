"""Settings for organization admins: stores, category labels, reply templates.

Each view parses the form, calls one service (the same as the API's) and renders; a DomainError is
shown next to the field it names, with what was typed kept, and nothing is written. Credentials
are write-only: the page says whether some are set, never what they are."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm
from aftersales.accounts.selectors import users_of_organization
from aftersales.catalog.models import Platform
from aftersales.catalog.selectors import store_list
from aftersales.catalog.services import STORE_FIELDS, store_create, store_update, time_zones
from aftersales.core.errors import DomainError, PermissionDenied, ValidationFailed
from aftersales.inbox.selectors import category_labels
from aftersales.inbox.services import category_label_rows, category_labels_set
from aftersales.inbox.workflow import TicketCategory, TicketStatus
from aftersales.language.languages import RTL_LANGUAGES, SUPPORTED, is_rtl
from aftersales.language.selectors import reply_templates
from aftersales.language.templates import (
    MAX_RENDERED,
    VARIABLE_GROUPS,
    VARIABLE_PATHS,
    Macro,
    reply_template_delete,
    reply_template_preview,
    reply_template_save,
    reply_template_update,
)

from ..access import AgentRequest, web_view

MAX_CREDENTIALS_TEXT = 8_000


def _page_error(exc: DomainError) -> None:
    """Refusals that are not about a field of the form become the 403/404 page."""
    if isinstance(exc, PermissionDenied) or exc.status_code == 404:
        raise exc


# --- stores -----------------------------------------------------------------------------------


def parse_credentials(text: str) -> dict[str, str] | None:
    """The credentials box: a JSON object, or one `key = value` per line. Empty: None (keep)."""
    text = text.strip()
    if not text:
        return None
    if len(text) > MAX_CREDENTIALS_TEXT:
        raise ValidationFailed(_("credentials are too long"), field="credentials")
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except ValueError:
            raise ValidationFailed(_("credentials: not valid JSON"), field="credentials") from None
        if not isinstance(value, dict):
            raise ValidationFailed(_("credentials must be an object with text keys"), field="credentials")
        return value
    parsed: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ValidationFailed(
                _("credentials: line %(number)d is not “key = value”") % {"number": number}, field="credentials"
            )
        parsed[key.strip()] = value.strip()
    return parsed


def _store_values(post: QueryDict) -> dict[str, Any]:
    values: dict[str, Any] = {name: post.get(name, "") for name in STORE_FIELDS if name != "is_active"}
    values["is_active"] = post.get("is_active") == "on"
    return values


NEW_STORE = {
    "name": "",
    "platform": Platform.AMAZON,
    "site": "",
    "external_id": "",
    "default_language": "en",
    "timezone": "UTC",
    "currency": "USD",
    "country": "",
    "is_active": True,
}


def _stores_page(
    request: AgentRequest,
    *,
    status: int = 200,
    form_for: int | str | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> HttpResponse:
    """The page; the form that failed (`form_for`: a store id or "new") shows what was typed and
    the error next to its field."""
    stores = store_list(request.user)
    rows = [
        {
            "store": store,
            "open": form_for == store.id,
            "values": values if form_for == store.id else {name: getattr(store, name) for name in STORE_FIELDS},
            "errors": errors if form_for == store.id else {},
        }
        for store in stores
    ]
    context = {
        "settings_section": "stores",
        "rows": rows,
        "new_form": {
            "store": None,
            "values": values if form_for == "new" else NEW_STORE,
            "errors": errors if form_for == "new" else {},
        },
        "platforms": Platform.choices,
        "languages": sorted(SUPPORTED),
        "time_zones": sorted(time_zones()),
    }
    return render(request, "web/settings/catalog/stores.html", context, status=status)


@web_view(methods=("GET", "POST"))
def settings_stores(request: AgentRequest) -> HttpResponse:
    """The stores, and (POST) adding one."""
    check_perm(request.user, Permission.ADMINISTER)
    if request.method == "GET":
        return _stores_page(request)
    values = _store_values(request.POST)
    try:
        credentials = parse_credentials(request.POST.get("credentials", ""))
        store = store_create(user=request.user, credentials=credentials, **values)
    except DomainError as exc:
        _page_error(exc)
        return _stores_page(
            request, status=exc.status_code, errors={exc.field or "name": exc.message}, form_for="new", values=values
        )
    messages.success(request, _("Store “%(name)s” added.") % {"name": store.name})
    return redirect(reverse("web:settings_stores") + f"#store-{store.pk}")


@web_view(methods=("POST",))
def settings_store(request: AgentRequest, store_id: int) -> HttpResponse:
    """Change a store; credentials typed replace the stored ones, "clear" removes them."""
    values: dict[str, Any] = _store_values(request.POST)
    try:
        changes = dict(values)
        credentials = parse_credentials(request.POST.get("credentials", ""))
        if request.POST.get("clear_credentials") == "on":
            changes["credentials"] = None
        elif credentials is not None:
            changes["credentials"] = credentials
        store = store_update(user=request.user, store_id=store_id, changes=changes)
    except DomainError as exc:
        _page_error(exc)
        return _stores_page(
            request, status=exc.status_code, errors={exc.field or "name": exc.message}, form_for=store_id, values=values
        )
    messages.success(request, _("Store “%(name)s” saved.") % {"name": store.name})
    return redirect(reverse("web:settings_stores") + f"#store-{store.pk}")


# --- category labels --------------------------------------------------------------------------


def _categories_page(
    request: AgentRequest,
    *,
    status: int = 200,
    typed: dict[str, dict[str, str]] | None = None,
    errors: dict[str, str] | None = None,
) -> HttpResponse:
    errors = errors or {}
    rows = []
    for row in category_label_rows(user=request.user):
        values = (typed or {}).get(row.category) or {"label_en": row.label_en, "label_zh_hans": row.label_zh_hans}
        rows.append(
            {
                "row": row,
                "label_en": values["label_en"],
                "label_zh_hans": values["label_zh_hans"],
                "error_en": errors.get(f"labels.{row.category}.label_en", ""),
                "error_zh_hans": errors.get(f"labels.{row.category}.label_zh_hans", ""),
            }
        )
    context = {"settings_section": "categories", "rows": rows, "failed": bool(errors)}
    return render(request, "web/settings/catalog/categories.html", context, status=status)


@web_view(methods=("GET", "POST"))
def settings_categories(request: AgentRequest) -> HttpResponse:
    """The organization's wording of the fixed ticket categories, in English and Chinese."""
    check_perm(request.user, Permission.ADMINISTER)
    if request.method == "GET":
        return _categories_page(request)
    labels = {
        category: {
            "label_en": request.POST.get(f"labels.{category}.label_en", ""),
            "label_zh_hans": request.POST.get(f"labels.{category}.label_zh_hans", ""),
        }
        for category in TicketCategory.values
    }
    try:
        category_labels_set(user=request.user, labels=labels)
    except DomainError as exc:
        _page_error(exc)
        return _categories_page(request, status=exc.status_code, errors={exc.field or "": exc.message}, typed=labels)
    messages.success(request, _("Category labels saved."))
    return redirect("web:settings_categories")


# --- reply templates --------------------------------------------------------------------------


NEW_TEMPLATE = {
    "name": "",
    "source_language": "en",
    "category": "",
    "is_auto_reply": False,
    "bodies": {},
    "new_language": "",
    "new_body": "",
    "set_status": "",
    "add_tags": "",
    "assign": "",
}


def _assign_value(template: Any) -> str:
    """The assignment select's value: "", "self", "none" or "user:<id>"."""
    if template.assign_to == "user":
        return f"user:{template.assign_user_id}" if template.assign_user_id else ""
    return str(template.assign_to or "")


def _macro_of(values: dict[str, Any]) -> Macro:
    """The macro part of the template form: a status, comma-separated tags, the assignment."""
    assign = str(values["assign"]).strip()
    user_id = assign.removeprefix("user:") if assign.startswith("user:") else ""
    return Macro(
        set_status=str(values["set_status"]).strip(),
        add_tags=tuple(t for t in (part.strip() for part in str(values["add_tags"]).split(",")) if t),
        assign_to="user" if assign.startswith("user:") else assign,
        assign_user_id=int(user_id) if user_id.isdigit() and len(user_id) < 19 else None,
    )


def _template_row(template: Any) -> dict[str, Any]:
    variants = sorted(template.variants.all(), key=lambda v: (v.language != template.source_language, v.language))
    return {
        "template": template,
        "variants": variants,
        "values": {
            "name": template.name,
            "source_language": template.source_language,
            "category": template.category,
            "is_auto_reply": template.is_auto_reply,
            "bodies": {v.language: v.body for v in variants},
            "new_language": "",
            "new_body": "",
            "set_status": template.set_status,
            "add_tags": ", ".join(template.add_tags or ()),
            "assign": _assign_value(template),
        },
        "errors": {},
        "open": False,
        "key": str(template.pk),
    }


def _templates_page(
    request: AgentRequest,
    *,
    status: int = 200,
    form_for: int | str | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    previews: dict[str, dict[str, Any]] | None = None,
) -> HttpResponse:
    """The page; the form that failed (`form_for`: a template id or "new") shows what was typed
    and the error next to its field; `previews` by "<template id|new>-<language|new>"."""
    check_perm(request.user, Permission.ADMINISTER)
    previews = previews or {}
    category_names = category_labels(request.user.organization_id or 0, translation.get_language() or "en")
    rows = [_template_row(t) for t in reply_templates(organization_id=request.user.organization_id or 0)]
    for row in rows:
        if form_for == row["template"].pk:
            row.update(values={**row["values"], **(values or {})}, errors=errors or {}, open=True)
        if any(key.startswith(row["key"] + "-") for key in previews):
            row["open"] = True
    context = {
        "settings_section": "templates",
        "rows": rows,
        "new_form": {
            "values": {**NEW_TEMPLATE, **(values or {})} if form_for == "new" else NEW_TEMPLATE,
            "errors": errors if form_for == "new" else {},
            "key": "new",
        },
        "languages": sorted(SUPPORTED),
        "rtl_languages": RTL_LANGUAGES,
        "categories": list(category_names.items()),
        "category_names": category_names,
        "statuses": list(TicketStatus.choices),
        "assignees": [(f"user:{u.pk}", str(u)) for u in users_of_organization(request.user, can_process=True)],
        "variables": sorted(VARIABLE_PATHS - set(VARIABLE_GROUPS)),
        "max_rendered": MAX_RENDERED,
        "condition_example": "{% if tracking.link %}…{% endif %}",
        "body_example": _("Hello {{ customer.first_name }}, your order {{ order.number }} has shipped."),
        "previews": previews,
    }
    return render(request, "web/settings/catalog/templates.html", context, status=status)


def _template_values(post: QueryDict, *, new_language_default: str = "") -> dict[str, Any]:
    """The template form: name, source language, category, auto-reply, the variants
    (`body_<language>`) and a new variant (`new_language`, `new_body`)."""
    bodies = {key.removeprefix("body_"): value for key, value in post.items() if key.startswith("body_")}
    new_language = post.get("new_language", "").strip() or new_language_default
    new_body = post.get("new_body", "")
    if new_language and new_body.strip():
        bodies[new_language] = new_body
    return {
        "name": post.get("name", ""),
        "source_language": post.get("source_language", ""),
        "category": post.get("category", ""),
        "is_auto_reply": post.get("is_auto_reply") == "on",
        "bodies": bodies,
        "new_language": new_language,
        "new_body": new_body,
        "set_status": post.get("set_status", ""),
        "add_tags": post.get("add_tags", ""),
        "assign": post.get("assign", ""),
    }


def _template_error(exc: DomainError) -> dict[str, str]:
    """bodies[de] -> the field of the German variant (body_de)."""
    field = exc.field or "name"
    if field.startswith("bodies[") and field.endswith("]"):
        field = "body_" + field[len("bodies[") : -1]
    if field.startswith("add_tags"):
        field = "add_tags"
    if field in ("assign_to", "assign_user_id"):
        field = "assign"
    return {field: exc.message}


@web_view(methods=("GET", "POST"))
def settings_templates(request: AgentRequest) -> HttpResponse:
    """The reply templates with their variants per language, and (POST) adding one."""
    if request.method == "GET":
        return _templates_page(request)
    values = _template_values(request.POST, new_language_default=request.POST.get("source_language", "").strip())
    try:
        if not values["new_body"].strip():
            raise ValidationFailed(_("the template text must not be empty"), field="new_body")
        template = reply_template_save(
            user=request.user,
            name=values["name"],
            source_language=values["source_language"],
            bodies=values["bodies"],
            category=values["category"],
            is_auto_reply=values["is_auto_reply"],
            macro=_macro_of(values),
        )
    except DomainError as exc:
        _page_error(exc)
        return _templates_page(
            request, status=exc.status_code, errors=_template_error(exc), form_for="new", values=values
        )
    messages.success(request, _("Template “%(name)s” saved.") % {"name": template.name})
    return redirect(reverse("web:settings_templates") + f"#template-{template.pk}")


@web_view(methods=("POST",))
def settings_template(request: AgentRequest, template_id: int) -> HttpResponse:
    """Change a template; an emptied variant is removed, a machine-translated one ticked
    "reviewed" (and left as it is) loses its review flag."""
    values = _template_values(request.POST)
    try:
        template = reply_template_update(
            user=request.user,
            template_id=template_id,
            name=values["name"],
            source_language=values["source_language"],
            category=values["category"],
            is_auto_reply=values["is_auto_reply"],
            bodies=values["bodies"],
            approve=request.POST.getlist("approve"),
            macro=_macro_of(values),
        )
    except DomainError as exc:
        _page_error(exc)
        return _templates_page(
            request, status=exc.status_code, errors=_template_error(exc), form_for=template_id, values=values
        )
    messages.success(request, _("Template “%(name)s” saved.") % {"name": template.name})
    return redirect(reverse("web:settings_templates") + f"#template-{template.pk}")


@web_view(methods=("POST",))
def settings_template_delete(request: AgentRequest, template_id: int) -> HttpResponse:
    reply_template_delete(user=request.user, template_id=template_id)  # 404 for another organization's
    messages.success(request, _("Template deleted."))
    return redirect("web:settings_templates")


@web_view(methods=("POST",))
def settings_template_preview(request: AgentRequest) -> HttpResponse:
    """One variant filled in with sample data (`preview` = its language; its text is in
    `body_<language>`, or `new_body` for a new one). Nothing is stored."""
    check_perm(request.user, Permission.ADMINISTER)
    language = request.POST.get("preview", "").strip()[:20]
    key = f"body_{language}"
    if language == "new" or key not in request.POST:
        key = "new_body"
        language = (request.POST.get("new_language") or request.POST.get("source_language") or "").strip()[:20]
    target = f"{request.POST.get('template_key', '').strip()[:20]}-{request.POST.get('preview', '')[:20]}"
    try:
        preview = reply_template_preview(user=request.user, body=request.POST.get(key, ""), language=language)
        # an Arabic variant reads right to left (dir="rtl" on the preview)
        result: dict[str, Any] = {"text": preview.text, "error": "", "language": preview.language}
        result["rtl"] = is_rtl(preview.language)
        status = 200
    except DomainError as exc:
        _page_error(exc)
        result, status = {"text": "", "error": exc.message}, exc.status_code
    if request.htmx:
        return render(request, "web/settings/catalog/_preview.html", {"preview": result}, status=status)
    return _templates_page(request, status=status, previews={target: result})
