"""Returns, refund requests, inquiries and cases as the marketplace holds them.

`ReturnRequest` is the marketplace's view of a buyer's request (its status word as the platform
sent it, its deadline `respond_by`); the seller's own handling (RMAs, refunds, inventory) builds on
top of it later. `ReturnRequestEvent` is its audit trail (received, status changed)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from aftersales.core.actors import ActorKind
from aftersales.core.models import TimeStampedModel
from aftersales.core.money import AMOUNT_DIGITS, AMOUNT_PLACES


class ReturnRequestKind(models.TextChoices):
    """channels.base.ReturnKind, with labels."""

    RETURN = "return", _("Return")
    REFUND_REQUEST = "refund_request", _("Refund request")
    INQUIRY = "inquiry", _("Inquiry")
    CASE = "case", _("Case")
    CANCELLATION = "cancellation", _("Cancellation request")


class PlatformReturnState(models.TextChoices):
    """channels.base.ReturnState, with labels: where the request stands on the marketplace in one
    vocabulary for every platform (each connector maps its own status words)."""

    OPEN = "open", _("Waiting for the seller")
    WAITING_BUYER = "waiting_buyer", _("Waiting for the buyer")
    ESCALATED = "escalated", _("Escalated to the marketplace")
    REJECTED = "rejected", _("Declined by the seller")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled by the buyer")
    CLOSED = "closed", _("Closed by the marketplace")
    UNKNOWN = "unknown", _("Unknown")


class ReturnRequest(TimeStampedModel):
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="return_requests", db_index=False
    )
    store = models.ForeignKey("catalog.Store", on_delete=models.CASCADE, related_name="return_requests", db_index=False)
    external_id = models.CharField(max_length=120, help_text="The return / case id on the platform")
    kind = models.CharField(max_length=20, choices=ReturnRequestKind.choices)
    platform_status = models.CharField(max_length=60, help_text="The platform's status word, as sent")
    platform_state = models.CharField(
        max_length=16,
        choices=PlatformReturnState.choices,
        default=PlatformReturnState.UNKNOWN,
        help_text="platform_status in one vocabulary for every platform (the connector's mapping)",
    )
    order = models.ForeignKey(
        "catalog.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="return_requests"
    )
    order_external_id = models.CharField(max_length=120, blank=True)
    customer = models.ForeignKey(
        "catalog.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="return_requests"
    )
    ticket = models.ForeignKey(
        "inbox.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="return_requests"
    )
    reason = models.CharField(max_length=120, blank=True, help_text="The platform's reason code")
    buyer_comment = models.TextField(blank=True)
    requested_amount = models.DecimalField(
        max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, null=True, blank=True
    )
    currency = models.CharField(max_length=3, blank=True)
    respond_by = models.DateTimeField(null=True, blank=True, help_text="The marketplace's deadline")
    created_on_platform = models.DateTimeField()
    updated_on_platform = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "external_id"], name="returnrequest_unique_external_id"),
        ]
        indexes = [
            models.Index(fields=["organization", "respond_by"], name="returnrequest_org_respond_by"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.external_id}"


class ReturnRequestLine(models.Model):
    return_request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=80)
    quantity = models.PositiveIntegerField(default=1)
    external_line_id = models.CharField(max_length=120, blank=True)
    reason = models.CharField(max_length=120, blank=True)
    order_line = models.ForeignKey(
        "catalog.OrderLine", on_delete=models.SET_NULL, null=True, blank=True, related_name="return_lines"
    )


class ReturnRequestEventType(models.TextChoices):
    RECEIVED = "received", _("Received from the marketplace")
    STATUS_CHANGED = "status_changed", _("Marketplace status changed")
    UPDATED = "updated", _("Updated by the marketplace")


class ReturnRequestEvent(models.Model):
    return_request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=20, choices=ReturnRequestEventType.choices)
    payload = models.JSONField(default=dict, blank=True)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_ref = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]


class ReturnPolicyVersion(models.Model):
    """One saved version of an organization's return-policy document (returns/policy). Every save or
    import adds a version; exactly one per organization is active (returns/policy_store.py)."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="return_policy_versions", db_index=False
    )
    number = models.PositiveIntegerField()
    document = models.JSONField()
    is_active = models.BooleanField(default=False)
    comment = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="returnpolicy_unique_number"),
            models.UniqueConstraint(
                fields=["organization"], condition=models.Q(is_active=True), name="returnpolicy_one_active"
            ),
        ]


