from typing import Any

from django import forms
from django.core.validators import MaxValueValidator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import Profile


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = ["full_name", "affiliation", "position", "country", "orcid"]
        help_texts = {
            "full_name": _("As on your identity documents; you will type it to sign agreements."),
            "orcid": _("Optional, e.g. 0000-0002-1825-0097."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in Profile.REQUIRED_FIELDS:
            self.fields[name].required = True


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text=_("Where it will be used, e.g. 'cluster-a download script'."))
    days = forms.IntegerField(
        label=_("Valid for (days)"), min_value=1, help_text=_("It stops working after this many days.")
    )
    scopes = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        initial=["download"],
        required=False,
        help_text=_(
            "What the token may do (download only if none is ticked). "
            "Staff scopes need a session that passed two-factor."
        ),
    )
    models: "forms.ModelMultipleChoiceField[Any]" = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Limit to models"),
        help_text=_("Leave all unticked for every model."),
    )

    def __init__(self, *args, max_days: int, default_days: int, scope_choices, model_choices, **kwargs):
        super().__init__(*args, **kwargs)
        # self.fields holds the declared fields; the stubs know them only as Field.
        self.fields["scopes"].choices = scope_choices  # type: ignore[attr-defined]
        self.fields["models"].queryset = model_choices  # type: ignore[attr-defined]
        self.fields["models"].label_from_instance = lambda model: model.full_name  # type: ignore[attr-defined]
        self.fields["days"].max_value = max_days  # type: ignore[attr-defined]
        self.fields["days"].validators.append(MaxValueValidator(max_days))
        self.fields["days"].initial = default_days
        self.fields["days"].help_text += " " + gettext("At most %(days)s.") % {"days": max_days}
