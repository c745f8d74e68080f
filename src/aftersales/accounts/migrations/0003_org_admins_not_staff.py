"""Organization members are never Django staff or superusers.

Until now `create_organization` made each seller's first admin a Django superuser, and the Django
admin is not scoped by organization: one seller's admin could read and change another seller's
users there (issue 7, finding 1). The Django admin is for the installation's operator only, an
account with no organization (`createsuperuser`); sellers configure everything in the agent UI."""

from django.db import migrations
from django.db.models import Q


def demote_members(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    User.objects.filter(Q(is_staff=True) | Q(is_superuser=True), organization__isnull=False).update(
        is_staff=False, is_superuser=False
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_initial")]

    operations = [migrations.RunPython(demote_members, migrations.RunPython.noop)]
