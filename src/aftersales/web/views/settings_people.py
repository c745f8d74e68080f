"""Settings for administrators: the organization's users, teams and roles (issue 7, finding 1: what
was done in the unscoped Django admin is done here, inside the admin's own organization).

Each view parses the form, calls one service or selector of accounts.people, and renders. The
services check the ADMINISTER permission (403) and look ids up in the admin's organization only (404
for another organization's). Their errors are shown next to the field they name. A set-password
link is shown once, in the response that created it. The set-password page itself needs no sign-in:
the link is the proof."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from aftersales.accounts import people
from aftersales.accounts.models import Permission, RoutingStrategy, UserLanguage
from aftersales.catalog.models import Platform, ProductCategory
from aftersales.catalog.selectors import stores_of_organization
from aftersales.core.errors import DomainError, NotFound, ValidationFailed
from aftersales.inbox.workflow import TicketCategory
from aftersales.language.languages import SUPPORTED as SUPPORTED_LANGUAGES

from ..access import AgentRequest, web_view

SKILL_FIELDS = ("skill_languages", "skill_platforms", "skill_categories")
USER_FIELDS = ("username", "email", "display_name", "role_id", "team_ids", "language", "is_active", *SKILL_FIELDS)
TEAM_FIELDS = (
    "name",
    "store_ids",
    "platforms",
    "languages",
    "sku_categories",
    "member_ids",
    "lead_ids",
    "routing_strategy",
)
ROLE_FIELDS = ("name", "permissions", "approval_limit_amount", "approval_limit_currency")


# --- parsing --------------------------------------------------------------------------------------


def _ids(request: HttpRequest, name: str) -> list[int]:
    out = []
    for raw in request.POST.getlist(name):
        if not raw.isdigit() or len(raw) > 18:
            raise ValidationFailed(_("Invalid choice."), field=name)
        out.append(int(raw))
    return out


def _id_or_none(request: HttpRequest, name: str) -> int | None:
    raw = request.POST.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise ValidationFailed(_("Invalid choice."), field=name)
    return int(raw)


def _checkbox(request: HttpRequest, name: str) -> bool:
    """A checkbox after a hidden "0" of the same name: the last value wins."""
    values = request.POST.getlist(name)
    return bool(values) and values[-1] in {"1", "on", "true"}


def _errors(exc: DomainError, fields: tuple[str, ...]) -> dict[str, str]:
    """Errors by field; anything not about a field of this form goes to "form" (shown on top)."""
    return {exc.field if exc.field in fields else "form": exc.message}


def _form_values(request: HttpRequest, multi: tuple[str, ...]) -> dict[str, Any]:
    """The posted values, to show the form again as it was sent."""
    values: dict[str, Any] = {key: request.POST.get(key, "") for key in request.POST if key not in multi}
    for key in multi:
        values[key] = request.POST.getlist(key)
    return values


def _scope_choices(request: AgentRequest) -> dict[str, Any]:
    return {
        "stores": list(stores_of_organization(request.user).only("id", "name", "platform")),  # no secrets
        "platform_choices": Platform.choices,
        "language_choices": sorted(SUPPORTED_LANGUAGES),
        "category_choices": ProductCategory.choices,
        "routing_strategies": RoutingStrategy.choices,
    }


# --- users ----------------------------------------------------------------------------------------


def _users_context(request: AgentRequest, **extra: Any) -> dict[str, Any]:
    actor = request.user
    return {
        "settings_section": "users",
        "users": list(people.people_users(actor)),
        "roles": list(people.people_roles(actor)),
        "teams": list(people.people_teams(actor)),
        "user_languages": UserLanguage.choices,
        "form": {"language": UserLanguage.EN, "team_ids": []},
        "errors": {},
        **extra,
    }


@web_view()
def users_page(request: AgentRequest) -> HttpResponse:
    return render(request, "web/settings/people/users.html", _users_context(request))


@web_view(methods=("POST",))
def user_invite_view(request: AgentRequest) -> HttpResponse:
    people.check_people_admin(request.user)
    try:
        link = people.user_invite(
            actor=request.user,
            username=request.POST.get("username", ""),
            email=request.POST.get("email", ""),
            display_name=request.POST.get("display_name", ""),
            role_id=_id_or_none(request, "role_id"),
            team_ids=_ids(request, "team_ids"),
            language=request.POST.get("language", UserLanguage.EN),
        )
    except DomainError as exc:
        context = _users_context(request, form=_form_values(request, ("team_ids",)), errors=_errors(exc, USER_FIELDS))
        return render(request, "web/settings/people/users.html", context, status=exc.status_code)
    return render(request, "web/settings/people/users.html", _users_context(request, link=link))


def _user_context(request: AgentRequest, user_id: int, **extra: Any) -> dict[str, Any]:
    actor = request.user
    user = people.people_user(actor, user_id=user_id)
    form = {
        "display_name": user.display_name,
        "email": user.email,
        "role_id": str(user.role_id or ""),
        "team_ids": [str(t.pk) for t in user.teams.all()],
        "language": user.language,
        "is_active": user.is_active,
        **{name: list(getattr(user, name) or []) for name in SKILL_FIELDS},
    }
    return {
        "settings_section": "users",
        "member": user,
        "roles": list(people.people_roles(actor)),
        "teams": list(people.people_teams(actor)),
        "user_languages": UserLanguage.choices,
        "language_choices": sorted(SUPPORTED_LANGUAGES),
        "platform_choices": Platform.choices,
        "ticket_category_choices": TicketCategory.choices,
        "form": form,
        "errors": {},
        **extra,
    }


@web_view(methods=("GET", "POST"))
def user_page(request: AgentRequest, user_id: int) -> HttpResponse:
    if request.method == "GET":
        return render(request, "web/settings/people/user.html", _user_context(request, user_id))
    people.check_people_admin(request.user)
    try:
        user = people.user_update(
            actor=request.user,
            user_id=user_id,
            display_name=request.POST.get("display_name", ""),
            email=request.POST.get("email", ""),
            role_id=_id_or_none(request, "role_id"),
            team_ids=_ids(request, "team_ids"),
            language=request.POST.get("language", UserLanguage.EN),
            is_active=_checkbox(request, "is_active"),
            **{name: request.POST.getlist(name) for name in SKILL_FIELDS},
        )
    except DomainError as exc:
        if isinstance(exc, NotFound) and exc.field == "user_id":
            raise
        form = _form_values(request, ("team_ids", *SKILL_FIELDS)) | {"is_active": _checkbox(request, "is_active")}
        context = _user_context(request, user_id, form=form, errors=_errors(exc, USER_FIELDS))
        return render(request, "web/settings/people/user.html", context, status=exc.status_code)
    messages.success(request, _("%(user)s saved.") % {"user": user})
    return redirect("web:settings_users")


@web_view(methods=("POST",))
def user_password_reset_view(request: AgentRequest, user_id: int) -> HttpResponse:
    """A new set-password link for the user, shown in this response only (and e-mailed to them)."""
    people.check_people_admin(request.user)
    try:
        link = people.user_password_reset(actor=request.user, user_id=user_id)
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        context = _user_context(request, user_id, errors={"form": exc.message})
        return render(request, "web/settings/people/user.html", context, status=exc.status_code)
    return render(request, "web/settings/people/user.html", _user_context(request, user_id, link=link))


# --- teams ----------------------------------------------------------------------------------------


def _labelled(teams: list[Any]) -> list[Any]:
    """Each team with its platforms and SKU categories as labels in the UI language."""
    platforms, categories = dict(Platform.choices), dict(ProductCategory.choices)
    for team in teams:
        team.platform_labels = [str(platforms.get(p, p)) for p in team.platforms or []]
        team.category_labels = [str(categories.get(c, c)) for c in team.sku_categories or []]
    return teams


def _teams_context(request: AgentRequest, **extra: Any) -> dict[str, Any]:
    actor = request.user
    return {
        "settings_section": "teams",
        "teams": _labelled(list(people.people_teams(actor))),
        "users": [u for u in people.people_users(actor) if u.is_active],
        **_scope_choices(request),
        "form": {key: [] for key in TEAM_FIELDS if key != "name"},
        "errors": {},
        **extra,
    }


def _team_args(request: HttpRequest) -> dict[str, Any]:
    return {
        "name": request.POST.get("name", ""),
        "store_ids": _ids(request, "store_ids"),
        "platforms": request.POST.getlist("platforms"),
        "languages": request.POST.getlist("languages"),
        "sku_categories": request.POST.getlist("sku_categories"),
        "member_ids": _ids(request, "member_ids"),
        "lead_ids": _ids(request, "lead_ids"),
        "routing_strategy": request.POST.get("routing_strategy") or None,
    }


TEAM_MULTI = ("store_ids", "platforms", "languages", "sku_categories", "member_ids", "lead_ids")


@web_view()
def teams_page(request: AgentRequest) -> HttpResponse:
    return render(request, "web/settings/people/teams.html", _teams_context(request))


@web_view(methods=("POST",))
def team_create_view(request: AgentRequest) -> HttpResponse:
    people.check_people_admin(request.user)
    try:
        team = people.team_create(actor=request.user, **_team_args(request))
    except DomainError as exc:
        context = _teams_context(request, form=_form_values(request, TEAM_MULTI), errors=_errors(exc, TEAM_FIELDS))
        return render(request, "web/settings/people/teams.html", context, status=exc.status_code)
    messages.success(request, _("Team “%(team)s” created.") % {"team": team.name})
    return redirect("web:settings_teams")


def _team_context(request: AgentRequest, team_id: int, **extra: Any) -> dict[str, Any]:
    actor = request.user
    team = people.people_team(actor, team_id=team_id)
    form = {
        "name": team.name,
        "store_ids": [str(s.pk) for s in team.stores.all()],
        "platforms": list(team.platforms or []),
        "languages": list(team.languages or []),
        "sku_categories": list(team.sku_categories or []),
        "member_ids": [str(u.pk) for u in team.members.all()],
        "lead_ids": [str(m.user_id) for m in team.memberships.all() if m.is_lead],
        "routing_strategy": team.routing_strategy,
    }
    return {
        "settings_section": "teams",
        "team": team,
        "users": [u for u in people.people_users(actor) if u.is_active],
        **_scope_choices(request),
        "form": form,
        "errors": {},
        **extra,
    }


@web_view(methods=("GET", "POST"))
def team_page(request: AgentRequest, team_id: int) -> HttpResponse:
    if request.method == "GET":
        return render(request, "web/settings/people/team.html", _team_context(request, team_id))
    people.check_people_admin(request.user)
    try:
        team = people.team_update(actor=request.user, team_id=team_id, **_team_args(request))
    except DomainError as exc:
        if isinstance(exc, NotFound) and exc.field == "team_id":
            raise
        context = _team_context(
            request, team_id, form=_form_values(request, TEAM_MULTI), errors=_errors(exc, TEAM_FIELDS)
        )
        return render(request, "web/settings/people/team.html", context, status=exc.status_code)
    messages.success(request, _("Team “%(team)s” saved.") % {"team": team.name})
    return redirect("web:settings_teams")


@web_view(methods=("POST",))
def team_delete_view(request: AgentRequest, team_id: int) -> HttpResponse:
    people.team_delete(actor=request.user, team_id=team_id)
    messages.success(request, _("Team deleted."))
    return redirect("web:settings_teams")


# --- roles ----------------------------------------------------------------------------------------


def _roles_context(request: AgentRequest, **extra: Any) -> dict[str, Any]:
    actor = request.user
    return {
        "settings_section": "roles",
        "roles": list(people.people_roles(actor)),
        "permission_choices": Permission.choices,
        "form": {
            "permissions": [Permission.VIEW.value],
            "approval_limit_amount": "0.00",
            "approval_limit_currency": getattr(actor.organization, "default_currency", "USD"),
        },
        "errors": {},
        **extra,
    }


def _role_args(request: HttpRequest) -> dict[str, Any]:
    return {
        "name": request.POST.get("name", ""),
        "permissions": request.POST.getlist("permissions"),
        "approval_limit_amount": request.POST.get("approval_limit_amount", "").strip() or "0",
        "approval_limit_currency": request.POST.get("approval_limit_currency", "").strip() or None,
    }


@web_view()
def roles_page(request: AgentRequest) -> HttpResponse:
    return render(request, "web/settings/people/roles.html", _roles_context(request))


@web_view(methods=("POST",))
def role_create_view(request: AgentRequest) -> HttpResponse:
    people.check_people_admin(request.user)
    try:
        role = people.role_create(actor=request.user, **_role_args(request))
    except DomainError as exc:
        context = _roles_context(
            request, form=_form_values(request, ("permissions",)), errors=_errors(exc, ROLE_FIELDS)
        )
        return render(request, "web/settings/people/roles.html", context, status=exc.status_code)
    messages.success(request, _("Role “%(role)s” created.") % {"role": role.name})
    return redirect("web:settings_roles")


def _role_context(request: AgentRequest, role_id: int, **extra: Any) -> dict[str, Any]:
    role = people.people_role(request.user, role_id=role_id)
    form = {
        "name": role.name,
        "permissions": list(role.permissions or []),
        "approval_limit_amount": str(role.approval_limit_amount),
        "approval_limit_currency": role.approval_limit_currency,
    }
    return {
        "settings_section": "roles",
        "role": role,
        "permission_choices": Permission.choices,
        "form": form,
        "errors": {},
        **extra,
    }


@web_view(methods=("GET", "POST"))
def role_page(request: AgentRequest, role_id: int) -> HttpResponse:
    if request.method == "GET":
        return render(request, "web/settings/people/role.html", _role_context(request, role_id))
    people.check_people_admin(request.user)
    try:
        role = people.role_update(actor=request.user, role_id=role_id, **_role_args(request))
    except DomainError as exc:
        if isinstance(exc, NotFound) and exc.field == "role_id":
            raise
        context = _role_context(
            request, role_id, form=_form_values(request, ("permissions",)), errors=_errors(exc, ROLE_FIELDS)
        )
        return render(request, "web/settings/people/role.html", context, status=exc.status_code)
    messages.success(request, _("Role “%(role)s” saved.") % {"role": role.name})
    return redirect("web:settings_roles")


@web_view(methods=("POST",))
def role_delete_view(request: AgentRequest, role_id: int) -> HttpResponse:
    people.check_people_admin(request.user)
    try:
        people.role_delete(actor=request.user, role_id=role_id)
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        context = _role_context(request, role_id, errors={"form": exc.message})
        return render(request, "web/settings/people/role.html", context, status=exc.status_code)
    messages.success(request, _("Role deleted."))
    return redirect("web:settings_roles")


# --- the set-password page (no sign-in: the link is the proof) ------------------------------------


@sensitive_post_parameters("password", "password_confirm")
@never_cache
@require_http_methods(["GET", "POST"])
def password_set_view(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """Choose a password through a link from an invitation or an admin's reset; then sign in."""
    user = people.password_link_user(uidb64=uidb64, token=token)
    context: dict[str, Any] = {"link_user": user, "errors": {}}
    if user is None:
        return render(request, "web/settings/people/password_set.html", context)
    if request.method == "POST":
        try:
            people.user_password_set(
                uidb64=uidb64,
                token=token,
                password=request.POST.get("password", ""),
                password_confirm=request.POST.get("password_confirm", ""),
            )
        except DomainError as exc:
            context["errors"] = {exc.field or "password": exc.message}
            return render(request, "web/settings/people/password_set.html", context, status=exc.status_code)
        messages.success(request, _("Your password is set. Sign in with it now."))
        return redirect("web:login")
    return render(request, "web/settings/people/password_set.html", context)