class ExchangeRate(models.Model):
    """The admin's rate table: 1 `currency` = `rate` units of the organization's reporting currency
    (the policy document's `reporting_currency`). Used for value tiers; the rate used is reported."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="exchange_rates", db_index=False
    )
    currency = models.CharField(max_length=3)
    rate = models.DecimalField(max_digits=18, decimal_places=8)
    as_of = models.DateField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "currency"], name="exchangerate_unique_currency"),
        ]


# ---------------------------------------------------------------------------------------------------
# The seller's own handling: RMAs (returns/workflow.py holds the state machine), refunds, evidence.
# ---------------------------------------------------------------------------------------------------


class RmaStatus(models.TextChoices):
    """returns.workflow.TRANSITIONS says which moves are allowed."""

    REQUESTED = "requested", _("Requested")
    UNDER_REVIEW = "under_review", _("Under review")
    NEEDS_EVIDENCE = "needs_evidence", _("Needs evidence")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    PARTIAL_OFFERED = "partial_offered", _("Partial refund offered")
    LABEL_ISSUED = "label_issued", _("Label issued")
    IN_TRANSIT = "in_transit", _("In transit")
    RECEIVED = "received", _("Received")
    INSPECTED = "inspected", _("Inspected")
    RESOLVED = "resolved", _("Resolved")
    CANCELLED = "cancelled", _("Cancelled")


class RmaResolution(models.TextChoices):
    """What the seller agreed to do (chosen on approval, proposed by the eligibility decision)."""

    RETURN_AND_REFUND = "return_and_refund", _("Return and refund")
    RETURNLESS_REFUND = "returnless_refund", _("Refund without return")
    PARTIAL_REFUND = "partial_refund", _("Keep it for a partial refund")
    EXCHANGE = "exchange", _("Exchange")
    REPAIR = "repair", _("Repair")


class RmaOutcome(models.TextChoices):
    """How a resolved RMA ended."""

    REFUNDED = "refunded", _("Refunded")
    EXCHANGED = "exchanged", _("Exchanged")
    REPAIRED = "repaired", _("Repaired")
    RETURNED_TO_CUSTOMER = "returned_to_customer", _("Returned to the customer")
    KEPT_PARTIAL_REFUND = "kept_partial_refund", _("Kept with a partial refund")


class InspectionResult(models.TextChoices):
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")


class LabelSource(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    PLATFORM = "platform", _("From the marketplace")
    CARRIER = "carrier", _("Carrier and tracking number")


class PlatformSync(models.TextChoices):
    """Where the marketplace stands with the seller's decision (never pretended: a store whose
    connector cannot act records `pending_sync`, visible until someone does it by hand)."""

    NOT_NEEDED = "not_needed", _("Not needed")
    PENDING_SYNC = "pending_sync", _("Pending sync")
    SYNCING = "syncing", _("Syncing")
    SYNCED = "synced", _("Synced")
    FAILED = "failed", _("Sync failed")


class Rma(TimeStampedModel):
    """A return merchandise authorisation: the seller's handling of one buyer's return, from the
    request to the refund, exchange or repair. Linked to the marketplace's request when there is one."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="rmas", db_index=False
    )
    store = models.ForeignKey("catalog.Store", on_delete=models.CASCADE, related_name="rmas", db_index=False)
    number = models.CharField(max_length=32, help_text="RMA number shown to the buyer and the warehouse")
    order = models.ForeignKey("catalog.Order", on_delete=models.PROTECT, related_name="rmas")
    customer = models.ForeignKey(
        "catalog.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="rmas"
    )
    ticket = models.ForeignKey("inbox.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="rmas")
    return_request = models.ForeignKey(
        ReturnRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="rmas"
    )
    status = models.CharField(max_length=20, choices=RmaStatus.choices, default=RmaStatus.REQUESTED)
    resolution = models.CharField(max_length=20, choices=RmaResolution.choices, blank=True)
    outcome = models.CharField(max_length=24, choices=RmaOutcome.choices, blank=True)
    inspection_result = models.CharField(max_length=10, choices=InspectionResult.choices, blank=True)
    reason = models.CharField(max_length=60, help_text="Return reason code (policy vocabulary)")
    buyer_comment = models.TextField(blank=True)
    buyer_language = models.CharField(max_length=10, blank=True)
    delivery_country = models.CharField(max_length=2, blank=True)
    requested_at = models.DateTimeField()
    # The eligibility decision taken at request time (resolution, window, clauses, policy version).
    decision = models.JSONField(default=dict, blank=True)
    policy_version = models.PositiveIntegerField(null=True, blank=True)
    # Automatic checks' findings for the agent: [{"code", "field", "message"}].
    discrepancies = models.JSONField(default=list, blank=True)
    restocking_fee_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    return_shipping_paid_by = models.CharField(max_length=10, blank=True, help_text="buyer | seller")
    return_warehouse = models.ForeignKey(
        "inventory.Warehouse", on_delete=models.PROTECT, null=True, blank=True, related_name="rmas"
    )
    label_source = models.CharField(max_length=10, choices=LabelSource.choices, blank=True)
    label_carrier = models.CharField(max_length=80, blank=True)
    label_tracking_number = models.CharField(max_length=80, blank=True)
    label_file = models.CharField(max_length=200, blank=True, help_text="Storage name of the label file")
    label_issued_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    platform_sync = models.CharField(max_length=12, choices=PlatformSync.choices, default=PlatformSync.NOT_NEEDED)
    platform_sync_detail = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="rma_unique_number"),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "-created_at"], name="rma_org_status_created"),
            models.Index(fields=["organization", "-created_at"], name="rma_org_created"),
            models.Index(fields=["label_tracking_number"], name="rma_label_tracking"),
        ]

    def __str__(self) -> str:
        return self.number


