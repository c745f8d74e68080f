import getpass
import os

from django.core.management.base import BaseCommand, CommandError

from aftersales.accounts.services import organization_create
from aftersales.core.errors import DomainError


class Command(BaseCommand):
    help = "Create a seller organization with its default roles and first admin user."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("name")
        parser.add_argument("--admin", required=True, help="username of the first admin")
        parser.add_argument("--email", required=True)
        parser.add_argument("--timezone", default="Asia/Shanghai")
        parser.add_argument("--language", default="zh-hans", choices=["zh-hans", "en"])

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        password = os.environ.get("AFTERSALES_ADMIN_PASSWORD") or getpass.getpass("Admin password: ")
        try:
            org, user = organization_create(
                name=options["name"],
                admin_username=options["admin"],
                admin_email=options["email"],
                admin_password=password,
                timezone_name=options["timezone"],
                language=options["language"],
            )
        except DomainError as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from exc
        self.stdout.write(self.style.SUCCESS(f"created {org.name} ({org.slug}) with admin {user.username}"))
