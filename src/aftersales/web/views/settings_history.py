"""Settings > Settings history: who changed which organization setting, from what to what, when and
from where (accounts.OrgSettingChange, written by the services that change settings: refund review
thresholds, customer notification steps, webhook signing secrets). Read-only; organization admins
(ADMINISTER), their own organization only (accounts.selectors.org_setting_changes)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from aftersales.accounts.selectors import org_setting_changes

from ..access import AgentRequest, web_view

# What the page calls a setting, by the first part of its key (the rest is shown as it is).
SETTING_GROUPS = {
    "refund_review": _("Refund review"),
    "customer_notification": _("Customer notifications"),
    "webhook_signing_secret": _("Webhook signing secret"),
    "rule_webhook_secret": _("Rule webhook secret"),
}


def _shown(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(_("on") if value else _("off"))
    return str(value)


@web_view()
def settings_history(request: AgentRequest) -> HttpResponse:
    changes = org_setting_changes(request.user)
    rows = [
        {
            "change": change,
            "group": SETTING_GROUPS.get(change.setting.split(".", 1)[0], change.setting),
            "detail": change.setting.split(".", 1)[1] if "." in change.setting else "",
            "old": _shown(change.old_value),
            "new": _shown(change.new_value),
        }
        for change in changes
    ]
    return render(request, "web/settings/history.html", {"settings_section": "history", "rows": rows})
