"""Translation-job visibility is one selector (language.selectors.translation_job_get) used by the
API and the web UI: an agent whose teams do not cover a job's tickets gets 404 from both."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from aftersales.language.models import TranslationJob


def _outcomes(world, user, job_id: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    api = client.get(f"/api/v1/translation-jobs/{job_id}").status_code
    web = client.get(reverse("web:translation_job", args=[job_id])).status_code
    return api, web


def test_a_job_of_another_teams_tickets_is_not_found_in_the_api_and_the_web_ui(world):
    ticket = world.ticket()  # US store: alice's team, not carol's
    job = TranslationJob.objects.create(organization=world.org, created_by=world.agent, ticket_ids=[ticket.pk])
    assert _outcomes(world, world.outsider, job.pk) == (404, 404)  # the web UI answered 200 before
    assert _outcomes(world, world.foreign_user, job.pk) == (404, 404)
    assert _outcomes(world, world.teammate, job.pk) == (200, 200)
    assert _outcomes(world, world.viewer, job.pk) == (200, 200)
    assert _outcomes(world, world.admin, job.pk) == (200, 200)


def test_a_job_is_hidden_when_one_of_its_tickets_is_out_of_scope(world):
    us, de = world.ticket(), world.ticket(store=world.store_de)
    job = TranslationJob.objects.create(organization=world.org, created_by=world.admin, ticket_ids=[us.pk, de.pk])
    assert _outcomes(world, world.agent, job.pk) == (404, 404)
    assert _outcomes(world, world.outsider, job.pk) == (404, 404)
    assert _outcomes(world, world.admin, job.pk) == (200, 200)
