from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accessgate.audit.context import RequestMeta
from accessgate.core.admin import ReadOnlyAdmin

from . import services
from .freemail import FREE_MAIL_DOMAINS
from .models import (
    AccessPolicy,
    AccessRequest,
    Agreement,
    Appeal,
    Closeout,
    Collection,
    Grant,
    GrantPeriod,
    Recusal,
    ReminderSent,
    Review,
    ReviewNote,
    Signoff,
)

# Access over time: renewal, grace and close-out options, passed through as they are.
OVER_TIME_FIELDS = [
    "renewal_window_days",
    "renewal_requires_progress_report",
    "renewal_auto",
    "renewal_grace_days",
    "require_closeout",
    "closeout_days",
    "closeout_blocks_requests",
    "require_signoff",
    "signoff_link_days",
]


def _stored_or_new(policy: AccessPolicy, license) -> services.PolicySettings:
    if policy.pk:
        return services.PolicySettings.of(AccessPolicy.objects.get(pk=policy.pk))
    return services.PolicySettings(license=license)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace(",", "\n").splitlines() if part.strip()]


class AccessPolicyForm(forms.ModelForm):
    institutional_domains_text = forms.CharField(
        label=_("Allowed institutional e-mail domains"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "One per line or comma-separated (ox.ac.uk also admits cs.ox.ac.uk). Empty: any domain not denied."
        ),
    )
    denied_email_domains_text = forms.CharField(
        label=_("Denied e-mail domains"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Never institutional. Starts with common free-mail domains."),
    )
    blocked_countries_text = forms.CharField(
        label=_("Blocked countries"),
        required=False,
        help_text=_("ISO 3166 codes, comma-separated, e.g. KP, IR. Matched against profile and identity document."),
    )
    reminder_days_text = forms.CharField(
        label=_("Expiry reminders (days before)"),
        required=False,
        initial="30, 7, 1",
        help_text=_("Comma-separated, e.g. 30, 7, 1. Each is e-mailed once to the holder. Empty: no reminders."),
    )
    signoff_domains_text = forms.CharField(
        label=_("Signing officials' e-mail domains"),
        required=False,
        help_text=_("Comma-separated; empty: the institutional domains above (or any not denied)."),
    )
    statements_text = forms.CharField(
        label=_("Attestation statements"),
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        help_text=_("One statement per line. Changing a line retires the old statement and adds a new one."),
    )

    class Meta:
        model = AccessPolicy
        fields = [
            "model",
            "gating",
            "license",
            "min_intended_use_chars",
            "grant_days",
            "url_ttl_seconds",
            "max_downloads_per_file",
            "require_identity",
            "require_mfa",
            "require_orcid",
            "require_institutional_email",
            *OVER_TIME_FIELDS,
            "required_trainings",
            "requirements_timing",
            "approvals_required",
            "conflict_blocks",
            "reapply_cooldown_days",
            "review_target_days",
            "notification_email",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)

        policy = self.instance
        for name in OVER_TIME_FIELDS:
            self.fields[name].required = False  # empty: the default
        self.fields["denied_email_domains_text"].initial = "\n".join(FREE_MAIL_DOMAINS)
        if policy.pk:
            self.fields["statements_text"].initial = "\n".join(s.text for s in policy.statements.filter(is_active=True))
            self.fields["institutional_domains_text"].initial = "\n".join(policy.institutional_domains)
            self.fields["denied_email_domains_text"].initial = "\n".join(policy.denied_email_domains)
            self.fields["blocked_countries_text"].initial = ", ".join(policy.blocked_countries)
            self.fields["signoff_domains_text"].initial = ", ".join(policy.signoff_domains)
            self.fields["reminder_days_text"].initial = ", ".join(str(d) for d in policy.reminder_days)


@admin.register(AccessPolicy)
class AccessPolicyAdmin(admin.ModelAdmin):
    form = AccessPolicyForm
    list_display = ["model", "gating", "license", "grant_days", "require_identity", "require_mfa", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        return ["model"] if obj else []

    def has_delete_permission(self, request, obj=None):
        return False  # a model is closed by unlisting it or its releases, never by deleting its policy

    def save_model(self, request, obj, form, change):
        # Through the service, so that the change is audited.
        saved = services.policy_set(
            actor=request.user,
            model=obj.model,
            # Built on the stored settings so options this form does not show (the custom
            # questions) are kept.
            terms=_stored_or_new(obj, form.cleaned_data["license"]).updated(
                license=form.cleaned_data["license"],
                gating=form.cleaned_data["gating"],
                min_intended_use_chars=form.cleaned_data["min_intended_use_chars"],
                grant_days=form.cleaned_data["grant_days"],
                url_ttl_seconds=form.cleaned_data["url_ttl_seconds"],
                max_downloads_per_file=form.cleaned_data["max_downloads_per_file"],
                require_identity=form.cleaned_data["require_identity"],
                require_mfa=form.cleaned_data["require_mfa"],
                require_orcid=form.cleaned_data["require_orcid"],
                require_institutional_email=form.cleaned_data["require_institutional_email"],
                institutional_domains=_split(form.cleaned_data["institutional_domains_text"]),
                denied_email_domains=_split(form.cleaned_data["denied_email_domains_text"]),
                blocked_countries=_split(form.cleaned_data["blocked_countries_text"]),
                statements=form.cleaned_data["statements_text"].splitlines(),
                reminder_days=_split(form.cleaned_data["reminder_days_text"]),
                signoff_domains=_split(form.cleaned_data["signoff_domains_text"]),
                required_trainings=list(form.cleaned_data["required_trainings"]),
                **{name: form.cleaned_data[name] for name in OVER_TIME_FIELDS if form.cleaned_data[name] is not None},
                requirements_timing=form.cleaned_data["requirements_timing"],
                approvals_required=form.cleaned_data["approvals_required"],
                conflict_blocks=form.cleaned_data["conflict_blocks"],
                reapply_cooldown_days=form.cleaned_data["reapply_cooldown_days"],
                review_target_days=form.cleaned_data["review_target_days"],
                notification_email=form.cleaned_data["notification_email"],
            ),
            meta=RequestMeta.from_request(request),
        )
        obj.pk = saved.pk

    def save_related(self, request, form, formsets, change):
        pass


@admin.register(AccessRequest)
class AccessRequestAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "model", "status", "submitted_at"]
    list_filter = ["status"]
    search_fields = ["user__email", "model__name"]


@admin.register(Agreement)
class AgreementAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "license", "signed_at", "ip"]


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ["id", "request", "reviewer", "decision", "created_at"]


