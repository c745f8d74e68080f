"""The organization settings audit (accounts.OrgSettingChange): the same selector and permission
(ADMINISTER, own organization only) as Settings > Settings history."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from aftersales.accounts.selectors import org_setting_changes

from ..auth import current_user
from ..schemas.common import with_errors
from ..schemas.settings_history import OrgSettingChangesOut

router = Router(tags=["accounts"])


@router.get("/settings/history", response=with_errors({200: OrgSettingChangesOut}))
def get_settings_history(request: HttpRequest) -> Any:
    """The latest 200 changes of the organization's settings, newest first (refund-review thresholds,
    customer notification steps, webhook signing secrets: a secret only as "changed" and a
    fingerprint). Admins only."""
    return {"changes": org_setting_changes(current_user(request))}
