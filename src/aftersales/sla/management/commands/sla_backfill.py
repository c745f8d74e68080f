"""Compute the SLA clocks of tickets that have none (tickets older than the sla app): see
sla.services.sla_backfill. Safe to run twice."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from aftersales.sla.services import sla_backfill


class Command(BaseCommand):
    help = "Compute the SLA clocks of tickets that have none (e.g. older than the sla app)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organization", type=int, default=None, help="Only this organization's tickets (id)")
        parser.add_argument("--batch", type=int, default=500, help="Tickets per batch (default 500)")

    def handle(self, *args: Any, **options: Any) -> None:
        written = sla_backfill(organization_id=options["organization"], batch=max(1, options["batch"]))
        self.stdout.write(f"{written} ticket clocks computed")
