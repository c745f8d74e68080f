"""Settings > Triage and routing, and the skills and routing strategy on the people pages (issue 11)."""

from __future__ import annotations

from aftersales.accounts.models import Team, User
from aftersales.triage.selectors import triage_settings_of


def test_admin_turns_triage_and_routing_switches(world, client):
    client.force_login(world.admin)
    page = client.get("/settings/triage/")
    assert page.status_code == 200
    assert 'name="apply_results" checked' in page.content.decode()
    response = client.post("/settings/triage/", {"auto_route": "on"})
    assert response.status_code == 302
    switches = triage_settings_of(world.org.pk)
    assert (switches.apply_results, switches.auto_route) == (False, True)
    client.force_login(world.agent)
    assert client.post("/settings/triage/", {"apply_results": "on"}).status_code == 403
    assert triage_settings_of(world.org.pk).apply_results is False


def _user_form(world, **extra):  # type: ignore[no-untyped-def]
    return {
        "display_name": "Carol",
        "email": "",
        "role_id": world.roles["agent"].pk,
        "team_ids": [world.team_de.pk],
        "language": "en",
        "is_active": ["0", "1"],
        **extra,
    }


def test_admin_edits_an_agents_skills(world, client):
    client.force_login(world.admin)
    page = client.get(f"/settings/users/{world.outsider.pk}/")
    assert page.status_code == 200 and 'name="skill_categories"' in page.content.decode()
    response = client.post(
        f"/settings/users/{world.outsider.pk}/",
        _user_form(world, skill_languages=["de"], skill_platforms=["ebay"], skill_categories=["refund", "return"]),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    carol = User.objects.get(pk=world.outsider.pk)
    assert (carol.skill_languages, carol.skill_platforms, carol.skill_categories) == (
        ["de"],
        ["ebay"],
        ["refund", "return"],
    )
    refused = client.post(f"/settings/users/{world.outsider.pk}/", _user_form(world, skill_platforms=["myspace"]))
    assert refused.status_code == 422 and 'id="error-skill_platforms"' in refused.content.decode()


def test_admin_sets_a_teams_routing_strategy(world, client):
    client.force_login(world.admin)
    response = client.post(
        f"/settings/teams/{world.team_de.pk}/",
        {"name": "DE team", "store_ids": [world.store_de.pk], "routing_strategy": "round_robin"},
    )
    assert response.status_code == 302
    assert Team.objects.get(pk=world.team_de.pk).routing_strategy == "round_robin"
    assert 'value="round_robin" selected' in client.get(f"/settings/teams/{world.team_de.pk}/").content.decode()
