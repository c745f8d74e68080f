"""Administering an organization's people: users (invitations, role, teams, deactivation, password
links), teams with their scopes and members, and roles with their permissions and approval limits.

Everything here was done in the Django admin before issue 7 (finding 1): now an organization's admin
does it in the agent UI and the API, always inside their own organization. Every write:
- takes the acting admin as `actor`, keyword-only arguments, and runs in one transaction;
- checks the actor may ADMINISTER (`check_people_admin`: 403 otherwise), then looks objects up in
  the actor's organization only: another organization's ids answer NotFound (404), never 403;
- locks the organization row (`select_for_update`) before changing who is an administrator, so two
  admins demoting each other at once cannot leave the organization without one.

Reads (`people_*`) live here too, beside the writes they serve; they check the same permission.

Set-password links are Django's password-reset tokens (`default_token_generator` + the user id in
base64): no table; valid until used (the token hashes the password), until the user signs in
(it hashes the last sign-in too) or for PASSWORD_RESET_TIMEOUT."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Count, Prefetch, QuerySet
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _

from aftersales.catalog.models import Platform, ProductCategory, Store
from aftersales.core.errors import Conflict, NotFound, ValidationFailed
from aftersales.core.money import validate_currency
from aftersales.language.languages import SUPPORTED as SUPPORTED_LANGUAGES

from .audit import setting_audit
from .models import Membership, Organization, Permission, Role, RoleKind, RoutingStrategy, Team, User, UserLanguage
from .permissions import check_perm

MAX_APPROVAL_LIMIT = Decimal("1000000000")  # 10^9 in the role's currency
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
MAX_SCOPE_VALUES = 100
# What the settings audit (accounts.audit) records of a user, a team and a role.
USER_AUDIT_FIELDS = (
    "display_name",
    "email",
    "role",
    "language",
    "is_active",
    "skill_languages",
    "skill_platforms",
    "skill_categories",
)
TEAM_AUDIT_FIELDS = ("name", "platforms", "languages", "sku_categories", "routing_strategy")
ROLE_AUDIT_FIELDS = ("name", "kind", "permissions", "approval_limit_amount", "approval_limit_currency")


@dataclass(frozen=True)
class SetPasswordLink:
    """A one-time link for `user` to choose a password: shown once to the admin who asked for it
    (and e-mailed to the user when they have an address)."""

    user: User
    url: str
    emailed: bool


# --- checks ---------------------------------------------------------------------------------------


def check_people_admin(actor: Any) -> None:
    """The actor may administer their organization's people (PermissionDenied, 403, otherwise)."""
    check_perm(actor, Permission.ADMINISTER)


def _clean_text(value: str, *, field: str, max_length: int, required: bool) -> str:
    clean = " ".join(str(value or "").split())
    if required and not clean:
        raise ValidationFailed(_("This field is required."), field=field)
    if len(clean) > max_length:
        raise ValidationFailed(
            _("At most %(max)d characters (this has %(count)d).") % {"max": max_length, "count": len(clean)},
            field=field,
        )
    return clean


def _clean_email(value: str) -> str:
    email = str(value or "").strip()
    if not email:
        return ""
    if len(email) > 254:
        raise ValidationFailed(_("Enter a valid e-mail address."), field="email")
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationFailed(_("Enter a valid e-mail address."), field="email") from None
    return email


def _clean_username(value: str) -> str:
    username = str(value or "").strip()
    if not username:
        raise ValidationFailed(_("This field is required."), field="username")
    if len(username) > 150:
        raise ValidationFailed(_("At most 150 characters."), field="username")
    try:
        User.username_validator(username)
    except ValidationError:
        raise ValidationFailed(
            _("Use letters, digits and @ . + - _ only (no spaces)."),
            field="username",
        ) from None
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(_("This username is taken; choose another."), field="username")
    return username


