"""Data: the default warranty-expiry reminder template ("Warranty: expiry reminder",
returns.notify_templates.REMINDER_TEMPLATES, written in en, es, de, fr, pt, it, zh, ja and ar) for every
existing organization. An organization that already has a template of that name keeps it: it only gets
the written languages it lacks, and only while its English text is still the default one (an admin's
edit is never overwritten). Nothing else is seeded again (a notification template an admin deleted
stays deleted). Reversing keeps the templates."""

from django.db import migrations


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    from aftersales.returns.notify_templates import REMINDER_TEMPLATES, seed_every_organization

    seed_every_organization(apps, schema_editor, REMINDER_TEMPLATES)


class Migration(migrations.Migration):
    dependencies = [("language", "0003_notification_template_languages")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
