from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("channels", "0006_template_header_buttons"),
    ]

    operations = [
        migrations.CreateModel(
            name="WorkerLease",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=200, unique=True)),
                ("holder", models.CharField(blank=True, default="", max_length=120)),
                ("expires_at", models.DateTimeField(blank=True, null=True)),
                ("acquired_at", models.DateTimeField(blank=True, null=True)),
            ],
        ),
    ]
