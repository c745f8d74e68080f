"""Which steps notify the buyer, per organization (issue 10, section 7): one switch per step of the RMA
and warranty notifications (returns.notify, warranty.notify). Organization admins change them in
Settings > Customer notifications and through GET/PUT /api/v1/returns/notification-steps (the same
service, the ADMINISTER permission in both); each change is appended to the organization
settings audit (accounts.OrgSettingChange, setting `customer_notification.<step>`).

Defaults (no row for the organization): every step on, except `refund_paid`. Amazon, eBay, Shopee,
AliExpress, TikTok Shop and Shopify tell the buyer themselves when a refund went through, so a second
message from the seller is noise there; a seller whose stores do not (e-mail, WhatsApp) turns it on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.accounts.audit import org_setting_change_record
from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm, organization_of
from aftersales.accounts.selectors import org_setting_changes
from aftersales.core.errors import ValidationFailed

from .models import CustomerNotificationStep


@dataclass(frozen=True)
class StepInfo:
    code: str
    label: Any  # lazy text
    group: str  # rma | warranty
    default: bool


STEPS: tuple[StepInfo, ...] = (
    StepInfo("approved", gettext_lazy("Return approved (instructions and return address)"), "rma", True),
    StepInfo("evidence_requested", gettext_lazy("Evidence requested"), "rma", True),
    StepInfo("rejected", gettext_lazy("Return rejected (with the reason)"), "rma", True),
    StepInfo("partial_offered", gettext_lazy("Partial refund offered for keeping the item"), "rma", True),
    StepInfo("label_issued", gettext_lazy("Return label issued"), "rma", True),
    StepInfo("in_transit", gettext_lazy("Return parcel on its way (first carrier scan)"), "rma", True),
    StepInfo("delivered", gettext_lazy("Return parcel delivered to the warehouse (by tracking)"), "rma", True),
    StepInfo("received", gettext_lazy("Return received by the warehouse"), "rma", True),
    StepInfo("inspected", gettext_lazy("Inspection result (passed or failed, next step)"), "rma", True),
    StepInfo("resolved", gettext_lazy("Return resolved"), "rma", True),
    StepInfo("cancelled", gettext_lazy("Return cancelled (with the reason)"), "rma", True),
    StepInfo("refund_paid", gettext_lazy("Refund paid (most marketplaces tell the buyer themselves)"), "rma", False),
    StepInfo("replacement_shipped", gettext_lazy("Warranty replacement shipped (tracking)"), "warranty", True),
    StepInfo("repair_received", gettext_lazy("Unit for repair received"), "warranty", True),
    StepInfo("repair_shipped_back", gettext_lazy("Repaired unit shipped back (tracking)"), "warranty", True),
)
STEP_CODES = frozenset(s.code for s in STEPS)
STEP_SETTING_GROUP = "customer_notification"  # the audit's setting: customer_notification.<step>


@dataclass(frozen=True)
class StepSwitch:
    code: str
    label: str
    group: str
    enabled: bool
    default: bool


def step_enabled(organization_id: int, step: str) -> bool:
    """Whether `step` notifies the buyers of the organization (its switch, else the default)."""
    row = (
        CustomerNotificationStep.objects.filter(organization_id=organization_id, step=step)
        .values_list("enabled", flat=True)
        .first()
    )
    if row is not None:
        return bool(row)
    return next((s.default for s in STEPS if s.code == step), True)


def _switches(organization_id: int) -> list[StepSwitch]:
    rows = dict(CustomerNotificationStep.objects.filter(organization_id=organization_id).values_list("step", "enabled"))
    return [StepSwitch(s.code, str(s.label), s.group, bool(rows.get(s.code, s.default)), s.default) for s in STEPS]


def notification_steps(user: Any) -> list[StepSwitch]:
    """The switches of the user's organization, for its administrators (Settings, API)."""
    check_perm(user, Permission.ADMINISTER)
    return _switches(organization_of(user))


def notification_steps_update(*, user: Any, changes: Any, via: str) -> list[StepSwitch]:
    """Set the switches in `changes` ({step code: bool}; steps not named are left as they are) for the
    user's organization (ADMINISTER). An unknown step or a value that is not a boolean: 422 naming
    `steps.<code>`, nothing written. A change is appended to the audit (who, when, `via` web or api);
    setting a step to what it already is writes nothing."""
    check_perm(user, Permission.ADMINISTER)
    if not isinstance(changes, dict):
        raise ValidationFailed(_("steps: an object of step: true/false"), field="steps")
    for code, value in changes.items():
        if code not in STEP_CODES:
            raise ValidationFailed(_("steps.%(code)s: unknown step") % {"code": code}, field=f"steps.{code}")
        if not isinstance(value, bool):
            raise ValidationFailed(_("steps.%(code)s: must be true or false") % {"code": code}, field=f"steps.{code}")
    organization_id = organization_of(user)
    with transaction.atomic():
        current = {s.code: s.enabled for s in _switches(organization_id)}
        for code, value in changes.items():
            if current[code] == value:
                continue
            CustomerNotificationStep.objects.update_or_create(
                organization_id=organization_id, step=code, defaults={"enabled": value}
            )
            org_setting_change_record(
                organization_id=organization_id,
                actor=user,
                setting=f"{STEP_SETTING_GROUP}.{code}",
                old=current[code],
                new=value,
                via=via,
            )
    return _switches(organization_id)


@dataclass(frozen=True)
class StepChange:
    step: str
    label: str
    enabled: bool
    actor: str
    via: str
    at: Any  # datetime


def notification_step_changes(user: Any, *, limit: int = 20) -> list[StepChange]:
    """The latest changes of the switches (the audit), newest first, for administrators."""
    labels = {s.code: str(s.label) for s in STEPS}
    rows = org_setting_changes(user, group=STEP_SETTING_GROUP, limit=limit)
    steps = [(r, r.setting.split(".", 1)[1]) for r in rows]
    return [
        StepChange(step, labels.get(step, step), bool(r.new_value), str(r.actor) if r.actor else "", r.via, r.at)
        for r, step in steps
    ]
