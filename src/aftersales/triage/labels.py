"""The triage label sets (docs/triage-labelling.md defines each one)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Intent(models.TextChoices):
    RETURN_REQUEST = "return_request", _("Return request")
    EXCHANGE_REQUEST = "exchange_request", _("Exchange request")
    REFUND_REQUEST = "refund_request", _("Refund request")
    ITEM_NOT_RECEIVED = "item_not_received", _("Item not received")
    DELIVERY_DELAYED = "delivery_delayed", _("Delivery delayed")
    DAMAGED_ITEM = "damaged_item", _("Damaged item")
    DEFECTIVE_ITEM = "defective_item", _("Defective item")
    WRONG_ITEM = "wrong_item", _("Wrong item")
    MISSING_PARTS = "missing_parts", _("Missing parts")
    SIZE_FIT_ISSUE = "size_fit_issue", _("Size or fit issue")
    NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
    WARRANTY_CLAIM = "warranty_claim", _("Warranty claim")
    REPAIR_REQUEST = "repair_request", _("Repair request")
    CANCEL_ORDER = "cancel_order", _("Cancel order")
    ORDER_STATUS = "order_status", _("Order status")
    PRODUCT_QUESTION = "product_question", _("Product question")
    INSTALLATION_HELP = "installation_help", _("Installation help")
    INVOICE_REQUEST = "invoice_request", _("Invoice request")
    ADDRESS_CHANGE = "address_change", _("Address change")
    COMPLAINT_ESCALATION = "complaint_escalation", _("Complaint about the handling")
    CHARGEBACK_DISPUTE_THREAT = "chargeback_dispute_threat", _("Chargeback or dispute threat")
    PRAISE_THANKS = "praise_thanks", _("Praise or thanks")
    SPAM_OTHER = "spam_other", _("Spam or other")


class Sentiment(models.TextChoices):
    NEGATIVE = "negative", _("Negative")
    NEUTRAL = "neutral", _("Neutral")
    POSITIVE = "positive", _("Positive")


URGENCIES = ("low", "medium", "high")  # the values of inbox.workflow.Urgency

# Why a human must look at a message (TriageResult.reasons).
REASON_THREAT = "threat"
REASON_ABUSIVE = "abusive"
REASON_LOW_CONFIDENCE = "low_confidence"
REASON_SAFETY = "safety"

# Intents that are not a problem with an order: a VIP's message is not made more urgent for these.
NON_PROBLEM_INTENTS = frozenset({Intent.PRAISE_THANKS, Intent.SPAM_OTHER, Intent.PRODUCT_QUESTION})
