"""Reads of the returns app (the marketplace's view of returns, refund requests, inquiries, cases)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from .models import ReturnRequest


def return_requests_of_ticket(*, ticket_id: int) -> QuerySet[ReturnRequest]:
    """The requests a ticket was opened or joined by (the ticket page shows them with their deadline)."""
    return (
        ReturnRequest.objects.filter(ticket_id=ticket_id)
        .select_related("store", "order")
        .prefetch_related("lines")
        .order_by("created_on_platform", "pk")
    )


def return_requests_due(*, organization_id: int, before: datetime) -> QuerySet[ReturnRequest]:
    """Requests whose marketplace deadline (`respond_by`) falls before `before`, soonest first."""
    return (
        ReturnRequest.objects.filter(organization_id=organization_id, respond_by__lt=before)
        .select_related("store", "ticket")
        .order_by("respond_by", "pk")
    )