class RmaLine(models.Model):
    """One order line (or part of it) being returned."""

    rma = models.ForeignKey(Rma, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey("catalog.OrderLine", on_delete=models.PROTECT, related_name="rma_lines")
    sku = models.CharField(max_length=80)
    quantity = models.PositiveIntegerField()
    unit_price_amount = models.DecimalField(max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES)
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=60, blank=True)
    serial_number = models.CharField(max_length=80, blank=True, help_text="Claimed by the buyer / read at QC")
    imei = models.CharField(max_length=20, blank=True)
    inspection_result = models.CharField(max_length=10, choices=InspectionResult.choices, blank=True)
    # QC checklist answers: [{"code", "label", "passed": bool, "note"}] (returns/workflow QC templates).
    qc_checklist = models.JSONField(default=list, blank=True)
    disposition = models.CharField(
        max_length=12, blank=True, help_text="restock | refurbish | write_off (set at inspection)"
    )

    class Meta:
        ordering = ["id"]


class EvidenceKind(models.TextChoices):
    """Distinct kinds, never interchangeable (the policy asks for each by name)."""

    PHOTO = "photo", _("Photo")
    VIDEO = "video", _("Video")
    IMEI = "imei", _("IMEI")
    SERIAL_NUMBER = "serial_number", _("Serial number")
    QC_PHOTO = "qc_photo", _("Inspection photo")


class RmaEvidence(models.Model):
    rma = models.ForeignKey(Rma, on_delete=models.CASCADE, related_name="evidence")
    line = models.ForeignKey(RmaLine, on_delete=models.CASCADE, null=True, blank=True, related_name="evidence")
    kind = models.CharField(max_length=16, choices=EvidenceKind.choices)
    value = models.CharField(max_length=120, blank=True, help_text="IMEI / serial number as given")
    attachment = models.ForeignKey(
        "inbox.Attachment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    file_name = models.CharField(max_length=200, blank=True, help_text="Storage name of an uploaded file")
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_ref = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]


class RmaEvent(models.Model):
    """The RMA's audit trail and timeline: every transition and action, with its actor."""

    rma = models.ForeignKey(Rma, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=30)
    payload = models.JSONField(default=dict, blank=True)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_ref = models.CharField(max_length=64, blank=True)
    actor_user = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["rma", "at"], name="rmaevent_rma_at")]


class RefundKind(models.TextChoices):
    FULL = "full", _("Full refund")
    PARTIAL = "partial", _("Partial refund")
    SHIPPING = "shipping", _("Shipping only")


class RefundStatus(models.TextChoices):
    """returns.refunds' state machine."""

    PENDING_APPROVAL = "pending_approval", _("Waiting for approval")
    IN_REVIEW = "in_review", _("In manual review")
    APPROVED = "approved", _("Approved")
    EXECUTING = "executing", _("Sending to the marketplace")
    PENDING_SYNC = "pending_sync", _("Pending sync (do it on the marketplace)")
    SUCCEEDED = "succeeded", _("Refunded")
    FAILED = "failed", _("Failed on the marketplace")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


class Refund(TimeStampedModel):
    """Money back to a buyer, for an order (and usually an RMA). Executed once: the idempotency key
    is unique and stored before the marketplace is called (channels.writeback)."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="refunds", db_index=False
    )
    store = models.ForeignKey("catalog.Store", on_delete=models.CASCADE, related_name="refunds", db_index=False)
    order = models.ForeignKey("catalog.Order", on_delete=models.PROTECT, related_name="refunds")
    rma = models.ForeignKey(Rma, on_delete=models.PROTECT, null=True, blank=True, related_name="refunds")
    ticket = models.ForeignKey("inbox.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="refunds")
    kind = models.CharField(max_length=10, choices=RefundKind.choices)
    status = models.CharField(max_length=20, choices=RefundStatus.choices, default=RefundStatus.PENDING_APPROVAL)
    amount = models.DecimalField(max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES)
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=120)
    # Why it went to manual review: [{"code", "message"}].
    review_reasons = models.JSONField(default=list, blank=True)
    requested_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    writeback = models.ForeignKey(
        "channels.WriteBack", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    platform_refund_id = models.CharField(max_length=200, blank=True)
    platform_detail = models.TextField(blank=True)
    reconciled_at = models.DateTimeField(null=True, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "idempotency_key"], name="refund_unique_key"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "-created_at"], name="refund_org_status_created"),
        ]


class RefundLine(models.Model):
    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey("catalog.OrderLine", on_delete=models.PROTECT, related_name="refund_lines")
    quantity = models.PositiveIntegerField(default=0)
    amount = models.DecimalField(max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES)


class RefundEvent(models.Model):
    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=30)
    payload = models.JSONField(default=dict, blank=True)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_ref = models.CharField(max_length=64, blank=True)
    actor_user = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]


class RmaSequence(models.Model):
    """The next RMA number per organization and year (a row locked while numbering)."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "year"], name="rmasequence_unique")]


