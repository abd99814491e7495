from django import forms

from .models import Profile


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = ["full_name", "affiliation", "position", "country", "orcid"]
        help_texts = {
            "full_name": "As on your identity documents; you will type it to sign agreements.",
            "orcid": "Optional, e.g. 0000-0002-1825-0097.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in Profile.REQUIRED_FIELDS:
            self.fields[name].required = True
