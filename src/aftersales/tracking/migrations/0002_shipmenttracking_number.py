import re

from django.db import migrations, models


def fill_numbers(apps, schema_editor):
    """Existing rows: the shipment's number without spaces and dashes, in capitals."""
    ShipmentTracking = apps.get_model("tracking", "ShipmentTracking")
    for row in ShipmentTracking.objects.select_related("shipment").iterator():
        row.number = re.sub(r"[\s-]", "", row.shipment.tracking_number or "").upper()[:80]
        row.save(update_fields=["number"])


class Migration(migrations.Migration):
    dependencies = [
        ("tracking", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="shipmenttracking",
            name="number",
            field=models.CharField(blank=True, help_text="The shipment's number as registered", max_length=80),
        ),
        migrations.AddIndex(
            model_name="shipmenttracking",
            index=models.Index(fields=["account", "number"], name="shiptrack_number"),
        ),
        migrations.RunPython(fill_numbers, migrations.RunPython.noop),
    ]
