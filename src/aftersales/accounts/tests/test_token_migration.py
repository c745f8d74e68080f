"""Migration accounts/0004: tokens made before scopes and lifetimes keep working with what they could
do (read, write, admin; not tokens) and those without an expiry get 90 days."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from aftersales.testing.migrations import scratch_database

BEFORE = [("accounts", "0003_org_admins_not_staff")]
AFTER = [("accounts", "0004_apitoken_scopes_and_expiry")]


@pytest.mark.django_db
def test_existing_tokens_are_upgraded():
    with scratch_database():
        executor = MigrationExecutor(connection)
        executor.migrate(BEFORE)
        old_apps = executor.loader.project_state(BEFORE).apps
        Organization = old_apps.get_model("accounts", "Organization")
        User = old_apps.get_model("accounts", "User")
        ApiToken = old_apps.get_model("accounts", "ApiToken")
        org = Organization.objects.create(name="Old seller", slug="old-seller")
        user = User.objects.create(username="old-integrator", organization=org)
        soon = timezone.now() + timedelta(days=3)
        eternal = ApiToken.objects.create(user=user, name="eternal", prefix="as_eternal", digest="a" * 64)
        dated = ApiToken.objects.create(user=user, name="dated", prefix="as_dated", digest="b" * 64, expires_at=soon)

        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(AFTER)
        new_apps = executor.loader.project_state(AFTER).apps
        Upgraded = new_apps.get_model("accounts", "ApiToken")
        eternal_now = Upgraded.objects.get(pk=eternal.pk)
        dated_now = Upgraded.objects.get(pk=dated.pk)
        assert eternal_now.scopes == ["read", "write", "admin"] and dated_now.scopes == ["read", "write", "admin"]
        assert timedelta(days=89) < eternal_now.expires_at - timezone.now() <= timedelta(days=90)
        assert dated_now.expires_at == soon
