"""Which steps of a return or a warranty claim notify the buyer (returns.notify_settings): the same
service and permission (ADMINISTER) as Settings > Customer notifications."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from aftersales.returns.notify_settings import notification_steps, notification_steps_update

from ..auth import current_user
from ..schemas.common import with_errors
from ..schemas.notification_steps import NotificationStepsIn, NotificationStepsOut

router = Router(tags=["returns"])


@router.get("/returns/notification-steps", response=with_errors({200: NotificationStepsOut}))
def get_notification_steps(request: HttpRequest) -> Any:
    """Every step with whether it notifies the buyer and its default. Admins only."""
    return {"steps": notification_steps(current_user(request))}


@router.put("/returns/notification-steps", response=with_errors({200: NotificationStepsOut}))
def put_notification_steps(request: HttpRequest, payload: NotificationStepsIn) -> Any:
    """Turn steps on or off (`{"steps": {"refund_paid": true}}`); an unknown step or a value that is
    not true/false is a 422 naming `steps.<code>`, nothing saved. Each change is audited. Admins only."""
    return {"steps": notification_steps_update(user=current_user(request), changes=payload.steps, via="api")}
