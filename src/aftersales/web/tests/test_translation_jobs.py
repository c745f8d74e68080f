"""Batch translation from the inbox bulk bar: a job is queued, its progress polled until done."""

from __future__ import annotations

import re

from django.urls import reverse

from aftersales.inbox.models import Message
from aftersales.language.models import TranslationJob

from .conftest import htmx_headers

CREATE = reverse("web:translation_job_create")


def customer_message(ticket, body: str, language: str) -> Message:  # type: ignore[no-untyped-def]
    return Message.objects.create(
        ticket=ticket,
        store=ticket.store,
        direction="inbound",
        channel="amazon",
        body=body,
        language=language,
        external_id=f"in-{ticket.pk}-{language}",
    )


def test_bulk_bar_has_translate_selected(world, login):
    world.ticket()
    html = login(world.agent).get(reverse("web:inbox")).content.decode()
    assert "Translate selected" in html and CREATE in html and 'id="translation-job"' in html


def test_translate_selected_shows_progress_until_done(world, login, django_capture_on_commit_callbacks):
    spanish, german = world.ticket(), world.ticket()
    customer_message(spanish, "Hola, mi paquete no ha llegado todavía.", "es")
    customer_message(german, "Mein Paket ist nicht angekommen.", "de")  # no provider for German here
    client = login(world.agent)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(CREATE, {"ticket_ids": [spanish.pk, german.pk]}, **htmx_headers("translation-job"))
    assert response.status_code == 200
    html = response.content.decode()
    job = TranslationJob.objects.get()
    assert f'hx-get="{reverse("web:translation_job", args=[job.pk])}"' in html and 'hx-trigger="every 1s"' in html
    assert 'data-job-status="queued"' in html and "0 translated, 0 failed, of 2 messages" in html
    for callback in callbacks:  # the worker picks the job up (Huey runs it at once in tests)
        callback()
    done = client.get(reverse("web:translation_job", args=[job.pk]), **htmx_headers()).content.decode()
    assert 'data-job-status="done"' in done and "hx-trigger" not in done
    assert "1 translated, 1 failed, of 2 messages" in done and "100%" in done
    assert re.search(r"<li>Message \d+: no provider translates de to en", done)
    assert "package" in Message.objects.get(ticket=spanish).translations["en"]["text"].lower()


def test_translate_selected_errors(world, login):
    client = login(world.agent)
    nothing = client.post(CREATE, {}, **htmx_headers("translation-job"))
    assert nothing.status_code == 422 and "Select the tickets to translate first." in nothing.content.decode()
    other_team = world.ticket(store=world.store_de)
    hidden = client.post(CREATE, {"ticket_ids": [other_team.pk]}, **htmx_headers("translation-job"))
    assert hidden.status_code == 404 and "some tickets were not found" in hidden.content.decode()
    bad = client.post(CREATE, {"ticket_ids": ["x"]}, **htmx_headers("translation-job"))
    assert bad.status_code == 422
    assert not TranslationJob.objects.exists()


def test_without_javascript_the_job_has_a_page(world, login):
    ticket = world.ticket()
    client = login(world.agent)
    response = client.post(CREATE, {"ticket_ids": [ticket.pk]})
    job = TranslationJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("web:translation_job", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    assert "<html" in page and "Batch translation" in page and "of 0 messages" in page
    foreign = login(world.foreign_user).get(reverse("web:translation_job", args=[job.pk]))
    assert foreign.status_code == 404
