"""Rules (issue 11 §1): the rule document in and out, versions, execution logs, the field registry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from aftersales.rules.models import RuleTrigger

from .common import Id, InputSchema

CONDITIONS_DESCRIPTION = (
    'A condition tree: {"all": [...]}, {"any": [...]}, {"not": {...}} or {"field": "ticket.urgency", "op": "eq", '
    '"value": "high"}; fields from GET /rules/fields; see docs/rules.md. Refusals name the JSON path, e.g. '
    '"conditions.all[2].op".'
)


class ApprovalLimitIn(InputSchema):
    amount: str = Field(..., max_length=20, examples=["50.00"])
    currency: str = Field(..., min_length=3, max_length=3, examples=["EUR"])


class RuleActionIn(InputSchema):
    type: str = Field(..., max_length=40, examples=["set_urgency"])
    params: dict[str, Any] = Field(default_factory=dict, examples=[{"urgency": "high"}])


class RuleIn(InputSchema):
    name: str = Field(..., max_length=120)
    trigger: RuleTrigger
    priority: int = Field(100, ge=-10_000, le=10_000, description="Lower runs first")
    enabled: bool = False
    conditions: dict[str, Any] = Field(..., description=CONDITIONS_DESCRIPTION)
    actions: list[RuleActionIn] = Field(..., min_length=1, max_length=20)
    scope: dict[str, list[Any]] = Field(
        default_factory=dict,
        description="regions, platforms, store_ids, product_categories, skus (empty: any)",
    )
    schedule: dict[str, Any] = Field(
        default_factory=dict, description='{"windows": [{"start", "end"}], "business_hours": {"calendar_id": 1}}'
    )
    stop_further: bool = False
    approval_limit: ApprovalLimitIn | None = None


class ApprovalLimitOut(Schema):
    amount: str
    currency: str


class RuleOut(Schema):
    id: int
    name: str
    trigger: str
    enabled: bool
    priority: int
    specificity: int
    version: int
    conditions: dict[str, Any]
    actions: list[dict[str, Any]]
    scope: dict[str, Any]
    schedule: dict[str, Any]
    stop_further: bool
    approval_limit: ApprovalLimitOut | None
    created_at: datetime
    updated_at: datetime


class RuleVersionOut(Schema):
    number: int
    conditions: dict[str, Any]
    actions: list[dict[str, Any]]
    scope: dict[str, Any]
    schedule: dict[str, Any]
    stop_further: bool
    approval_limit: ApprovalLimitOut | None
    created_by_id: int | None
    created_at: datetime


class RuleExecutionOut(Schema):
    id: int
    rule_id: int
    rule_name: str
    version: int
    trigger: str
    event_key: str
    ticket_id: int | None
    rma_id: int | None
    chain_depth: int
    outcome: str
    matched: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    duration_ms: float
    created_at: datetime


class RuleFieldOut(Schema):
    path: str
    type: str
    label: str
    choices: list[str]


class RuleBatchEnableIn(InputSchema):
    rule_ids: list[Id] = Field(..., min_length=1, max_length=500)
    enabled: bool