@admin.register(Grant)
class GrantAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "model", "status", "granted_at", "expires_at"]
    list_filter = ["status"]


@admin.register(GrantPeriod)
class GrantPeriodAdmin(ReadOnlyAdmin):
    list_display = ["id", "grant", "kind", "starts_at", "ends_at", "approved_by"]
    list_filter = ["kind"]


@admin.register(Closeout)
class CloseoutAdmin(ReadOnlyAdmin):
    list_display = ["id", "grant", "user", "reason", "status", "due_at", "filed_at", "deleted_everywhere"]
    list_filter = ["status", "reason"]


@admin.register(ReminderSent)
class ReminderSentAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "subject", "key", "user", "sent_at"]
    list_filter = ["kind"]


@admin.register(Signoff)
class SignoffAdmin(ReadOnlyAdmin):
    list_display = ["id", "request", "official_email", "status", "sent_at", "expires_at", "decided_at"]
    list_filter = ["status"]
    exclude = ["nonce"]  # with the secret key it would rebuild a live link


@admin.register(Recusal)
class RecusalAdmin(ReadOnlyAdmin):
    list_display = ["id", "request", "reviewer", "created_at"]


@admin.register(Appeal)
class AppealAdmin(ReadOnlyAdmin):
    list_display = ["id", "request", "outcome", "decided_by", "created_at"]
    list_filter = ["outcome"]


@admin.register(ReviewNote)
class ReviewNoteAdmin(ReadOnlyAdmin):
    list_display = ["id", "request", "author", "created_at"]


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    """Create a collection, or add models to it (through the audited services; members are
    never removed here, since grants were opened on them)."""

    list_display = ["namespace", "name", "display_name", "lead", "covers_later_models"]
    fields = ["namespace", "name", "display_name", "summary", "lead", "members", "covers_later_models"]
    filter_horizontal = ["members"]

    def get_readonly_fields(self, request, obj=None):
        return ["namespace", "name", "lead", "covers_later_models"] if obj else []

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        meta = RequestMeta.from_request(request)
        if not change:
            created = services.collection_create(
                actor=request.user,
                namespace=form.cleaned_data["namespace"],
                name=form.cleaned_data["name"],
                display_name=form.cleaned_data["display_name"],
                summary=form.cleaned_data["summary"],
                lead=form.cleaned_data["lead"],
                members=list(form.cleaned_data["members"]),
                covers_later_models=form.cleaned_data["covers_later_models"],
                meta=meta,
            )
            obj.pk = created.pk
            return
        current = set(obj.members.values_list("pk", flat=True))
        for model in form.cleaned_data["members"]:
            if model.pk not in current:
                services.collection_add_model(actor=request.user, collection=obj, model=model, meta=meta)

    def save_related(self, request, form, formsets, change):
        pass
