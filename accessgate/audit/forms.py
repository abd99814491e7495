from django import forms

from .actions import known_actions
from .models import ExportFormat
from .refusals import REASONS


class AuditFilterForm(forms.Form):
    since = forms.DateField(required=False, label="From (UTC day)", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(
        required=False, label="To (UTC day, inclusive)", widget=forms.DateInput(attrs={"type": "date"})
    )
    actor = forms.CharField(required=False, label="Actor e-mail contains", max_length=320)
    action = forms.CharField(
        required=False,
        label="Action starts with",
        max_length=64,
        help_text="e.g. download. or access.request.",
        widget=forms.TextInput(attrs={"list": "audit-actions"}),
    )
    model = forms.CharField(required=False, label="Model (namespace/name)", max_length=200)
    ip = forms.GenericIPAddressField(required=False, label="IP address")
    reason = forms.SlugField(
        required=False,
        label="Reason (refusals)",
        max_length=64,
        help_text="e.g. no_grant, quota, bad_token",
        widget=forms.TextInput(attrs={"list": "audit-reasons"}),
    )

    reasons = REASONS

    @property
    def actions(self) -> list[str]:
        return known_actions()

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError("The start day is after the end day.")
        return data

    def filters(self) -> dict:
        return {
            key: value.isoformat() if hasattr(value, "isoformat") else value
            for key, value in self.cleaned_data.items()
            if value not in (None, "") and key in ("since", "until", "actor", "action", "model", "ip", "reason")
        }


class ExportForm(AuditFilterForm):
    format = forms.ChoiceField(choices=ExportFormat.choices, initial=ExportFormat.JSONL)
