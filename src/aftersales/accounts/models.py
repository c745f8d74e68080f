"""Organizations, users, roles, teams and API tokens.

A user belongs to one organization and has one role there. Teams give scope: an agent sees the
tickets that fall within the scope of at least one of their teams (see permissions.py)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from aftersales.core.models import TimeStampedModel
from aftersales.core.money import AMOUNT_DIGITS, AMOUNT_PLACES


class Organization(TimeStampedModel):
    """A seller: one company with its stores, teams and agents."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    timezone = models.CharField(max_length=64, default="Asia/Shanghai")
    default_currency = models.CharField(max_length=3, default="USD")
    # Product value tiers: price >= high threshold is "high", >= mid is "mid", else "low".
    high_value_threshold = models.DecimalField(
        max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, default=Decimal("200")
    )
    mid_value_threshold = models.DecimalField(
        max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, default=Decimal("50")
    )

    def __str__(self) -> str:
        return self.name


class Permission(models.TextChoices):
    """What a role may do. Checked by accounts.permissions for the UI and the API alike."""

    VIEW = "view", _("View tickets")
    PROCESS = "process", _("Process tickets (assign, status, tags, notes, merge)")
    REPLY = "reply", _("Reply to customers")
    APPROVE = "approve", _("Approve refunds and returns")
    ADMINISTER = "administer", _("Administer the organization")


class RoleKind(models.TextChoices):
    VIEWER = "viewer", _("Viewer")
    AGENT = "agent", _("Agent")
    APPROVER = "approver", _("Approver")
    ADMIN = "admin", _("Admin")


DEFAULT_ROLE_PERMISSIONS: dict[str, list[str]] = {
    RoleKind.VIEWER: [Permission.VIEW],
    RoleKind.AGENT: [Permission.VIEW, Permission.PROCESS, Permission.REPLY],
    RoleKind.APPROVER: [Permission.VIEW, Permission.PROCESS, Permission.REPLY, Permission.APPROVE],
    RoleKind.ADMIN: [p.value for p in Permission],
}


class Role(TimeStampedModel):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="roles")
    kind = models.CharField(max_length=20, choices=RoleKind.choices)
    name = models.CharField(max_length=80)
    permissions = models.JSONField(default=list, help_text="List of permission codes")
    # Largest refund this role may approve, in the organization's default currency. 0 = none.
    approval_limit_amount = models.DecimalField(
        max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, default=Decimal("0")
    )
    approval_limit_currency = models.CharField(max_length=3, default="USD")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="role_unique_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.organization})"


class UserLanguage(models.TextChoices):
    ZH_HANS = "zh-hans", "简体中文"
    EN = "en", "English"


class User(AbstractUser):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="users", null=True, blank=True
    )
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="users", null=True, blank=True)
    display_name = models.CharField(max_length=120, blank=True)
    # UI language and the working language translations are produced in.
    language = models.CharField(max_length=10, choices=UserLanguage.choices, default=UserLanguage.EN)
    # Routing skills (triage.routing): the customer languages, platforms and ticket categories this agent
    # handles. An empty list means "any"; an agent whose list lacks the ticket's value is not picked.
    skill_languages = models.JSONField(default=list, blank=True)
    skill_platforms = models.JSONField(default=list, blank=True)
    skill_categories = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return self.display_name or self.username


class RoutingStrategy(models.TextChoices):
    LEAST_LOADED = "least_loaded", _("Least loaded (fewest open tickets)")
    ROUND_ROBIN = "round_robin", _("Round robin (in turn)")


class Team(TimeStampedModel):
    """A group of agents with a scope. An empty scope dimension means "all"."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=120)
    stores = models.ManyToManyField("catalog.Store", blank=True, related_name="teams")
    platforms = models.JSONField(default=list, blank=True)
    languages = models.JSONField(default=list, blank=True)
    sku_categories = models.JSONField(default=list, blank=True)
    members = models.ManyToManyField(User, through="Membership", related_name="teams")
    routing_strategy = models.CharField(
        max_length=20, choices=RoutingStrategy.choices, default=RoutingStrategy.LEAST_LOADED
    )
    # Round robin's turn: the user id routing gave the last ticket to (kept across restarts; the
    # team row is locked while the next one is chosen).
    routing_last_user_id = models.IntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="team_unique_name")]

    def __str__(self) -> str:
        return self.name


class Membership(TimeStampedModel):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    # A team lead is also told when one of the team's tickets breaches an SLA clock (sla.services.sla_notify).
    is_lead = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="membership_unique")]


class TokenScope(models.TextChoices):
    """What an API token may be used for (docs/adr/0002-api-tokens.md). A token never exceeds its
    user's role: the scopes only take permissions away."""

    READ = "read", _("Read (GET requests)")
    WRITE = "write", _("Write (changes: POST, PUT, PATCH, DELETE)")
    ADMIN = "admin", _("Administer (organization settings, with an admin role)")
    TOKENS = "tokens", _("Create API tokens (no longer-lived or wider than itself)")


class ApiToken(TimeStampedModel):
    """A per-user API token. Only a SHA-256 digest is stored; the token is shown once. Every token
    expires (default and maximum lifetime: TOKEN_*_LIFETIME in accounts/services.py) and carries
    scopes."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=12, help_text="First characters, to recognise the token")
    digest = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list, help_text='TokenScope values, e.g. ["read", "write"]')
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class OrgSettingChange(models.Model):
    """Append-only audit of an organization's settings: who changed which setting, from what to what,
    when and from where (accounts.services.org_setting_change_record, called by the service that
    changes the setting, in its transaction). A secret's value is never stored: `old_value` /
    `new_value` say "changed" and `fingerprint` holds the first hex digits of the new secret's
    SHA-256, to tell two rotations apart. Read on Settings > Settings history (organization admins)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    setting = models.CharField(max_length=120, help_text="e.g. refund_review.repeat_threshold")
    old_value = models.JSONField(null=True, blank=True)
    new_value = models.JSONField(null=True, blank=True)
    secret = models.BooleanField(default=False)
    fingerprint = models.CharField(max_length=16, blank=True)
    via = models.CharField(max_length=10, blank=True, help_text="web | api | command")
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["organization", "-at", "-id"], name="orgsettingchange_org_at")]

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise ValueError("OrgSettingChange is append-only")
        super().save(*args, **kwargs)  # type: ignore[arg-type]
