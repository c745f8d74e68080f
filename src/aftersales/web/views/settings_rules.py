"""Settings > Rules for organization admins (issue 11 §1): the list (enabled, priority, trigger, last
run, matches; enabling or disabling several at once), the editor (a condition builder with htmx
add/remove of rows and groups, and a raw JSON editor; both checked by the service the API uses,
refusals shown on the row they name), versions, the execution log, conflicts, the dry run and A/B
experiments. The rule's executions also show on the ticket page (`ticket_rules`). Views parse the
form, call one service or selector and render."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm
from aftersales.accounts.selectors import teams_of_organization, users_of_organization
from aftersales.catalog.selectors import stores_of_organization
from aftersales.core.errors import DomainError, PermissionDenied, ValidationFailed
from aftersales.language.selectors import reply_templates
from aftersales.rules import (
    conflict_review,
    experiment_results,
    experiments,
    overview,
    selectors,
    services,
    simulate,
    simulation_runs,
    webhook_secrets,
)
from aftersales.rules.actions import REGISTRY
from aftersales.rules.fields import FIELDS
from aftersales.rules.models import Rule, RuleTrigger
from aftersales.sla.selectors import calendar_list

from ..access import AgentRequest, user_timezone, web_view
from ..rule_builder import (
    RuleForm,
    apply_builder,
    attach_error,
    document_from_form,
    form_from_document,
    form_from_post,
    new_form,
)

OPERATORS = (
    "eq",
    "ne",
    "in",
    "not_in",
    "gt",
    "gte",
    "lt",
    "lte",
    "between",
    "contains",
    "regex",
    "starts_with",
    "is_empty",
    "days_since",
    "within_business_hours",
)


def _refusal(exc: DomainError) -> None:
    """Refusals of the request itself (forbidden, another organization's object) are error pages."""
    if isinstance(exc, PermissionDenied) or exc.status_code == 404:
        raise exc


def _message(exc: DomainError) -> str:
    return exc.message if not exc.field or exc.message.startswith(exc.field) else f"{exc.field}: {exc.message}"


def _tz(request: AgentRequest) -> str:
    """The organization's time zone: the builder shows and reads instants in it."""
    return user_timezone(request.user).key


def _form_from_post(request: AgentRequest) -> RuleForm:
    return form_from_post(request.POST, tz=_tz(request))


def rule_document(rule: Rule) -> dict[str, Any]:
    version = rule.current_version
    content = version.document() if version is not None else {}
    return {"name": rule.name, "trigger": rule.trigger, "priority": rule.priority, "enabled": rule.enabled, **content}


def _editor_context(request: AgentRequest, form: RuleForm) -> dict[str, Any]:
    return {
        "settings_section": "rules",
        "form": form,
        "triggers": RuleTrigger.choices,
        "fields": list(FIELDS.values()),
        "operators": OPERATORS,
        "action_types": [(slug, str(action.label)) for slug, action in REGISTRY.items()],
        "stores": list(stores_of_organization(request.user)),
        "calendars": list(calendar_list(request.user)),
        "teams": list(teams_of_organization(request.user)),
        "agents": users_of_organization(request.user),
        "days_cmps": [("gte", "≥"), ("gt", ">"), ("lte", "≤"), ("lt", "<"), ("eq", "=")],
        "templates": list(reply_templates(organization_id=request.user.organization_id or 0).only("pk", "name")),
    }


def _editor(
    request: AgentRequest, form: RuleForm, *, status: int = 200, rule: Rule | None = None, **extra: Any
) -> HttpResponse:
    """The editor page (or, for an htmx builder button, the builder alone)."""
    context = {**_editor_context(request, form), "rule": rule, **extra}
    if rule is not None:
        context.update(
            versions=list(selectors.rule_versions(request.user, rule.pk)[:20]),
            executions=selectors.rule_executions(request.user, rule.pk, limit=50),
            conflicts=extra.get("conflicts", conflict_review.rule_conflicts_of(request.user, rule.pk)),
            experiments=list(experiment_results.experiment_list(request.user, rule_id=rule.pk)[:5]),
            webhook_signing=webhook_secrets.rule_webhook_secrets(request.user, rule.pk),
            rule_pk=str(rule.pk),
        )
    return render(request, "rules/edit.html", context, status=status)


@web_view(methods=("GET",))
def settings_rules(request: AgentRequest) -> HttpResponse:
    rows = overview.rule_overview(request.user)
    return render(request, "rules/list.html", {"settings_section": "rules", "rows": rows, "triggers": RuleTrigger})


@web_view(methods=("GET",))
def settings_rule_new(request: AgentRequest) -> HttpResponse:
    check_perm(request.user, Permission.ADMINISTER)
    return _editor(request, new_form(tz=_tz(request)))


@web_view(methods=("GET",))
def settings_rule(request: AgentRequest, rule_id: int) -> HttpResponse:
    rule = selectors.rule_detail(request.user, rule_id)
    return _editor(request, form_from_document(rule_document(rule), rule_id=rule.pk, tz=_tz(request)), rule=rule)


def _rule_of(request: AgentRequest, form: RuleForm) -> Rule | None:
    return selectors.rule_detail(request.user, form.rule_id) if form.rule_id else None


def _refused(request: AgentRequest, form: RuleForm, exc: DomainError, **extra: Any) -> HttpResponse:
    _refusal(exc)
    if not (isinstance(exc, ValidationFailed) and attach_error(form.tree, form.actions, exc)):
        form.error = _message(exc)
    return _editor(request, form, status=exc.status_code, rule=_rule_of(request, form), **extra)


@web_view(methods=("POST",))
def settings_rule_save(request: AgentRequest) -> HttpResponse:
    """Create a rule, or replace the document of `rule_id` (a new version when the content changed).
    A `builder` button only edits the form (htmx: the builder is swapped in place)."""
    check_perm(request.user, Permission.ADMINISTER)
    form = _form_from_post(request)
    command = request.POST.get("builder", "")
    if command:
        apply_builder(form.tree, form.actions, command)
        if request.htmx:
            return render(request, "rules/_builder.html", _editor_context(request, form))
        return _editor(request, form, rule=_rule_of(request, form))
    try:
        document = document_from_form(form)
        if form.rule_id:
            rule = services.rule_update(user=request.user, rule_id=form.rule_id, data=document)
        else:
            rule = services.rule_create(user=request.user, data=document)
    except DomainError as exc:
        return _refused(request, form, exc)
    number = rule.current_version.number if rule.current_version else 0
    messages.success(request, _("Rule saved (version %(n)s).") % {"n": number})
    return redirect("web:settings_rule", rule_id=rule.pk)


@web_view(methods=("POST",))
def settings_rule_webhook_secret_rotate(request: AgentRequest, rule_id: int) -> HttpResponse:
    """Make or rotate the rule's signing secret of one webhook URL; the new secret is shown on this
    answer only (not in a message: those are kept in the session)."""
    try:
        made = webhook_secrets.rule_webhook_secret_rotate(
            user=request.user, rule_id=rule_id, url=request.POST.get("url", "")
        )
    except DomainError as exc:
        _refusal(exc)
        messages.error(request, _message(exc))
        return redirect("web:settings_rule", rule_id=rule_id)
    rule = selectors.rule_detail(request.user, rule_id)
    form = form_from_document(rule_document(rule), rule_id=rule.pk, tz=_tz(request))
    return _editor(request, form, rule=rule, revealed_secret=made)


SIMULATION_PAGE_EVENTS = 500  # events examined per request: the first results show early


def _carried(post: Any) -> tuple[int, int, float, dict[str, int]]:
    """The running totals the previous pages handed on (examined, matched, ms, action counts)."""
    try:
        examined = int(post.get("sim_examined") or 0)
        matched = int(post.get("sim_matched") or 0)
        ms = float(post.get("sim_ms") or 0)
        counts = {}
        for item in filter(None, str(post.get("sim_counts") or "").split(",")):
            action, n = item.rsplit(":", 1)
            counts[action] = int(n)
    except ValueError as exc:
        raise ValidationFailed(_("not a running total this page gave"), field="sim_counts") from exc
    return examined, matched, ms, counts


def _simulation_state(result: simulate.SimulationResult, *, carried: Any, mode: str) -> dict[str, Any]:
    """The summary over all pages so far, and what the next page request carries."""
    examined, matched, ms, counts = carried
    examined += result.events_examined
    matched += result.matched
    ms = round(ms + result.duration_ms, 1)
    for action, n in result.change_counts:
        counts[action] = counts.get(action, 0) + n
    carry = {
        "cursor": result.next_cursor or "",
        "mode": mode,
        "sim_examined": str(examined),
        "sim_matched": str(matched),
        "sim_ms": str(ms),
        "sim_counts": ",".join(f"{a}:{n}" for a, n in sorted(counts.items())),
    }
    return {
        "examined": examined,
        "matched": matched,
        "duration_ms": ms,
        "counts": sorted(counts.items()),
        "running": result.next_cursor is not None,
        "percent": int(result.progress * 100),
        "carry_json": json.dumps(carry),
    }


@web_view(methods=("POST",))
def settings_rule_simulate(request: AgentRequest) -> HttpResponse:
    """The dry run of the form's document over the last `days` days, first page (nothing is saved
    or done); the page loads the next ones itself (`settings_rule_simulate_page`)."""
    check_perm(request.user, Permission.ADMINISTER)
    form = _form_from_post(request)
    days: Any = form.values.get("days") or "30"
    try:
        document = document_from_form(form)
        days = int(days) if str(days).isdigit() else days
        started = simulation_runs.simulation_start(
            request.user, document=document, days=days, page_events=SIMULATION_PAGE_EVENTS
        )
    except DomainError as exc:
        return _refused(request, form, exc)
    result = started.result
    sim = _simulation_state(result, carried=(0, 0, 0.0, {}), mode=form.mode)
    return _editor(request, form, rule=_rule_of(request, form), simulation=result, sim=sim, background_run=started.run)


@web_view(methods=("GET",))
def settings_rule_simulation(request: AgentRequest, run_id: int) -> HttpResponse:
    """A background dry run's page: its progress (polled while it runs) and its result, kept for the
    organization; the organization's latest runs beside it."""
    run = simulation_runs.simulation_run_detail(request.user, run_id)
    context = {
        "settings_section": "rules",
        "run": run,
        "matches": (matches := simulation_runs.stored_matches(run)),
        "run_rows": {"matches": matches},
        "recent": list(simulation_runs.simulation_runs_recent(request.user)),
    }
    return render(request, "rules/simulation_run.html", context)


@web_view(methods=("GET",))
def settings_rule_simulation_status(request: AgentRequest, run_id: int) -> HttpResponse:
    """The progress of a background dry run (htmx polls it every 2 s while it runs)."""
    run = simulation_runs.simulation_run_detail(request.user, run_id)
    return render(request, "rules/_simulation_run_status.html", {"run": run})


@web_view(methods=("POST",))
def settings_rule_simulation_cancel(request: AgentRequest, run_id: int) -> HttpResponse:
    """Cancel a background dry run (rules.simulation_runs.simulation_run_cancel): htmx swaps the
    progress block for its new state; without htmx, back to the run's page."""
    run = simulation_runs.simulation_run_cancel(request.user, run_id)
    if request.headers.get("HX-Request"):
        return render(request, "rules/_simulation_run_status.html", {"run": run})
    return redirect("web:settings_rule_simulation", run_id=run.pk)


@web_view(methods=("POST",))
def settings_rule_simulate_page(request: AgentRequest) -> HttpResponse:
    """The next page of a dry run (htmx): its rows, the summary so far (out of band), the loader of
    the page after it. The form's document must be the one the cursor was made for."""
    check_perm(request.user, Permission.ADMINISTER)
    form = _form_from_post(request)
    days: Any = form.values.get("days") or "30"
    try:
        carried = _carried(request.POST)
        result = simulate.rule_simulate(
            request.user,
            document=document_from_form(form),
            days=int(days) if str(days).isdigit() else days,
            row_cap=SIMULATION_PAGE_EVENTS,
            cursor=request.POST.get("cursor", ""),
        )
    except DomainError as exc:
        _refusal(exc)
        examined, matched, ms, counts = _carried_or_zero(request.POST)
        sim = {"examined": examined, "matched": matched, "duration_ms": ms, "counts": sorted(counts.items())}
        sim["error"] = _message(exc)
        context = {"simulation": {"days": days, "matches": []}, "sim": sim, "oob": True}
        return HttpResponse(render_to_string("rules/_simulation_summary.html", context, request=request), status=422)
    sim = _simulation_state(result, carried=carried, mode=form.mode)
    context = {"simulation": result, "sim": sim, "oob": True}
    rows = render_to_string("rules/_simulation_rows.html", context, request=request)
    summary = render_to_string("rules/_simulation_summary.html", context, request=request)
    return HttpResponse(rows + summary)


def _carried_or_zero(post: Any) -> tuple[int, int, float, dict[str, int]]:
    try:
        return _carried(post)
    except DomainError:
        return 0, 0, 0.0, {}


@web_view(methods=("POST",))
def settings_rule_conflicts(request: AgentRequest) -> HttpResponse:
    """The enabled rules the form's document would contradict, before saving it."""
    check_perm(request.user, Permission.ADMINISTER)
    form = _form_from_post(request)
    try:
        found = conflict_review.draft_conflicts(request.user, document=document_from_form(form), rule_id=form.rule_id)
    except DomainError as exc:
        return _refused(request, form, exc)
    return _editor(request, form, rule=_rule_of(request, form), conflicts=found, conflicts_checked=True)


def _ids(values: list[str]) -> list[int]:
    ids = []
    for i, value in enumerate(values):
        if not (value.isascii() and value.isdigit()) or len(value) > 18:
            raise ValidationFailed(_("must be a whole number"), field=f"rule_ids[{i}]")
        ids.append(int(value))
    return ids


@web_view(methods=("POST",))
def settings_rules_enabled(request: AgentRequest) -> HttpResponse:
    """Enable or disable the ticked rules, all or none."""
    check_perm(request.user, Permission.ADMINISTER)
    enabled = request.POST.get("enabled") == "on"
    try:
        ids = _ids(request.POST.getlist("rule_ids"))
        if not ids:
            raise ValidationFailed(_("tick at least one rule"), field="rule_ids")
        services.rules_set_enabled(user=request.user, rule_ids=ids, enabled=enabled)
    except DomainError as exc:
        _refusal(exc)
        messages.error(request, _message(exc))
        return redirect("web:settings_rules")
    if enabled:
        text = ngettext("%(n)s rule enabled.", "%(n)s rules enabled.", len(ids))
    else:
        text = ngettext("%(n)s rule disabled.", "%(n)s rules disabled.", len(ids))
    messages.success(request, text % {"n": len(ids)})
    return redirect("web:settings_rules")


@web_view(methods=("POST",))
def settings_rule_experiment_start(request: AgentRequest, rule_id: int) -> HttpResponse:
    check_perm(request.user, Permission.ADMINISTER)
    text = request.POST.get("treatment_percent", "").strip()
    try:
        experiments.experiment_start(
            user=request.user, rule_id=rule_id, treatment_percent=int(text) if text.isdigit() else text
        )
    except DomainError as exc:
        _refusal(exc)
        messages.error(request, _message(exc))
    else:
        messages.success(request, _("Experiment started."))
    return redirect("web:settings_rule", rule_id=rule_id)


@web_view(methods=("POST",))
def settings_rule_experiment_stop(request: AgentRequest, experiment_id: int) -> HttpResponse:
    check_perm(request.user, Permission.ADMINISTER)
    try:
        row = experiments.experiment_stop(user=request.user, experiment_id=experiment_id)
    except DomainError as exc:
        _refusal(exc)
        messages.error(request, _message(exc))
        return redirect("web:settings_rule_experiment", experiment_id=experiment_id)
    messages.success(request, _("Experiment stopped."))
    return redirect("web:settings_rule", rule_id=row.rule_id)


@web_view(methods=("GET",))
def settings_rule_experiment(request: AgentRequest, experiment_id: int) -> HttpResponse:
    """The outcomes of both arms of an experiment."""
    results = experiment_results.experiment_results(request.user, experiment_id)
    return render(request, "rules/experiment.html", {"settings_section": "rules", "results": results})


@web_view(methods=("GET",))
def ticket_rules(request: AgentRequest, ticket_id: int) -> HttpResponse:
    """What rules did on a ticket (a fragment of the ticket page, for whoever sees the ticket)."""
    executions = selectors.ticket_rule_executions(request.user, ticket_id, limit=50)
    return render(request, "rules/_ticket_rules.html", {"executions": executions, "ticket_id": ticket_id})
