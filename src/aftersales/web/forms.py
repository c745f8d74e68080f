"""Forms of the agent UI. They parse and type the input; business rules stay in the services,
whose DomainErrors are shown next to the same fields."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from aftersales.accounts.models import UserLanguage


class MergeForm(forms.Form):
    target_id = forms.IntegerField(label=_("Merge into ticket #"), min_value=1, max_value=2**62)


class SavedViewForm(forms.Form):
    name = forms.CharField(label=_("View name"), max_length=80)
    query = forms.CharField(required=False, max_length=4000)


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=UserLanguage.choices, widget=forms.RadioSelect)


class TokenCreateForm(forms.Form):
    name = forms.CharField(label=_("Token name"), max_length=80)
    expires_on = forms.DateField(label=_("Expires on"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


def first_error(form: forms.Form) -> tuple[str, str]:
    """(field, message) of the first error of an invalid form."""
    for name, errors in form.errors.items():
        return name, str(errors[0])
    return "", ""
