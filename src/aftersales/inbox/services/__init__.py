"""Writes of the inbox. Each function is one transaction; checks (`check_*` in
accounts.permissions and here) run before; side effects run after commit through events."""

from .category_labels import CategoryLabelRow, category_label_rows, category_labels_set
from .delivery import message_deliver, message_retry_delivery, messages_fail_stale_sending
from .ingest import AttachmentInput, InboundMessage, IngestProbe, IngestResult, inbound_store_probe, message_ingest
from .saved_views import saved_view_create, saved_view_delete
from .search import customer_search_refresh, search_rebuild, ticket_search_refresh
from .tickets import (
    BulkAction,
    BulkResult,
    check_tag_name,
    ticket_add_note,
    ticket_assign,
    ticket_change_status,
    ticket_merge,
    ticket_reply,
    ticket_reply_idempotent,
    ticket_routing_unchanged,
    ticket_set_detected_language,
    ticket_set_tags,
    ticket_update,
    tickets_bulk_apply,
    tickets_set_detected_language,
)

__all__ = [
    "AttachmentInput",
    "BulkAction",
    "BulkResult",
    "CategoryLabelRow",
    "InboundMessage",
    "IngestProbe",
    "IngestResult",
    "category_label_rows",
    "category_labels_set",
    "check_tag_name",
    "customer_search_refresh",
    "inbound_store_probe",
    "message_deliver",
    "message_ingest",
    "message_retry_delivery",
    "messages_fail_stale_sending",
    "saved_view_create",
    "saved_view_delete",
    "search_rebuild",
    "ticket_add_note",
    "ticket_assign",
    "ticket_change_status",
    "ticket_merge",
    "ticket_reply",
    "ticket_reply_idempotent",
    "ticket_routing_unchanged",
    "ticket_search_refresh",
    "ticket_set_detected_language",
    "ticket_set_tags",
    "ticket_update",
    "tickets_bulk_apply",
    "tickets_set_detected_language",
]
