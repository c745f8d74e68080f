"""Schemas of the customer-notification step switches (returns.notify_settings)."""

from __future__ import annotations

from typing import Any

from ninja import Field, Schema

from .common import InputSchema


class NotificationStepOut(Schema):
    code: str = Field(..., description="The step, e.g. in_transit, inspected, cancelled, refund_paid")
    label: str
    group: str = Field(..., description="rma or warranty")
    enabled: bool = Field(..., description="The buyer is told of this step")
    default: bool = Field(..., description="The value without a setting")


class NotificationStepsOut(Schema):
    steps: list[NotificationStepOut]


class NotificationStepsIn(InputSchema):
    """Steps left out keep their value."""

    steps: dict[str, Any] = Field(..., description="{step code: true or false}")
