"""The Django admin: the installation operator's tool, never an organization's.

The admin is not scoped by organization (it lists every seller's users, roles and teams), so only
the operator may use it: an active staff account outside every organization (`createsuperuser`).
Organization admins configure their own organization in the agent UI's settings (issue 7, finding 1);
even an organization member marked staff by mistake is refused here, at the login form and on
every page of the admin."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import ApiToken, Membership, Organization, Role, Team, User


def is_operator(user: Any) -> bool:
    """The installation's operator: signed in, active, Django staff, and in no organization."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.is_staff
        and getattr(user, "organization_id", None) is None
    )


class OperatorAuthenticationForm(AdminAuthenticationForm):
    """The admin's login form: refuses organization members even when they are staff."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": _(
            "Please enter the correct %(username)s and password for an operator account. "
            "Organization administrators manage their organization in the agent interface's settings."
        ),
    }

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if not is_operator(user):
            raise forms.ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


def operator_has_permission(request: HttpRequest) -> bool:
    return is_operator(request.user)


# The default site (mounted at /admin/ by aftersales.urls) asks this for every admin page.
admin.site.has_permission = operator_has_permission  # type: ignore[method-assign]
admin.site.login_form = OperatorAuthenticationForm


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "timezone", "default_currency")
    search_fields = ("name", "slug")


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "organization", "approval_limit_amount", "approval_limit_currency")
    list_filter = ("kind", "organization")


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "organization")
    list_filter = ("organization",)
    filter_horizontal = ("stores",)
    inlines = [MembershipInline]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "display_name", "email", "organization", "role", "language", "is_active")
    list_filter = ("organization", "role", "language", "is_active")
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("aftersales", {"fields": ("organization", "role", "display_name", "language")}),
    )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "digest", "last_used_at")
