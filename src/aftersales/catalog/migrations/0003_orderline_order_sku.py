"""(order, sku) index on order lines for the inbox's `sku` filter (docs/adr/0003-inbox-indexes.md);
it also serves every lookup by order, so the foreign key's own index is dropped, after the new
one exists."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_search_indexes")]

    operations = [
        migrations.AddIndex(
            model_name="orderline",
            index=models.Index(fields=["order", "sku"], name="orderline_order_sku"),
        ),
        migrations.AlterField(
            model_name="orderline",
            name="order",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="lines",
                to="catalog.order",
            ),
        ),
    ]
