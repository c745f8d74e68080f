"""Build the triage models from the corpus (deterministic): `manage.py triage_train [--force]`."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Train the triage models from src/aftersales/triage/corpus and save them under TRIAGE_MODEL_DIR."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--force", action="store_true", help="Train even when this version is already built")

    def handle(self, *args: Any, **options: Any) -> None:
        from aftersales.triage.artifacts import build

        bundle, path, trained = build(force=options["force"])
        verb = "trained" if trained else "already built"
        self.stdout.write(f"{bundle.version} {verb}: {path}")
        self.stdout.write(json.dumps(bundle.report, default=float))
