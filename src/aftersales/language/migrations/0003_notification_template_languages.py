"""Data: the customer-notification reply templates (returns.notify_templates) in the languages added
after returns 0006 and 0008 seeded them (Portuguese, Italian, Japanese, Arabic), for every existing
organization: a default template gets the written languages it lacks, and its machine translations
nobody reviewed yet are replaced, only while its source text is still the default one. A template an
admin rewrote or deleted is left alone. Reversing keeps the variants."""

from django.db import migrations


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    from aftersales.returns.notify_templates import seed_every_organization

    seed_every_organization(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("language", "0002_reply_template_macro"),
        ("returns", "0008_notification_steps"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
