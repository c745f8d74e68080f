"""Settings > Settings history: who changed which organization setting, from what to what, when and
from where (accounts.OrgSettingChange, written by the services that change settings through
accounts.audit). Filter by setting group and by who changed it, paged by cursor (the same selector as
GET /api/v1/settings/history). Read-only; organization admins (ADMINISTER), their own organization only."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from aftersales.accounts.audit import SETTING_GROUPS
from aftersales.accounts.selectors import org_setting_changes_page, users_of_organization
from aftersales.core.errors import ValidationFailed

from ..access import AgentRequest, web_view


def _shown(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(_("on") if value else _("off"))
    return str(value)


@web_view()
def settings_history(request: AgentRequest) -> HttpResponse:
    group = request.GET.get("group", "")
    actor = request.GET.get("actor", "")
    if actor and not actor.isdigit():
        raise ValidationFailed(str(_("choose a user of the list")), field="actor")
    page = org_setting_changes_page(
        request.user, group=group or None, actor_id=int(actor) if actor else None, cursor=request.GET.get("cursor")
    )
    rows = [
        {
            "change": change,
            "group": SETTING_GROUPS.get(change.setting.split(".", 1)[0], change.setting),
            "detail": change.setting.split(".", 1)[1] if "." in change.setting else "",
            "old": _shown(change.old_value),
            "new": _shown(change.new_value),
        }
        for change in page.changes
    ]
    context = {
        "settings_section": "history",
        "rows": rows,
        "groups": sorted(((key, str(label)) for key, label in SETTING_GROUPS.items()), key=lambda g: g[1]),
        "users": users_of_organization(request.user),
        "group": group,
        "actor": actor,
        "next_cursor": page.next_cursor,
    }
    return render(request, "web/settings/history.html", context)
