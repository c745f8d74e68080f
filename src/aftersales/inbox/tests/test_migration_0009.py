"""Migration 0009 gives existing audit rows an actor: a user's rows become kind "user" with the
user's id, every other row kind "system"."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from aftersales.testing.migrations import applied_apps, scratch_database

BEFORE = [("inbox", "0008_ticket_fk_indexes")]
AFTER = [("inbox", "0009_ticketevent_actor")]


@pytest.mark.django_db
def test_existing_events_get_user_or_system_actors():
    with scratch_database():
        executor = MigrationExecutor(connection)
        executor.migrate(BEFORE)
        old = applied_apps()
        org = old.get_model("accounts", "Organization").objects.create(name="Org", slug="org")
        user = old.get_model("accounts", "User").objects.create(username="agent", organization=org)
        store = old.get_model("catalog", "Store").objects.create(organization=org, name="Amazon US", platform="amazon")
        customer = old.get_model("catalog", "Customer").objects.create(organization=org, name="Ana")
        ticket = old.get_model("inbox", "Ticket").objects.create(
            organization=org, subject="s", store=store, platform="amazon", customer=customer
        )
        Event = old.get_model("inbox", "TicketEvent")
        by_user = Event.objects.create(ticket=ticket, type="assigned", actor=user, payload={}, at=timezone.now())
        by_system = Event.objects.create(ticket=ticket, type="reply_sent", payload={}, at=timezone.now())

        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        new = applied_apps().get_model("inbox", "TicketEvent")
        assert new.objects.values_list("actor_kind", "actor_ref").get(pk=by_user.pk) == ("user", str(user.pk))
        assert new.objects.values_list("actor_kind", "actor_ref").get(pk=by_system.pk) == ("system", "")
