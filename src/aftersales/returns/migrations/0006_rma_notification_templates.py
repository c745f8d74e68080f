"""Data: the default RMA customer-notification reply templates (returns.notify_templates) in en, zh,
de, es and fr for every existing organization. Templates that exist (by name) are left alone; reversing
keeps them (they are the admins' templates now)."""

from django.db import migrations


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    from aftersales.returns.notify_templates import seed_every_organization

    seed_every_organization(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("returns", "0005_refund_review_settings"),
        ("language", "0002_reply_template_macro"),
        ("accounts", "0004_apitoken_scopes_and_expiry"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
