"""manage.py policies_import --organization ID FILE: store a JSON or YAML return-policy document as
the organization's new active version (the previous versions are kept)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aftersales.accounts.models import Organization
from aftersales.core.errors import ValidationFailed
from aftersales.returns.policy_store import policy_import


class Command(BaseCommand):
    help = "Import a return-policy document (JSON or YAML) as the organization's new active version."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organization", type=int, required=True, help="Organization id")
        parser.add_argument("--comment", default="", help="Shown in the version list")
        parser.add_argument("file", help="Path of the document, or - for standard input")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(pk=options["organization"]).first()
        if organization is None:
            raise CommandError(f"no organization {options['organization']}")
        name = options["file"]
        try:
            text = self.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")  # type: ignore[attr-defined]
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {name}: {exc}") from None
        try:
            version = policy_import(organization=organization, text=text, comment=options["comment"])
        except ValidationFailed as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"imported as version {version.number} (active) for {organization}")
