"""The customer-notification step switches' own audit (CustomerNotificationStepChange) folded into the
organization settings audit (accounts.OrgSettingChange): each row is copied as the setting
`customer_notification.<step>` from the opposite switch to the recorded one (a row was written only when
a switch changed), unless the settings audit already holds it (both were written since accounts 0007);
then the model is dropped."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import migrations

SAME_CHANGE = timedelta(seconds=5)  # the two audits stamped one change a moment apart


def copy_step_changes(apps: Any, schema_editor: Any) -> None:
    StepChange = apps.get_model("returns", "CustomerNotificationStepChange")
    OrgSettingChange = apps.get_model("accounts", "OrgSettingChange")
    existing: dict[tuple[int, str, int | None, str], list[Any]] = {}
    for row in OrgSettingChange.objects.filter(setting__startswith="customer_notification.").values(
        "organization_id", "setting", "actor_id", "via", "new_value", "at"
    ):
        key = (row["organization_id"], row["setting"], row["actor_id"], row["via"])
        existing.setdefault(key, []).append((row["new_value"], row["at"]))
    copies = []
    for change in StepChange.objects.order_by("at", "id").iterator():
        setting = f"customer_notification.{change.step}"
        key = (change.organization_id, setting, change.actor_id, change.via)
        if any(value == change.enabled and abs(at - change.at) <= SAME_CHANGE for value, at in existing.get(key, [])):
            continue
        copies.append(
            OrgSettingChange(
                organization_id=change.organization_id,
                actor_id=change.actor_id,
                setting=setting,
                old_value=not change.enabled,
                new_value=change.enabled,
                via=change.via,
                at=change.at,
            )
        )
    OrgSettingChange.objects.bulk_create(copies, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_org_setting_changes"),
        ("returns", "0009_return_request_platform_state"),
    ]

    operations = [
        migrations.RunPython(copy_step_changes, migrations.RunPython.noop),
        migrations.DeleteModel(name="CustomerNotificationStepChange"),
    ]
