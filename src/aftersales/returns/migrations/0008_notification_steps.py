"""The per-organization switches of the customer-notification steps (returns.notify_settings) and
their audit; data: the default reply templates of the steps added with them (returns.notify_templates:
parcel on its way, delivered, inspection passed / failed, cancelled, refund paid, warranty replacement
shipped, repair received / shipped back) for every existing organization. Templates that exist (by
name) are left alone; reversing keeps them."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    from aftersales.returns.notify_templates import seed_every_organization

    seed_every_organization(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("language", "0002_reply_template_macro"),
        ("accounts", "0006_membership_lead"),
        ("returns", "0007_refund_review_shared_address"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CustomerNotificationStep",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("step", models.CharField(max_length=30)),
                ("enabled", models.BooleanField()),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="customer_notification_steps",
                        to="accounts.organization",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("organization", "step"), name="customernotificationstep_unique")
                ],
            },
        ),
        migrations.CreateModel(
            name="CustomerNotificationStepChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("step", models.CharField(max_length=30)),
                ("enabled", models.BooleanField()),
                ("via", models.CharField(max_length=10)),
                ("at", models.DateTimeField()),
                (
                    "actor",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="accounts.organization"
                    ),
                ),
            ],
            options={
                "ordering": ["-at", "-id"],
                "indexes": [models.Index(fields=["organization", "-at"], name="customernotifchange_org_at")],
            },
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
