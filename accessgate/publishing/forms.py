"""The console's forms. They parse and show errors beside their fields; the rules live in the
services (`PolicySettings.cleaned`, `model_create`…), whose `ValidationFailed(field=…)` the
views attach to the same field with `core.forms.add_domain_error`."""

from django import forms
from django.contrib.auth import get_user_model

from accessgate.access.models import AccessPolicy, Gating
from accessgate.access.services import PolicySettings
from accessgate.accounts.roles import Role
from accessgate.catalog.models import LicenseVersion

User = get_user_model()
WEEK = 7 * 24 * 3600


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").replace(",", "\n").splitlines() if line.strip()]


class NewModelForm(forms.Form):
    namespace = forms.CharField(max_length=96, help_text="Your lab or organisation, e.g. acme-lab.")
    name = forms.CharField(max_length=96, help_text="Letters, digits, '-', '_' and '.'.")
    display_name = forms.CharField(max_length=200)
    summary = forms.CharField(max_length=300, required=False)


class CardForm(forms.Form):
    display_name = forms.CharField(max_length=200)
    summary = forms.CharField(max_length=300, required=False)
    card_markdown = forms.CharField(
        label="Model card (Markdown)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 16, "class": "mono"}),
        help_text="Rendered and sanitised as on the public page; press Preview to see it.",
    )


class PolicyForm(forms.Form):
    license = forms.ModelChoiceField(
        LicenseVersion.objects.order_by("name", "-published_at"),
        label="Licence version",
        help_text="Publish a new version in the Licence section; a version never changes once published.",
    )
    gating = forms.ChoiceField(choices=Gating.choices, initial=Gating.MANUAL)
    statements = forms.CharField(
        label="Attestation statements",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line; applicants tick each.",
    )
    min_intended_use_chars = forms.IntegerField(label="Minimum length of the intended-use statement", min_value=0)
    grant_days = forms.IntegerField(label="Grant length (days)", help_text="At least one day.")
    url_ttl_seconds = forms.IntegerField(
        label="Download URL lifetime (seconds)",
        help_text=f"Between 1 second and 7 days ({WEEK} seconds): S3 cannot sign a URL for longer. "
        "Short on purpose: revoking a grant stops new URLs at once, issued ones die at this age.",
    )
    max_downloads_per_file = forms.IntegerField(
        label="Download URLs per file per grant",
        required=False,
        help_text="At least 1; leave empty for no limit.",
    )
    require_identity = forms.BooleanField(label="Require a verified identity", required=False)
    require_mfa = forms.BooleanField(label="Require two-factor authentication", required=False)
    require_orcid = forms.BooleanField(label="Require a verified ORCID iD", required=False)
    require_institutional_email = forms.BooleanField(label="Require a verified institutional e-mail", required=False)
    institutional_domains = forms.CharField(
        required=False, help_text="Allowed e-mail domains, one per line (subdomains match); empty: any not denied."
    )
    blocked_countries = forms.CharField(
        required=False,
        help_text="ISO 3166 two-letter codes, separated by commas (e.g. KP, IR); checked against the profile "
        "and the identity document.",
    )

    @classmethod
    def initial_for(cls, policy: AccessPolicy | None) -> dict:
        if policy is None:
            return {"min_intended_use_chars": 100, "grant_days": 365, "url_ttl_seconds": 300}
        values = {name: getattr(policy, name) for name in cls.base_fields if hasattr(policy, name)}
        values["statements"] = "\n".join(s.text for s in policy.statements.filter(is_active=True))
        values["institutional_domains"] = "\n".join(policy.institutional_domains)
        values["blocked_countries"] = ", ".join(policy.blocked_countries)
        return values

    def settings(self, policy: AccessPolicy | None) -> PolicySettings:
        data = self.cleaned_data
        # Built on the stored settings, so options this form does not edit (questions,
        # two-person approval, cooldowns…, set in the admin) are kept.
        base = PolicySettings.of(policy) if policy is not None else PolicySettings(license=data["license"])
        return base.updated(
            license=data["license"],
            statements=[line.strip() for line in data["statements"].splitlines() if line.strip()],
            gating=Gating(data["gating"]),
            min_intended_use_chars=data["min_intended_use_chars"],
            grant_days=data["grant_days"],
            url_ttl_seconds=data["url_ttl_seconds"],
            max_downloads_per_file=data["max_downloads_per_file"],
            require_identity=data["require_identity"],
            require_mfa=data["require_mfa"],
            require_orcid=data["require_orcid"],
            require_institutional_email=data["require_institutional_email"],
            institutional_domains=_lines(data["institutional_domains"]),
            blocked_countries=_lines(data["blocked_countries"]),
        )


class LicenceForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="Keep the name to publish a new version of the same licence.")
    version = forms.CharField(max_length=32)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 14}))


class ReviewersForm(forms.Form):
    reviewers = forms.ModelMultipleChoiceField(
        User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only accounts with the reviewer role are offered; an admin grants roles.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewers"].queryset = User.objects.filter(
            is_active=True, groups__name=Role.REVIEWER.value
        ).order_by("email")


class PublishersForm(forms.Form):
    publishers = forms.ModelMultipleChoiceField(
        User.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["publishers"].queryset = User.objects.filter(
            is_active=True, groups__name=Role.PUBLISHER.value
        ).order_by("email")


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=1000, widget=forms.TextInput)


class IndexS3Form(forms.Form):
    version = forms.CharField(max_length=64)
    source = forms.CharField(
        label="S3 prefix", max_length=1024, help_text="s3://<the configured bucket>/<prefix>/ — every object under it."
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_source(self):
        source = self.cleaned_data["source"].strip()
        if not source.startswith("s3://"):
            raise forms.ValidationError("Give an s3:// address.")
        return source


class RoleForm(forms.Form):
    email = forms.EmailField(label="User's e-mail")
    role = forms.ChoiceField(choices=[(r.value, r.label) for r in (Role.PUBLISHER, Role.REVIEWER, Role.AUDITOR)])
    action = forms.ChoiceField(choices=[("grant", "Grant"), ("remove", "Remove")])
