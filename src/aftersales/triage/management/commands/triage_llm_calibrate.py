"""Calibrate an organization's LLM classification provider on the corpus's held-out split:
`manage.py triage_llm_calibrate --organization <id> [--limit N] [--concurrency N]` (the settings
page's "Calibrate" button runs the same service in the worker)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Run the organization's configured LLM provider over the held-out split, fit a monotone map from its "
        "reported confidence to the observed accuracy, and store it with the provider settings."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--organization", type=int, required=True, help="The organization's id")
        parser.add_argument("--limit", type=int, default=None, help="An even sample of N held-out messages")
        parser.add_argument("--concurrency", type=int, default=None, help="Requests in flight (default 4)")

    def handle(self, *args: Any, **options: Any) -> None:
        from aftersales.core.errors import ValidationFailed
        from aftersales.triage.models import LLMProviderSettings
        from aftersales.triage.services import llm_provider_calibrate

        organization_id = options["organization"]
        if not LLMProviderSettings.objects.filter(pk=organization_id).exists():
            raise CommandError(f"organization {organization_id} has no LLM provider settings")
        if options["limit"] is not None and options["limit"] < 1:
            raise CommandError("--limit must be at least 1")
        try:
            calibration = llm_provider_calibrate(
                organization_id=organization_id, limit=options["limit"], concurrency=options["concurrency"]
            )
        except ValidationFailed as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from exc
        self.stdout.write(
            f"calibrated {calibration['model']} on {calibration['answered']} of {calibration['examples']} held-out "
            f"messages: accuracy {calibration['accuracy']:.3f}, mean reported confidence "
            f"{calibration['mean_reported']:.3f}, ECE {calibration['ece_before']:.3f} -> {calibration['ece_after']:.3f}"
        )
        self.stdout.write(json.dumps(calibration["points"]))
