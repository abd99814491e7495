from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .actions import known_actions
from .models import ExportFormat
from .refusals import REASONS

FILTER_KEYS = ("since", "until", "actor", "action", "model", "ip", "reason", "person", "target")


class AuditFilterForm(forms.Form):
    since = forms.DateField(
        required=False, label=gettext_lazy("From (UTC day)"), widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label=gettext_lazy("To (UTC day, inclusive)"), widget=forms.DateInput(attrs={"type": "date"})
    )
    actor = forms.CharField(required=False, label=gettext_lazy("Actor e-mail contains"), max_length=320)
    action = forms.CharField(
        required=False,
        label=gettext_lazy("Action starts with"),
        max_length=64,
        help_text=gettext_lazy("e.g. download. or access.request."),
        widget=forms.TextInput(attrs={"list": "audit-actions"}),
    )
    model = forms.CharField(required=False, label=gettext_lazy("Model (namespace/name)"), max_length=200)
    ip = forms.GenericIPAddressField(required=False, label=gettext_lazy("IP address"))
    reason = forms.SlugField(
        required=False,
        label=gettext_lazy("Reason (refusals)"),
        max_length=64,
        help_text=gettext_lazy("e.g. no_grant, quota, bad_token"),
        widget=forms.TextInput(attrs={"list": "audit-reasons"}),
    )
    person = forms.EmailField(
        required=False,
        label=gettext_lazy("Everything about a person (e-mail)"),
        help_text=gettext_lazy("As actor, or as the owner of the request, agreement, grant or account."),
    )
    target = forms.RegexField(
        required=False,
        regex=r"^[a-z_]+\.[a-z_]+:[\w.@/-]{1,64}$",
        label=gettext_lazy("Target (type:id)"),
        max_length=130,
        help_text=gettext_lazy("e.g. access.grant:12"),
        error_messages={"invalid": gettext_lazy("Write the target as type:id, e.g. access.accessrequest:12.")},
    )

    reasons = REASONS

    @property
    def actions(self) -> list[str]:
        return known_actions()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # Form.clean() returns cleaned_data
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError(_("The start day is after the end day."))
        return data

    def filters(self) -> dict[str, Any]:
        return {
            key: value.isoformat() if hasattr(value, "isoformat") else value
            for key, value in self.cleaned_data.items()
            if value not in (None, "") and key in FILTER_KEYS
        }


class ExportForm(AuditFilterForm):
    format = forms.ChoiceField(choices=ExportFormat.choices, initial=ExportFormat.JSONL)
