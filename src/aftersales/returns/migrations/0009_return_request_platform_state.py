"""ReturnRequest.platform_state: the platform's status word in one vocabulary (each connector's
RETURN_STATES); stored requests get theirs from their store's connector mapping."""

from importlib import import_module

from django.db import migrations, models

STATES = [
    ("open", "Waiting for the seller"),
    ("waiting_buyer", "Waiting for the buyer"),
    ("escalated", "Escalated to the marketplace"),
    ("rejected", "Declined by the seller"),
    ("completed", "Completed"),
    ("cancelled", "Cancelled by the buyer"),
    ("closed", "Closed by the marketplace"),
    ("unknown", "Unknown"),
]


def backfill(apps, schema_editor):  # type: ignore[no-untyped-def]
    ReturnRequest = apps.get_model("returns", "ReturnRequest")
    pairs = ReturnRequest.objects.values_list("store__platform", "platform_status").distinct()
    for platform, status in list(pairs):
        try:
            mapping = import_module(f"aftersales.channels.connectors.{platform}.mapping")
        except ImportError:
            continue
        return_state = getattr(mapping, "return_state", None)
        if return_state is None:
            continue
        state = str(return_state(status))
        if state != "unknown":
            ReturnRequest.objects.filter(store__platform=platform, platform_status=status).update(platform_state=state)


class Migration(migrations.Migration):
    dependencies = [
        ("returns", "0008_notification_steps"),
    ]

    operations = [
        migrations.AddField(
            model_name="returnrequest",
            name="platform_state",
            field=models.CharField(
                choices=STATES,
                default="unknown",
                help_text="platform_status in one vocabulary for every platform (the connector's mapping)",
                max_length=16,
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
