"""API tokens get scopes and a finite lifetime (issue 7, finding 8).

Until now a token acted with every permission of its user, could be created by another token, and
could live forever. From now on every token carries scopes (read, write, admin, tokens; checked on
every API route, and never more than the user's role) and an expiry.

Existing tokens are upgraded so that no integration breaks today:
- scopes: ["read", "write", "admin"], what they could do before (a token of a non-admin user still
  cannot administer: scopes only take permissions away). Not "tokens": minting tokens with a token
  was the hole being closed; an owner who needs it creates a new token with that scope.
- a token without an expiry now expires 90 days after this migration runs (the default lifetime of a
  new token), so forgotten eternal tokens die; a token with an expiry keeps it.
The expiry becomes required (NOT NULL) afterwards."""

from datetime import timedelta

from django.db import migrations, models
from django.utils import timezone

UPGRADE_SCOPES = ["read", "write", "admin"]
UPGRADE_LIFETIME = timedelta(days=90)


def upgrade_tokens(apps, schema_editor):
    ApiToken = apps.get_model("accounts", "ApiToken")
    ApiToken.objects.update(scopes=UPGRADE_SCOPES)
    ApiToken.objects.filter(expires_at__isnull=True).update(expires_at=timezone.now() + UPGRADE_LIFETIME)
    if schema_editor.connection.vendor == "postgresql":
        # Run the deferred foreign-key checks of these updates now: PostgreSQL refuses the ALTER TABLE
        # below while trigger events are pending in the same transaction.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_org_admins_not_staff")]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="scopes",
            field=models.JSONField(default=list, help_text='TokenScope values, e.g. ["read", "write"]'),
        ),
        migrations.RunPython(upgrade_tokens, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(),
        ),
    ]