def _clean_language(value: str) -> str:
    if value not in UserLanguage.values:
        raise ValidationFailed(
            _("Unknown language %(value)s; expected one of %(expected)s.")
            % {"value": repr(str(value)[:20]), "expected": ", ".join(UserLanguage.values)},
            field="language",
        )
    return value


def _org_role(actor: Any, role_id: int | None, *, field: str = "role_id") -> Role:
    role = Role.objects.filter(pk=role_id, organization_id=actor.organization_id).first() if role_id else None
    if role is None:
        if role_id is None:
            raise ValidationFailed(_("Choose a role."), field=field)
        raise NotFound(_("role not found"), field=field)
    return role


def _org_teams(actor: Any, team_ids: Iterable[int]) -> list[Team]:
    ids = sorted(set(team_ids))
    teams = list(Team.objects.filter(pk__in=ids, organization_id=actor.organization_id))
    if len(teams) != len(ids):
        raise NotFound(_("team not found"), field="team_ids")
    return teams


def _org_users(actor: Any, user_ids: Iterable[int]) -> list[User]:
    ids = sorted(set(user_ids))
    users = list(User.objects.filter(pk__in=ids, organization_id=actor.organization_id))
    if len(users) != len(ids):
        raise NotFound(_("user not found"), field="member_ids")
    return users


def _org_user(actor: Any, user_id: int) -> User:
    user = User.objects.select_related("role").filter(pk=user_id, organization_id=actor.organization_id).first()
    if user is None:
        raise NotFound(_("user not found"), field="user_id")
    return user


def _lock_organization(actor: Any) -> Organization:
    """Serialise the writes that change who administers the organization; re-check the actor,
    who may have lost the right meanwhile."""
    org = Organization.objects.select_for_update().get(pk=actor.organization_id)
    fresh = User.objects.select_related("role").get(pk=actor.pk)
    check_people_admin(fresh)
    return org


def _is_admin_role(role: Role | None) -> bool:
    return role is not None and Permission.ADMINISTER in (role.permissions or [])


def _active_admin_ids(org_id: int) -> set[int]:
    admin_roles = [r.pk for r in Role.objects.filter(organization_id=org_id) if _is_admin_role(r)]
    return set(
        User.objects.filter(organization_id=org_id, is_active=True, role_id__in=admin_roles).values_list(
            "pk", flat=True
        )
    )


# --- reads (selectors) ----------------------------------------------------------------------------


def people_users(actor: Any) -> QuerySet[User]:
    """Every user of the actor's organization, active first, with role and teams (admins only)."""
    check_people_admin(actor)
    return (
        User.objects.filter(organization_id=actor.organization_id)
        .select_related("role")
        .prefetch_related(Prefetch("teams", queryset=Team.objects.order_by("name")))
        .order_by("-is_active", "username")
    )


def people_user(actor: Any, *, user_id: int) -> User:
    user = people_users(actor).filter(pk=user_id).first()
    if user is None:
        raise NotFound(_("user not found"), field="user_id")
    return user


def people_teams(actor: Any) -> QuerySet[Team]:
    """The organization's teams with their scopes and members (admins only)."""
    check_people_admin(actor)
    return (
        Team.objects.filter(organization_id=actor.organization_id)
        .prefetch_related(
            # no credentials: they are decrypted when loaded, and nothing here needs them
            Prefetch("stores", queryset=Store.objects.only("id", "name", "platform").order_by("platform", "name")),
            Prefetch("members", queryset=User.objects.order_by("username")),
            "memberships",
        )
        .order_by("name")
    )


def people_team(actor: Any, *, team_id: int) -> Team:
    team = people_teams(actor).filter(pk=team_id).first()
    if team is None:
        raise NotFound(_("team not found"), field="team_id")
    return team


def people_roles(actor: Any) -> QuerySet[Role]:
    """The organization's roles, each with `user_count`: its users, active or not (admins only)."""
    check_people_admin(actor)
    return (
        Role.objects.filter(organization_id=actor.organization_id).annotate(user_count=Count("users")).order_by("name")
    )


