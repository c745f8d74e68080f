"""manage.py policies_export --organization ID [--format json|yaml] [--number N]: print the active
(or a given) version of the organization's return-policy document."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aftersales.accounts.models import Organization
from aftersales.returns.models import ReturnPolicyVersion
from aftersales.returns.policy import DEFAULT_POLICY
from aftersales.returns.policy_store import policy_export_text


class Command(BaseCommand):
    help = "Print an organization's return-policy document (the active version unless --number)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organization", type=int, required=True)
        parser.add_argument("--format", choices=["json", "yaml"], default="json")
        parser.add_argument("--number", type=int, default=None, help="A saved version number")

    def handle(self, *args: Any, **options: Any) -> None:
        if not Organization.objects.filter(pk=options["organization"]).exists():
            raise CommandError(f"no organization {options['organization']}")
        versions = ReturnPolicyVersion.objects.filter(organization_id=options["organization"])
        if options["number"] is not None:
            version = versions.filter(number=options["number"]).first()
            if version is None:
                raise CommandError(f"no version {options['number']}")
        else:
            version = versions.filter(is_active=True).first()
        document = version.document if version is not None else DEFAULT_POLICY
        self.stdout.write(policy_export_text(document, fmt=options["format"]), ending="")