class ExchangeStatus(models.TextChoices):
    RESERVED = "reserved", _("Stock reserved")
    SHIPPED = "shipped", _("Replacement shipped")
    CANCELLED = "cancelled", _("Cancelled")
    OUT_OF_STOCK = "out_of_stock", _("Out of stock: refund offered")


class Exchange(TimeStampedModel):
    """A replacement for returned goods: a replacement order with reserved stock (inventory ledger)."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="exchanges", db_index=False
    )
    rma = models.ForeignKey(Rma, on_delete=models.PROTECT, related_name="exchanges")
    replacement_order = models.OneToOneField(
        "catalog.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="exchange"
    )
    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.PROTECT, null=True, blank=True)
    status = models.CharField(max_length=14, choices=ExchangeStatus.choices)
    # [{"sku", "quantity", "replaces_order_line_id"}]
    lines = models.JSONField(default=list)
    idempotency_key = models.CharField(max_length=120)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "idempotency_key"], name="exchange_unique_key"),
        ]


# ---------------------------------------------------------------------------------------------------
# Bulk actions on RMAs (returns/bulk.py): a job row with one item per RMA; progress is counted from
# the items, each item is done once (its result is written in the same transaction as the action).
# ---------------------------------------------------------------------------------------------------


class RmaBulkAction(models.TextChoices):
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")
    REQUEST_EVIDENCE = "request_evidence", _("Request evidence")


class RmaBulkJobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")


class RmaBulkItemStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    OK = "ok", _("Done")
    ERROR = "error", _("Failed")


class RmaBulkJob(TimeStampedModel):
    """One bulk approve / reject / request-evidence over selected RMAs, run by a Huey task."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="rma_bulk_jobs", db_index=False
    )
    created_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    action = models.CharField(max_length=20, choices=RmaBulkAction.choices)
    # The action's parameters: {"resolution"} / {"reason"} / {"kinds", "message"}.
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=RmaBulkJobStatus.choices, default=RmaBulkJobStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "-created_at"], name="rmabulkjob_org_created")]


class RmaBulkItem(models.Model):
    job = models.ForeignKey(RmaBulkJob, on_delete=models.CASCADE, related_name="items")
    rma = models.ForeignKey(Rma, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=RmaBulkItemStatus.choices, default=RmaBulkItemStatus.PENDING)
    message = models.CharField(max_length=300, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["job", "rma"], name="rmabulkitem_unique_rma")]
        indexes = [models.Index(fields=["job", "status"], name="rmabulkitem_job_status")]


class RefundReviewSettings(models.Model):
    """An organization's thresholds for sending refunds to manual review (returns.review). Without a
    row the defaults below apply (returns.review.ReviewThresholds)."""

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, related_name="refund_review_settings"
    )
    repeat_window_days = models.PositiveSmallIntegerField(
        default=90, help_text="Look-back for the repeat-returner check, in days"
    )
    repeat_threshold = models.PositiveSmallIntegerField(
        default=3, help_text="Earlier RMAs + refunds of the customer in the window that make a repeat returner"
    )
    high_value_requires_evidence = models.BooleanField(
        default=True, help_text="A refund of a high-value item (policy value tier) needs evidence on its RMA"
    )
    shared_address_window_days = models.PositiveSmallIntegerField(
        default=180,
        help_text="Look-back for the several-accounts-to-one-address check, in days (0: off)",
    )
    updated_at = models.DateTimeField(auto_now=True)


class CustomerNotificationStep(models.Model):
    """Whether the buyer is told of one step (returns.notify_settings.STEPS: RMA and warranty steps) in
    one organization. Without a row the step's default applies. Changed by organization admins in
    Settings > Customer notifications or PUT /api/v1/returns/notification-steps; every change is
    appended to the organization settings audit (accounts.OrgSettingChange, `customer_notification.<step>`)."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="customer_notification_steps"
    )
    step = models.CharField(max_length=30)
    enabled = models.BooleanField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "step"], name="customernotificationstep_unique")]
