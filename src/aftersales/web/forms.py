"""Forms of the agent UI. They parse and type the input; business rules stay in the services,
whose DomainErrors are shown next to the same fields."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.accounts.models import TokenScope, UserLanguage
from aftersales.accounts.services import TOKEN_DEFAULT_LIFETIME, TOKEN_DEFAULT_SCOPES, TOKEN_MAX_LIFETIME


class MergeForm(forms.Form):
    target_id = forms.IntegerField(label=_("Merge into ticket #"), min_value=1, max_value=2**62)


class SavedViewForm(forms.Form):
    name = forms.CharField(label=_("View name"), max_length=80)
    query = forms.CharField(required=False, max_length=4000)


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=UserLanguage.choices, widget=forms.RadioSelect)


class TokenCreateForm(forms.Form):
    """A new API token: its scopes and expiry day (blank: the default lifetime). The rules (scopes
    within the role, expiry within a year) are the service's, as for the API."""

    name = forms.CharField(label=_("Token name"), max_length=80)
    # None checked: the default scopes (read), as when the API's `scopes` is omitted.
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=TokenScope.choices,
        initial=list(TOKEN_DEFAULT_SCOPES),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    expires_on = forms.DateField(label=_("Expires on"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["expires_on"].initial = today + TOKEN_DEFAULT_LIFETIME
        self.expires_min = today + timedelta(days=1)
        self.expires_max = today + TOKEN_MAX_LIFETIME - timedelta(days=1)


def first_error(form: forms.Form) -> tuple[str, str]:
    """(field, message) of the first error of an invalid form."""
    for name, errors in form.errors.items():
        return name, str(errors[0])
    return "", ""
