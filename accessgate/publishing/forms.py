"""The console's forms. They parse and show errors beside their fields; the rules live in the
services (`PolicySettings.cleaned`, `model_create`…), whose `ValidationFailed(field=…)` the
views attach to the same field with `core.forms.add_domain_error`."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accessgate.access.models import AccessPolicy, Gating
from accessgate.access.services import PolicySettings
from accessgate.accounts.roles import Role
from accessgate.catalog.models import LicenseVersion

User = get_user_model()


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").replace(",", "\n").splitlines() if line.strip()]


class NewModelForm(forms.Form):
    namespace = forms.CharField(max_length=96, help_text=gettext_lazy("Your lab or organisation, e.g. acme-lab."))
    name = forms.CharField(max_length=96, help_text=gettext_lazy("Letters, digits, '-', '_' and '.'."))
    display_name = forms.CharField(max_length=200)
    summary = forms.CharField(max_length=300, required=False)


class CardForm(forms.Form):
    display_name = forms.CharField(max_length=200)
    summary = forms.CharField(max_length=300, required=False)
    card_markdown = forms.CharField(
        label=gettext_lazy("Model card (Markdown)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 16, "class": "mono"}),
        help_text=gettext_lazy("Rendered and sanitised as on the public page; press Preview to see it."),
    )


class PolicyForm(forms.Form):
    license = forms.ModelChoiceField(
        LicenseVersion.objects.order_by("name", "-published_at"),
        label=gettext_lazy("Licence version"),
        help_text=gettext_lazy("Publish a new version in the Licence section; a version never changes once published."),
    )
    gating = forms.ChoiceField(choices=Gating.choices, initial=Gating.MANUAL)
    statements = forms.CharField(
        label=gettext_lazy("Attestation statements"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("One per line; applicants tick each."),
    )
    min_intended_use_chars = forms.IntegerField(
        label=gettext_lazy("Minimum length of the intended-use statement"), min_value=0
    )
    grant_days = forms.IntegerField(
        label=gettext_lazy("Grant length (days)"), help_text=gettext_lazy("At least one day.")
    )
    url_ttl_seconds = forms.IntegerField(
        label=gettext_lazy("Download URL lifetime (seconds)"),
        # 604800 = 7 * 24 * 3600, written out so the sentence is one translatable string.
        help_text=gettext_lazy(
            "Between 1 second and 7 days (604800 seconds): S3 cannot sign a URL for longer. "
            "Short on purpose: revoking a grant stops new URLs at once, issued ones die at this age."
        ),
    )
    max_downloads_per_file = forms.IntegerField(
        label=gettext_lazy("Download URLs per file per grant"),
        required=False,
        help_text=gettext_lazy("At least 1; leave empty for no limit."),
    )
    require_identity = forms.BooleanField(label=gettext_lazy("Require a verified identity"), required=False)
    require_mfa = forms.BooleanField(label=gettext_lazy("Require two-factor authentication"), required=False)
    require_orcid = forms.BooleanField(label=gettext_lazy("Require a verified ORCID iD"), required=False)
    require_institutional_email = forms.BooleanField(
        label=gettext_lazy("Require a verified institutional e-mail"), required=False
    )
    institutional_domains = forms.CharField(
        required=False,
        help_text=gettext_lazy("Allowed e-mail domains, one per line (subdomains match); empty: any not denied."),
    )
    blocked_countries = forms.CharField(
        required=False,
        help_text=gettext_lazy(
            "ISO 3166 two-letter codes, separated by commas (e.g. KP, IR); checked against the profile "
            "and the identity document."
        ),
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
    name = forms.CharField(
        max_length=200, help_text=gettext_lazy("Keep the name to publish a new version of the same licence.")
    )
    version = forms.CharField(max_length=32)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 14}))


class ReviewersForm(forms.Form):
    reviewers = forms.ModelMultipleChoiceField(
        User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Only accounts with the reviewer role are offered; an admin grants roles."),
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
        label=gettext_lazy("S3 prefix"),
        max_length=1024,
        help_text=gettext_lazy("s3://<the configured bucket>/<prefix>/ — every object under it."),
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_source(self):
        source = self.cleaned_data["source"].strip()
        if not source.startswith("s3://"):
            raise forms.ValidationError(_("Give an s3:// address."))
        return source


class RoleForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("User's e-mail"))
    role = forms.ChoiceField(choices=[(r.value, r.label) for r in (Role.PUBLISHER, Role.REVIEWER, Role.AUDITOR)])
    action = forms.ChoiceField(choices=[("grant", gettext_lazy("Grant")), ("remove", gettext_lazy("Remove"))])
