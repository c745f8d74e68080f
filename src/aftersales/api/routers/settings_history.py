"""The organization settings audit (accounts.OrgSettingChange): the same selector and permission
(ADMINISTER, own organization only), filters and cursor as Settings > Settings history."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from aftersales.accounts.selectors import org_setting_changes_page

from ..auth import current_user
from ..schemas.common import with_errors
from ..schemas.settings_history import OrgSettingChangesOut, SettingHistoryFilters

router = Router(tags=["accounts"])


@router.get("/settings/history", response=with_errors({200: OrgSettingChangesOut}))
def get_settings_history(request: HttpRequest, filters: Query[SettingHistoryFilters]) -> Any:
    """The changes of the organization's settings, newest first, a page at a time (`next_cursor`: pass
    it as `cursor` for the next page; null on the last). Filter by setting `group` (the first part of
    the setting's key, e.g. sla_policy, store, role) and by `actor` (a user id). A secret only as
    "changed" and a fingerprint. Admins only; an unknown group, actor or cursor is a 422 naming it."""
    page = org_setting_changes_page(
        current_user(request),
        group=filters.group or None,
        actor_id=filters.actor,
        cursor=filters.cursor or None,
        limit=filters.limit,
    )
    return {"changes": page.changes, "next_cursor": page.next_cursor}
