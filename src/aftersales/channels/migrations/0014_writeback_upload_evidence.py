# The write-back kind of sending an RMA's evidence picture to the marketplace's dispute (issue 12,
# AliExpress aliexpress.issue.image.upload: channels/platform_evidence.py).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("channels", "0013_writeback_escalate"),
    ]

    operations = [
        migrations.AlterField(
            model_name="writeback",
            name="kind",
            field=models.CharField(
                choices=[
                    ("send_message", "Send a message"),
                    ("decide_return", "Decide a return"),
                    ("issue_refund", "Issue a refund"),
                    ("mark_shipped", "Mark shipped"),
                    ("close_ticket", "Close the platform's ticket"),
                    ("escalate", "Escalate to the platform's support"),
                    ("upload_evidence", "Send evidence to the platform"),
                ],
                max_length=20,
            ),
        ),
    ]
