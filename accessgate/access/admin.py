from django import forms
from django.contrib import admin

from accessgate.audit.context import RequestMeta

from . import services
from .models import AccessPolicy, AccessRequest, Agreement, Grant, Review


class AccessPolicyForm(forms.ModelForm):
    statements_text = forms.CharField(
        label="Attestation statements",
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        help_text="One statement per line. Changing a line retires the old statement and adds a new one.",
    )

    class Meta:
        model = AccessPolicy
        fields = ["model", "gating", "license", "min_intended_use_chars", "grant_days"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["statements_text"].initial = "\n".join(
                s.text for s in self.instance.statements.filter(is_active=True)
            )


@admin.register(AccessPolicy)
class AccessPolicyAdmin(admin.ModelAdmin):
    form = AccessPolicyForm
    list_display = ["model", "gating", "license", "grant_days", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        return ["model"] if obj else []

    def save_model(self, request, obj, form, change):
        # Through the service, so that the change is audited.
        saved = services.policy_set(
            actor=request.user,
            model=obj.model,
            license=form.cleaned_data["license"],
            gating=form.cleaned_data["gating"],
            min_intended_use_chars=form.cleaned_data["min_intended_use_chars"],
            grant_days=form.cleaned_data["grant_days"],
            statements=form.cleaned_data["statements_text"].splitlines(),
            meta=RequestMeta.from_request(request),
        )
        obj.pk = saved.pk

    def save_related(self, request, form, formsets, change):
        pass


class ReadOnlyAdmin(admin.ModelAdmin):
    """Requests, agreements, reviews and grants change only through the portal's services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
