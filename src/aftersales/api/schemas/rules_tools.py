"""Rules tooling (issue 11 §1): the dry run, conflicts and A/B experiments. The rule document itself is
the rules schema's (`RuleIn`); drafts are taken as JSON objects and checked by the same service, so a
refusal names the JSON path (`conditions.all[2].op`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from .common import Id, InputSchema

DRAFT_DESCRIPTION = (
    "A rule document as POST /rules takes it (name may be left out): trigger, conditions, actions, scope, "
    "schedule. Checked like a save; nothing is saved."
)


class RuleSimulateIn(InputSchema):
    document: dict[str, Any] | None = Field(None, description=DRAFT_DESCRIPTION)
    rule_id: Id | None = Field(None, description="Replay a saved rule instead of a draft")
    version: int | None = Field(None, ge=1, le=1_000_000, description="Its version number (default: current)")
    days: int = Field(30, description="How many days back to replay: 1 to 90")
    row_cap: int = Field(5000, description="At most this many events examined by this call (one page): 1 to 20000")
    cursor: str | None = Field(
        None, max_length=2000, description="The previous page's next_cursor (send the same document or rule again)"
    )


class SimulatedChangeOut(Schema):
    action: str
    label: str
    field: str = Field(..., description='The ticket field it sets ("" for notes, replies, refunds...)')
    current: Any
    value: Any
    changes: bool = Field(..., description="False when the ticket already has that value")
    detail: dict[str, Any]


class SimulatedMatchOut(Schema):
    event_key: str
    at: datetime
    ticket_id: int | None
    ticket_subject: str
    rma_id: int | None
    changes: list[SimulatedChangeOut]


class ActionCountOut(Schema):
    action: str
    count: int


class SimulationOut(Schema):
    trigger: str
    rule_id: int | None
    version: int | None
    since: datetime
    until: datetime
    days: int
    row_cap: int
    events_examined: int
    matched: int
    truncated: bool = Field(..., description="This page stopped before the end of the window: see next_cursor")
    duration_ms: float
    change_counts: list[ActionCountOut]
    matches: list[SimulatedMatchOut] = Field(..., description="This page's matches (at most 200)")
    next_cursor: str | None = Field(..., description="Give it back for the next page; null when the window is done")
    progress: float = Field(..., description="The share of the window's time replayed so far, 0 to 1")


class StoredChangeOut(Schema):
    action: str
    label: str
    field: str = Field(..., description='The ticket field it sets ("" for notes, replies, refunds...)')
    current: Any
    value: Any
    changes: bool = Field(..., description="False when the ticket already has that value")


class StoredMatchOut(Schema):
    event_key: str
    at: datetime
    ticket_id: int | None
    ticket_subject: str
    rma_id: int | None
    changes: list[StoredChangeOut]


class SimulationRunOut(Schema):
    id: int
    name: str
    rule_id: int | None
    trigger: str
    days: int
    since: datetime
    until: datetime
    status: str = Field(..., description="queued, running, done, failed or cancelled")
    progress: float = Field(..., description="The share of the window's time replayed so far, 0 to 1")
    events_examined: int
    matched: int
    change_counts: dict[str, int] = Field(..., description="Per action type, how many times it would run")
    duration_ms: float
    error: str
    created_by: str = Field(..., description="The admin who asked (empty when the account is gone)")
    created_at: datetime
    finished_at: datetime | None


class SimulationRunDetailOut(SimulationRunOut):
    document: dict[str, Any] = Field(..., description="The rule document replayed")
    matches: list[StoredMatchOut] = Field(..., description="The first 2,000 matches kept (the totals count them all)")


class RuleConflictsIn(InputSchema):
    document: dict[str, Any] = Field(..., description=DRAFT_DESCRIPTION)
    rule_id: Id | None = Field(None, description="The rule this document edits (left out of the comparison)")


class RuleConflictSideOut(Schema):
    rule_id: int | None
    rule_name: str
    action: str
    value: Any


class RuleConflictOut(Schema):
    target: str = Field(..., description='What both set: "ticket.urgency", "rma.decision"...')
    severity: str = Field(..., description="warning, or blocking (cannot both be enabled)")
    rule: RuleConflictSideOut
    other: RuleConflictSideOut


class RuleExperimentIn(InputSchema):
    treatment_percent: int = Field(..., description="Share of matching tickets the rule acts on: 1 to 99")


class RuleExperimentOut(Schema):
    id: int
    rule_id: int
    rule_name: str
    version: int
    treatment_percent: int
    started_at: datetime
    ended_at: datetime | None


class MoneyTotalOut(Schema):
    currency: str
    amount: str


class ExperimentArmOut(Schema):
    arm: str
    tickets: int
    resolved: int
    resolution_hours_median: float | None
    resolution_hours_mean: float | None
    csat_responses: int
    csat_average: float | None
    refunds: int
    refund_totals: list[MoneyTotalOut]
    reopened: int
    reopen_rate: float | None


class ExperimentSignificanceOut(Schema):
    metric: str = Field(..., description="resolution_hours, csat or reopen_rate")
    method: str = Field(..., description="mann_whitney_u or two_proportion_z (two-sided)")
    n_treatment: int
    n_control: int
    statistic: float | None = Field(..., description="U of the treatment arm, or z")
    p_value: float | None = Field(..., description="null: fewer than 5 observations in an arm")
    significant: bool | None = Field(..., description="p < 0.05")


class ExperimentResultsOut(Schema):
    experiment: RuleExperimentOut
    is_current_version: bool = Field(..., description="False once the rule was edited: the split has stopped")
    csat_available: bool = Field(..., description="False: no CSAT yet (the follow-ups app is not installed)")
    arms: list[ExperimentArmOut]
    tests: list[ExperimentSignificanceOut]


class WebhookSecretOut(Schema):
    secret: str = Field(..., description="HMAC-SHA256 key of X-Aftersales-Signature (docs/rules.md)")


class RuleWebhookSigningOut(Schema):
    url: str = Field(..., description="A notify_webhook URL of the rule's current version with signing 'rule'")
    is_set: bool = Field(..., description="Whether its secret is made (the secret itself is never listed)")
    rotated_at: datetime | None


class RuleWebhookSecretRotateIn(InputSchema):
    url: str = Field(..., max_length=2000, description="One of the URLs GET .../webhook-secrets lists")


class RuleWebhookSecretOut(Schema):
    url: str
    secret: str = Field(..., description="Shown on this answer only; signs X-Aftersales-Signature from now on")
    rotated_at: datetime
    signing_key: str = Field(..., description="The X-Aftersales-Signing-Key header of its deliveries")
