"""Run the follow-up jobs now (what the worker's periodic tasks do), e.g. after changing the settings
or on a machine without the worker: `manage.py followups_run [--job csat|thanks|stalled|warranty]`.
Safe to run at any time: every follow-up is claimed by its unique key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from aftersales.followups import jobs

JOBS = {
    "csat": jobs.csat_surveys_send,
    "thanks": jobs.complaint_thanks_send,
    "stalled": jobs.stalled_parcels_notify,
    "warranty": jobs.warranty_reminders_deliver,
}


class Command(BaseCommand):
    help = "Run the follow-up jobs now; prints how many messages each sent."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--job", choices=sorted(JOBS), action="append", help="Only this job (repeatable)")

    def handle(self, *args: Any, **options: Any) -> None:
        for name in options["job"] or list(JOBS):
            sent = JOBS[name]()
            self.stdout.write(f"{name}: {sent} sent")
