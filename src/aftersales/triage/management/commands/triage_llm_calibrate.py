"""Calibrate an organization's LLM classification provider on the corpus's calibration split (dev), per
language where there are enough answers, and measure it on the held-out split:
`manage.py triage_llm_calibrate --organization <id> [--limit N] [--concurrency N]` (the settings
page's "Calibrate" button runs the same service in the worker)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Run the organization's configured LLM provider over the calibration split (dev), fit a monotone map from "
        "its reported confidence to the observed accuracy (globally and per language with enough answers), measure "
        "it on the held-out split, and store it with the provider settings."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--organization", type=int, required=True, help="The organization's id")
        parser.add_argument("--limit", type=int, default=None, help="An even sample of N messages of each split")
        parser.add_argument("--concurrency", type=int, default=None, help="Requests in flight (default 4)")
        parser.add_argument("--no-heldout", action="store_true", help="Skip the held-out measurement")

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
                organization_id=organization_id,
                limit=options["limit"],
                concurrency=options["concurrency"],
                heldout=not options["no_heldout"],
            )
        except ValidationFailed as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from exc
        self.stdout.write(
            f"calibrated {calibration['model']} on {calibration['answered']} of {calibration['examples']} calibration "
            f"({calibration['split']}) messages: accuracy {calibration['accuracy']:.3f}, mean reported confidence "
            f"{calibration['mean_reported']:.3f}, ECE {calibration['ece_before']:.3f} -> {calibration['ece_after']:.3f}"
        )
        self.stdout.write(f"own maps: {sorted(calibration['languages']) or 'none (global map only)'}")
        held = calibration.get("heldout")
        if held:
            self.stdout.write(
                f"held-out (never fitted on): {held['answered']} of {held['examples']} answered, accuracy "
                f"{held['accuracy']:.3f}, ECE {held['ece_before']:.3f} -> {held['ece_after']:.3f}; per language: "
                + ", ".join(
                    f"{lang} {f['accuracy']:.2f}/{f['ece_before']:.2f}->{f['ece_after']:.2f}"
                    for lang, f in held["languages"].items()
                )
            )
        self.stdout.write(json.dumps(calibration["points"]))
