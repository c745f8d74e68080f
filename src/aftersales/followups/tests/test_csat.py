"""CSAT: the signed link (tampering, expiry), the rating (1-5 only, naming the field; re-rating until
expiry), the rating page in the buyer's language (Arabic right to left) and its request budget,
the rating on the ticket and through the API, CSAT per agent and team."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client

from aftersales.core.clock import now
from aftersales.core.errors import ValidationFailed
from aftersales.followups import jobs
from aftersales.followups.links import make_token
from aftersales.followups.models import CsatResponse, FollowUp
from aftersales.followups.selectors import SurveyLinkExpired, SurveyLinkInvalid, csat_summary
from aftersales.followups.services import csat_rate
from aftersales.inbox.models import Message, MessageDirection

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(world, config, solved):  # type: ignore[no-untyped-def]
    """A sent survey: (follow-up row, token, ticket)."""
    ticket = solved(language="ar", assignee=world.agent, team=world.team_de)
    jobs.csat_surveys_send()
    message = Message.objects.get(ticket=ticket, direction=MessageDirection.OUTBOUND)
    token = re.search(r"/r/([^ /]+)/", message.body).group(1)  # type: ignore[union-attr]
    return FollowUp.objects.get(ticket=ticket), token, ticket


def test_rating_is_stored_and_can_be_changed_until_expiry(survey):
    row, token, ticket = survey
    first = csat_rate(token=token, rating=2, comment="slow")
    again = csat_rate(token=token, rating="5", comment="")
    assert first.pk == again.pk and CsatResponse.objects.count() == 1
    again.refresh_from_db()
    assert (again.rating, again.comment, again.changes, again.agent_id) == (5, "", 1, ticket.assignee_id)
    with pytest.raises(SurveyLinkExpired):
        csat_rate(token=token, rating=4, at=row.expires_at + timedelta(seconds=1))


@pytest.mark.parametrize("bad", [0, 6, "x", "", "10", -1, 3.5, True, None])
def test_rating_out_of_range_names_the_field(survey, bad):
    _row, token, _ticket = survey
    with pytest.raises(ValidationFailed) as caught:
        csat_rate(token=token, rating=bad)
    assert caught.value.field == "rating"
    assert not CsatResponse.objects.exists()


def test_tampered_and_foreign_tokens_are_refused(survey):
    row, token, _ticket = survey
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (tampered, "nonsense", make_token(row.pk, now() + timedelta(days=1)) + "x"):
        with pytest.raises(SurveyLinkInvalid) as caught:
            csat_rate(token=bad, rating=4)
        assert caught.value.field == "token"
    with pytest.raises(SurveyLinkInvalid):  # a genuine signature naming no sent survey
        csat_rate(token=make_token(row.pk + 999, now() + timedelta(days=1)), rating=4)
    with pytest.raises(SurveyLinkExpired):  # a genuine token whose own expiry has passed
        csat_rate(token=make_token(row.pk, now() - timedelta(seconds=1)), rating=4)


def test_rating_page_in_arabic_right_to_left_and_one_click(survey):
    _row, token, ticket = survey
    client = Client()
    page = client.get(f"/r/{token}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'dir="rtl"' in html and 'lang="ar"' in html and "كيف كانت خدمتنا؟" in html
    assert html.count('name="rating"') == 5
    done = client.post(f"/r/{token}/", {"rating": "4", "comment": "شكرا"})
    assert done.status_code == 200 and "data-saved" in done.content.decode()
    assert CsatResponse.objects.get(ticket=ticket).rating == 4
    assert 'data-current="4"' in client.get(f"/r/{token}/").content.decode()


@pytest.mark.parametrize("bad", ["0", "6", "x"])
def test_rating_page_refuses_a_bad_rating_naming_the_field(survey, bad):
    _row, token, _ticket = survey
    response = Client().post(f"/r/{token}/", {"rating": bad})
    assert response.status_code == 422
    assert 'data-error-field="rating"' in response.content.decode()
    assert not CsatResponse.objects.exists()


def test_rating_page_for_tampered_and_expired_links(survey):
    row, token, _ticket = survey
    bad = Client().get(f"/r/{token[:-3]}xyz/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")
    assert bad.status_code == 400 and 'data-notice="invalid"' in bad.content.decode()
    assert "Link ist ungültig" in bad.content.decode()
    FollowUp.objects.filter(pk=row.pk).update(expires_at=now() - timedelta(minutes=1))
    gone = Client().post(f"/r/{token}/", {"rating": "5"})
    assert gone.status_code == 410 and 'data-notice="expired"' in gone.content.decode()
    assert not CsatResponse.objects.exists()


def test_rating_page_is_rate_limited(survey, settings):
    _row, token, _ticket = survey
    settings.PORTAL_RATE_LIMIT = 3
    client = Client(REMOTE_ADDR="203.0.113.9")
    codes = [client.get(f"/r/{token}/").status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert Client(REMOTE_ADDR="203.0.113.10").get(f"/r/{token}/").status_code == 200


def test_rating_on_the_ticket_page_and_through_the_api(world, survey):
    from aftersales.api.tests.helpers import ApiClient

    _row, token, ticket = survey
    csat_rate(token=token, rating=3, comment="ok")
    page = Client()
    page.force_login(world.admin)
    html = page.get(f"/tickets/{ticket.pk}/").content.decode()
    assert 'data-csat="3"' in html and 'data-followup="csat_survey"' in html
    body = ApiClient(user=world.admin).request("GET", f"/tickets/{ticket.pk}/follow-ups").json()
    assert body["csat"]["rating"] == 3 and body["follow_ups"][0]["outcome"] == "sent"
    outsider = ApiClient(user=world.foreign_user).request("GET", f"/tickets/{ticket.pk}/follow-ups")
    assert outsider.status_code == 404


def test_csat_per_agent_and_team_over_a_period(world, config, solved):
    tickets = [solved(assignee=world.agent, team=world.team_de) for _ in range(3)]
    tickets.append(solved(assignee=world.teammate, team=world.team_de))
    jobs.csat_surveys_send()
    for ticket, rating in zip(tickets, (5, 4, 1, 2), strict=True):
        token = re.search(r"/r/([^ /]+)/", Message.objects.get(ticket=ticket, direction="outbound").body).group(1)  # type: ignore[union-attr]
        csat_rate(token=token, rating=rating)
    by_agent = {r.group_id: r for r in csat_summary(world.approver, group_by="agent")}
    assert (by_agent[world.agent.pk].responses, by_agent[world.agent.pk].average) == (3, 3.33)
    assert by_agent[world.agent.pk].satisfied_percent == 66.7
    (team,) = csat_summary(world.admin, group_by="team")
    assert (team.group_id, team.responses, team.average) == (world.team_de.pk, 4, 3.0)
    assert csat_summary(world.admin, group_by="agent", since=now() + timedelta(minutes=1)) == []
    with pytest.raises(ValidationFailed):
        csat_summary(world.admin, group_by="store")