def people_role(actor: Any, *, role_id: int) -> Role:
    role = people_roles(actor).filter(pk=role_id).first()
    if role is None:
        raise NotFound(_("role not found"), field="role_id")
    return role


# --- set-password links ---------------------------------------------------------------------------


def _set_password_link(user: User, *, send: bool, reason: str) -> SetPasswordLink:
    """Build the user's link and, after commit, e-mail it to them in their language."""
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    url = settings.SITE_URL.rstrip("/") + reverse("web:password_set", kwargs={"uidb64": uidb64, "token": token})
    emailed = bool(send and user.email)
    if emailed:
        transaction.on_commit(lambda: _email_link(user, url, reason), robust=True)
    return SetPasswordLink(user=user, url=url, emailed=emailed)


def _email_link(user: User, url: str, reason: str) -> None:
    with translation.override(user.language or UserLanguage.EN):
        org = user.organization.name if user.organization else "aftersales"
        if reason == "invite":
            subject = _("You are invited to %(organization)s on aftersales") % {"organization": org}
            intro = _("An administrator of %(organization)s created an account for you (username: %(username)s).")
        else:
            subject = _("Set a new aftersales password")
            intro = _("An administrator of %(organization)s asked for a new password for you (username: %(username)s).")
        body = "\n\n".join(
            [
                intro % {"organization": org, "username": user.username},
                _("Choose your password here (the link works once, for %(days)d days):")
                % {"days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)},
                url,
                _("Then sign in with your username and the new password."),
            ]
        )
    send_mail(subject, body + "\n", settings.DEFAULT_FROM_EMAIL, [user.email], fail_silently=False)


def password_link_user(*, uidb64: str, token: str) -> User | None:
    """The active user a set-password link is for, or None if it is invalid, used or expired."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
        return None
    user = User.objects.filter(pk=pk, is_active=True, organization__isnull=False).first()
    if user is None or not default_token_generator.check_token(user, token):
        return None
    return user


def user_password_set(*, uidb64: str, token: str, password: str, password_confirm: str) -> User:
    """Set a password through a set-password link (no sign-in needed: the link is the proof).
    The link stops working at once, since the token hashes the password. Locks the user row."""
    with transaction.atomic():
        user = password_link_user(uidb64=uidb64, token=token)
        if user is None:
            raise NotFound(
                _("This link is invalid, used or expired. Ask your administrator for a new one."), field="token"
            )
        user = User.objects.select_for_update().get(pk=user.pk)
        if not default_token_generator.check_token(user, token):  # used meanwhile
            raise NotFound(
                _("This link is invalid, used or expired. Ask your administrator for a new one."), field="token"
            )
        if not password:
            raise ValidationFailed(_("This field is required."), field="password")
        if password != password_confirm:
            raise ValidationFailed(_("The two passwords differ."), field="password_confirm")
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationFailed(" ".join(exc.messages), field="password") from None
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


# --- users ----------------------------------------------------------------------------------------


def user_invite(
    *,
    actor: Any,
    username: str,
    email: str = "",
    display_name: str = "",
    role_id: int | None,
    team_ids: Iterable[int] = (),
    language: str = UserLanguage.EN,
) -> SetPasswordLink:
    """Create a user of the actor's organization with no usable password, and return their one-time
    set-password link (e-mailed to them after commit when they have an address)."""
    check_people_admin(actor)
    clean_username = _clean_username(username)
    clean_email = _clean_email(email)
    clean_name = _clean_text(display_name, field="display_name", max_length=120, required=False)
    clean_language = _clean_language(language)
    role = _org_role(actor, role_id)
    teams = _org_teams(actor, team_ids)
    try:
        with transaction.atomic():
            user = User(
                username=clean_username,
                email=clean_email,
                display_name=clean_name,
                organization_id=actor.organization_id,
                role=role,
                language=clean_language,
                is_staff=False,
                is_superuser=False,
            )
            user.set_unusable_password()
            user.save()
            Membership.objects.bulk_create([Membership(team=t, user=user) for t in teams])
            setting_audit(
                user,
                USER_AUDIT_FIELDS,
                actor=actor,
                setting=f"user.{user.username}",
                created=True,
                related={"teams": (None, sorted(t.pk for t in teams))},
            )
            return _set_password_link(user, send=True, reason="invite")
    except IntegrityError:
        raise Conflict(_("This username is taken; choose another."), field="username") from None


def user_update(
    *,
    actor: Any,
    user_id: int,
    display_name: str | None = None,
    email: str | None = None,
    role_id: int | None = None,
    team_ids: Iterable[int] | None = None,
    language: str | None = None,
    is_active: bool | None = None,
    skill_languages: Iterable[str] | None = None,
    skill_platforms: Iterable[str] | None = None,
    skill_categories: Iterable[str] | None = None,
) -> User:
    """Change a user of the actor's organization; None leaves a field as it is. Never takes the
    actor's own administrator rights or account away, nor the organization's last active
    administrator. The skills (customer languages, platforms, ticket categories; empty: any) are
    what routing by skill matches. Locks the organization row."""
    check_people_admin(actor)
    user = _org_user(actor, user_id)
    fields: list[str] = []
    for name, value in _clean_skills(
        languages=skill_languages, platforms=skill_platforms, categories=skill_categories
    ).items():
        setattr(user, name, value)
        fields.append(name)
    if display_name is not None:
        user.display_name = _clean_text(display_name, field="display_name", max_length=120, required=False)
        fields.append("display_name")
    if email is not None:
        user.email = _clean_email(email)
        fields.append("email")
    if language is not None:
        user.language = _clean_language(language)
        fields.append("language")
    if role_id is not None:
        user.role = _org_role(actor, role_id)
        fields.append("role")
    if is_active is not None:
        if not is_active and user.pk == actor.pk:
            raise Conflict(_("You cannot deactivate your own account."), field="is_active")
        user.is_active = bool(is_active)
        fields.append("is_active")
    teams = _org_teams(actor, team_ids) if team_ids is not None else None
    with transaction.atomic():
        org = _lock_organization(actor)
        if user.pk == actor.pk and not _is_admin_role(user.role):
            raise Conflict(_("You cannot remove your own administrator rights."), field="role_id")
        losing_admin = not user.is_active or not _is_admin_role(user.role)
        if losing_admin and _active_admin_ids(org.pk) == {user.pk}:
            field = "is_active" if not user.is_active else "role_id"
            raise Conflict(_("The organization must keep at least one active administrator."), field=field)
        setting_audit(
            user,
            fields,
            actor=actor,
            setting=f"user.{user.username}",
            related=None
            if teams is None
            else {
                "teams": (
                    sorted(Membership.objects.filter(user=user).values_list("team_id", flat=True)),
                    sorted(t.pk for t in teams),
                )
            },
        )
        if fields:
            user.save(update_fields=fields)
        if teams is not None:
            Membership.objects.filter(user=user).exclude(team__in=teams).delete()
            have = set(Membership.objects.filter(user=user).values_list("team_id", flat=True))
            Membership.objects.bulk_create([Membership(team=t, user=user) for t in teams if t.pk not in have])
    return user


def user_deactivate(*, actor: Any, user_id: int) -> User:
    """Deactivate a user: they can no longer sign in, and their API tokens stop working."""
    return user_update(actor=actor, user_id=user_id, is_active=False)


def user_password_reset(*, actor: Any, user_id: int) -> SetPasswordLink:
    """A new set-password link for a user of the actor's organization, shown once to the admin and
    e-mailed to the user (after commit) when they have an address. The current password keeps
    working until the user chooses a new one (signing in with it voids the link)."""
    check_people_admin(actor)
    user = _org_user(actor, user_id)
    if not user.is_active:
        raise Conflict(_("This user is deactivated; reactivate them first."), field="user_id")
    with transaction.atomic():
        return _set_password_link(user, send=True, reason="reset")


def _clean_skills(
    *, languages: Iterable[str] | None, platforms: Iterable[str] | None, categories: Iterable[str] | None
) -> dict[str, list[str]]:
    from aftersales.inbox.workflow import TicketCategory

    out: dict[str, list[str]] = {}
    for name, values, allowed in (
        ("skill_languages", languages, SUPPORTED_LANGUAGES),
        ("skill_platforms", platforms, Platform.values),
        ("skill_categories", categories, TicketCategory.values),
    ):
        if values is not None:
            out[name] = _clean_choices(values, allowed=allowed, field=name, normalise=True)
    return out


def _clean_strategy(value: str | None) -> str | None:
    if value is None:
        return None
    if value not in RoutingStrategy.values:
        raise ValidationFailed(
            _("Unknown value %(value)s; expected some of %(expected)s.")
            % {"value": repr(str(value)[:40]), "expected": ", ".join(RoutingStrategy.values)},
            field="routing_strategy",
        )
    return value


# --- teams ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamScopeInput:
    store_ids: list[int]
    platforms: list[str]
    languages: list[str]
    sku_categories: list[str]


def _clean_choices(values: Iterable[str], *, allowed: Iterable[str], field: str, normalise: bool = False) -> list[str]:
    allowed_set = set(allowed)
    out: list[str] = []
    for raw in values:
        value = str(raw).strip().lower() if normalise else str(raw).strip()
        if value not in allowed_set:
            raise ValidationFailed(
                _("Unknown value %(value)s; expected some of %(expected)s.")
                % {"value": repr(str(raw)[:40]), "expected": ", ".join(sorted(allowed_set))},
                field=field,
            )
        if value not in out:
            out.append(value)
    if len(out) > MAX_SCOPE_VALUES:
        raise ValidationFailed(_("Too many values."), field=field)
    return sorted(out)


def _clean_scope(
    actor: Any,
    *,
    store_ids: Iterable[int] | None,
    platforms: Iterable[str] | None,
    languages: Iterable[str] | None,
    sku_categories: Iterable[str] | None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if store_ids is not None:
        ids = sorted(set(store_ids))
        stores = list(Store.objects.filter(pk__in=ids, organization_id=actor.organization_id))
        if len(stores) != len(ids):
            raise NotFound(_("store not found"), field="store_ids")
        out["stores"] = stores
    if platforms is not None:
        out["platforms"] = _clean_choices(platforms, allowed=Platform.values, field="platforms", normalise=True)
    if languages is not None:
        out["languages"] = _clean_choices(languages, allowed=SUPPORTED_LANGUAGES, field="languages", normalise=True)
    if sku_categories is not None:
        out["sku_categories"] = _clean_choices(
            sku_categories, allowed=ProductCategory.values, field="sku_categories", normalise=True
        )
    return out


def _org_team(actor: Any, team_id: int) -> Team:
    team = Team.objects.filter(pk=team_id, organization_id=actor.organization_id).first()
    if team is None:
        raise NotFound(_("team not found"), field="team_id")
    return team


def _team_name_taken(actor: Any, name: str, *, exclude: int | None = None) -> bool:
    qs = Team.objects.filter(organization_id=actor.organization_id, name__iexact=name)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return qs.exists()


def _team_links_change(
    team: Team, scope: dict[str, Any], members: list[User] | None, lead_ids: list[int] | None
) -> dict[str, tuple[list[int], list[int]]]:
    """The stores, members and leads of a team being saved, before and after (for the audit)."""
    links = Membership.objects.filter(team_id=team.pk) if team.pk else Membership.objects.none()
    change: dict[str, tuple[list[int], list[int]]] = {}
    if "stores" in scope:
        before = sorted(team.stores.values_list("pk", flat=True)) if team.pk else []
        change["stores"] = (before, sorted(s.pk for s in scope["stores"]))
    if members is not None:
        change["members"] = (sorted(links.values_list("user_id", flat=True)), sorted(u.pk for u in members))
    if lead_ids is not None:
        change["leads"] = (sorted(links.filter(is_lead=True).values_list("user_id", flat=True)), sorted(lead_ids))
    return change


def _save_team(
    team: Team, scope: dict[str, Any], members: list[User] | None, lead_ids: list[int] | None, *, actor: Any
) -> None:
    for key in ("platforms", "languages", "sku_categories", "routing_strategy"):
        if key in scope:
            setattr(team, key, scope[key])
    try:
        with transaction.atomic():
            setting_audit(
                team,
                TEAM_AUDIT_FIELDS,
                actor=actor,
                setting=f"team.{team.name}",
                related=_team_links_change(team, scope, members, lead_ids),
            )
            team.save()
            if "stores" in scope:
                team.stores.set(scope["stores"])
            if members is not None:
                Membership.objects.filter(team=team).exclude(user__in=members).delete()
                have = set(Membership.objects.filter(team=team).values_list("user_id", flat=True))
                Membership.objects.bulk_create([Membership(team=team, user=u) for u in members if u.pk not in have])
            if lead_ids is not None:
                _set_leads(team, lead_ids)
    except IntegrityError:
        raise Conflict(_("A team with this name exists already."), field="name") from None


def _set_leads(team: Team, lead_ids: list[int]) -> None:
    """The team's leads: members only (ValidationFailed naming `lead_ids` otherwise)."""
    wanted = set(lead_ids)
    members = set(Membership.objects.filter(team=team).values_list("user_id", flat=True))
    if not wanted <= members:
        raise ValidationFailed(_("A team lead must be a member of the team."), field="lead_ids")
    Membership.objects.filter(team=team).update(is_lead=False)
    Membership.objects.filter(team=team, user_id__in=wanted).update(is_lead=True)


def team_create(
    *,
    actor: Any,
    name: str,
    store_ids: Iterable[int] = (),
    platforms: Iterable[str] = (),
    languages: Iterable[str] = (),
    sku_categories: Iterable[str] = (),
    member_ids: Iterable[int] = (),
    routing_strategy: str | None = None,
    lead_ids: Iterable[int] = (),
) -> Team:
    """A team of the actor's organization. An empty scope dimension means "all". `routing_strategy`:
    how routing by skill picks an agent in it (least loaded by default, or round robin)."""
    check_people_admin(actor)
    clean_name = _clean_text(name, field="name", max_length=120, required=True)
    if _team_name_taken(actor, clean_name):
        raise Conflict(_("A team with this name exists already."), field="name")
    scope = _clean_scope(
        actor, store_ids=store_ids, platforms=platforms, languages=languages, sku_categories=sku_categories
    )
    if (strategy := _clean_strategy(routing_strategy)) is not None:
        scope["routing_strategy"] = strategy
    members = _org_users(actor, member_ids)
    team = Team(organization_id=actor.organization_id, name=clean_name)
    with transaction.atomic():
        _save_team(team, scope, members, sorted(set(lead_ids)), actor=actor)
    return team


def team_update(
    *,
    actor: Any,
    team_id: int,
    name: str | None = None,
    store_ids: Iterable[int] | None = None,
    platforms: Iterable[str] | None = None,
    languages: Iterable[str] | None = None,
    sku_categories: Iterable[str] | None = None,
    member_ids: Iterable[int] | None = None,
    routing_strategy: str | None = None,
    lead_ids: Iterable[int] | None = None,
) -> Team:
    """Rename a team, change its scope, its members, its leads (members told of SLA breaches) or its
    routing strategy; None leaves a field as it is."""
    check_people_admin(actor)
    team = _org_team(actor, team_id)
    if name is not None:
        clean_name = _clean_text(name, field="name", max_length=120, required=True)
        if _team_name_taken(actor, clean_name, exclude=team.pk):
            raise Conflict(_("A team with this name exists already."), field="name")
        team.name = clean_name
    scope = _clean_scope(
        actor, store_ids=store_ids, platforms=platforms, languages=languages, sku_categories=sku_categories
    )
    if (strategy := _clean_strategy(routing_strategy)) is not None:
        scope["routing_strategy"] = strategy
    members = _org_users(actor, member_ids) if member_ids is not None else None
    with transaction.atomic():
        _save_team(team, scope, members, sorted(set(lead_ids)) if lead_ids is not None else None, actor=actor)
    return team


def team_delete(*, actor: Any, team_id: int) -> None:
    """Delete a team and its memberships. Tickets routed to it are no longer routed to a team (their
    agents still see them by assignment or through their other teams' scopes; admins see all)."""
    check_people_admin(actor)
    team = _org_team(actor, team_id)
    with transaction.atomic():
        setting_audit(team, TEAM_AUDIT_FIELDS, actor=actor, setting=f"team.{team.name}", deleted=True)
        team.delete()


# --- roles ----------------------------------------------------------------------------------------


def parse_amount(value: Any, *, field: str = "approval_limit_amount") -> Decimal:
    """An approval limit from user input: a decimal >= 0, at most 10^9, with at most 2 places."""
    if isinstance(value, float | bool):
        raise ValidationFailed(_("Enter the amount as a decimal number, e.g. 250.00."), field=field)
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationFailed(_("Enter the amount as a decimal number, e.g. 250.00."), field=field) from None
    if not amount.is_finite():
        raise ValidationFailed(_("Enter the amount as a decimal number, e.g. 250.00."), field=field)
    if amount < 0 or amount > MAX_APPROVAL_LIMIT:
        raise ValidationFailed(_("The amount must be between 0 and 1,000,000,000."), field=field)
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValidationFailed(_("At most 2 decimal places."), field=field)
    return amount.quantize(Decimal("0.01"))


def _clean_currency(value: str) -> str:
    code = str(value or "").strip()
    if not CURRENCY_RE.match(code):
        raise ValidationFailed(
            _("A currency is 3 capital letters (ISO 4217), e.g. USD."), field="approval_limit_currency"
        )
    try:
        validate_currency(code)
    except ValidationError:
        raise ValidationFailed(
            _("Unknown currency %(code)s.") % {"code": code}, field="approval_limit_currency"
        ) from None
    return code


def _clean_permissions(values: Iterable[str]) -> list[str]:
    wanted = {str(v) for v in values}
    unknown = sorted(wanted - set(Permission.values))
    if unknown:
        raise ValidationFailed(
            _("Unknown permission %(value)s; expected some of %(expected)s.")
            % {"value": repr(unknown[0][:40]), "expected": ", ".join(Permission.values)},
            field="permissions",
        )
    if Permission.VIEW not in wanted and Permission.ADMINISTER not in wanted:
        raise ValidationFailed(_("Every role needs “View tickets”."), field="permissions")
    return [p for p in Permission.values if p in wanted]


def _kind_for(permissions: list[str]) -> str:
    """The role's kind (shown to colleagues, e.g. in assignee pickers) follows its permissions."""
    if Permission.ADMINISTER in permissions:
        return RoleKind.ADMIN
    if Permission.APPROVE in permissions:
        return RoleKind.APPROVER
    if Permission.PROCESS in permissions or Permission.REPLY in permissions:
        return RoleKind.AGENT
    return RoleKind.VIEWER


def _org_role_for_edit(actor: Any, role_id: int) -> Role:
    role = Role.objects.filter(pk=role_id, organization_id=actor.organization_id).first()
    if role is None:
        raise NotFound(_("role not found"), field="role_id")
    return role


def role_create(
    *,
    actor: Any,
    name: str,
    permissions: Iterable[str],
    approval_limit_amount: Any = Decimal("0"),
    approval_limit_currency: str | None = None,
) -> Role:
    """A role of the actor's organization (the limit's currency defaults to the organization's)."""
    check_people_admin(actor)
    clean_name = _clean_text(name, field="name", max_length=80, required=True)
    perms = _clean_permissions(permissions)
    amount = parse_amount(approval_limit_amount)
    currency = _clean_currency(approval_limit_currency or actor.organization.default_currency)
    if Role.objects.filter(organization_id=actor.organization_id, name__iexact=clean_name).exists():
        raise Conflict(_("A role with this name exists already."), field="name")
    try:
        with transaction.atomic():
            role = Role.objects.create(
                organization_id=actor.organization_id,
                name=clean_name,
                kind=_kind_for(perms),
                permissions=perms,
                approval_limit_amount=amount,
                approval_limit_currency=currency,
            )
            setting_audit(role, ROLE_AUDIT_FIELDS, actor=actor, setting=f"role.{role.name}", created=True)
            return role
    except IntegrityError:
        raise Conflict(_("A role with this name exists already."), field="name") from None


def role_update(
    *,
    actor: Any,
    role_id: int,
    name: str | None = None,
    permissions: Iterable[str] | None = None,
    approval_limit_amount: Any = None,
    approval_limit_currency: str | None = None,
) -> Role:
    """Change a role; None leaves a field as it is. The role that keeps the organization's last
    active administrators (or the actor's own role) never loses ADMINISTER. Locks the organization."""
    check_people_admin(actor)
    role = _org_role_for_edit(actor, role_id)
    fields: list[str] = []
    if name is not None:
        clean_name = _clean_text(name, field="name", max_length=80, required=True)
        taken = Role.objects.filter(organization_id=actor.organization_id, name__iexact=clean_name).exclude(pk=role.pk)
        if taken.exists():
            raise Conflict(_("A role with this name exists already."), field="name")
        role.name = clean_name
        fields.append("name")
    if approval_limit_amount is not None:
        role.approval_limit_amount = parse_amount(approval_limit_amount)
        fields.append("approval_limit_amount")
    if approval_limit_currency is not None:
        role.approval_limit_currency = _clean_currency(approval_limit_currency)
        fields.append("approval_limit_currency")
    losing_admin = False
    if permissions is not None:
        perms = _clean_permissions(permissions)
        losing_admin = _is_admin_role(role) and Permission.ADMINISTER not in perms
        role.permissions = perms
        role.kind = _kind_for(perms)
        fields += ["permissions", "kind"]
    try:
        with transaction.atomic():
            org = _lock_organization(actor)
            if losing_admin:
                if actor.role_id == role.pk:
                    raise Conflict(_("You cannot remove your own administrator rights."), field="permissions")
                admins = _active_admin_ids(org.pk)
                holders = set(User.objects.filter(pk__in=admins, role_id=role.pk).values_list("pk", flat=True))
                if admins and admins <= holders:
                    raise Conflict(
                        _("The organization must keep at least one active administrator."), field="permissions"
                    )
            setting_audit(role, fields, actor=actor, setting=f"role.{role.name}")
            if fields:
                role.save(update_fields=fields)
    except IntegrityError:
        raise Conflict(_("A role with this name exists already."), field="name") from None
    return role


def role_delete(*, actor: Any, role_id: int) -> None:
    """Delete a role nobody has (active or not). Locks the organization."""
    check_people_admin(actor)
    role = _org_role_for_edit(actor, role_id)
    with transaction.atomic():
        _lock_organization(actor)
        if User.objects.filter(role_id=role.pk).exists():
            raise Conflict(_("This role is in use; give its users another role first."), field="role_id")
        setting_audit(role, ROLE_AUDIT_FIELDS, actor=actor, setting=f"role.{role.name}", deleted=True)
        role.delete()
