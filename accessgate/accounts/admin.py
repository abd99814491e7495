from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accessgate.audit.context import RequestMeta
from accessgate.core.errors import DomainError

from .models import Profile, User
from .services import user_set_active


class ProfileInline(admin.StackedInline):
    """Shown, not edited: the researcher's own statements, changed (audited) on their profile page."""

    model = Profile
    can_delete = False
    fields = ["full_name", "affiliation", "position", "country", "orcid"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class UserStatusForm(forms.ModelForm):
    deactivation_reason = forms.CharField(
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy(
            "Required to deactivate: the user receives it by e-mail, and it is kept in the audit trail."
        ),
    )

    class Meta:
        model = User
        fields = ["is_active"]

    def clean(self):
        data = super().clean()
        if "is_active" in self.changed_data and not data.get("is_active") and not data.get("deactivation_reason"):
            self.add_error("deactivation_reason", _("Give a reason for the deactivation."))
        return data


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Admins deactivate and reactivate accounts here (audited). Roles change with
    `manage.py roles`; e-mail, password and profile are the user's own, changed through
    their own (audited) pages and the password-reset e-mail."""

    ordering = ["email"]
    list_display = ["email", "username", "is_active", "is_staff", "date_joined", "last_login"]
    list_filter = ["is_active", "groups"]
    search_fields = ["email", "username", "profile__full_name", "profile__affiliation"]
    inlines = [ProfileInline]
    form = UserStatusForm
    fieldsets = [
        (None, {"fields": ["email", "username"]}),
        ("Status", {"fields": ["is_active", "deactivation_reason", "groups"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    readonly_fields = ["email", "username", "last_login", "date_joined", "groups"]

    def has_add_permission(self, request):
        return False  # accounts start with sign-up and a verified e-mail

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: requests, grants and the audit trail refer to the account

    def user_change_password(self, request, id, form_url=""):
        raise PermissionDenied(_("Passwords are reset by their owner through the password-reset e-mail."))

    def get_form(self, request, obj=None, **kwargs):
        kwargs["form"] = UserStatusForm
        return admin.ModelAdmin.get_form(self, request, obj, **kwargs)

    def save_model(self, request, obj, form, change):
        if "is_active" in form.changed_data:
            try:
                user_set_active(
                    actor=request.user,
                    user=obj,
                    active=obj.is_active,
                    reason=form.cleaned_data.get("deactivation_reason", ""),
                    meta=RequestMeta.from_request(request),
                )
            except DomainError as error:
                messages.error(request, error.message)
