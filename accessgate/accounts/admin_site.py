from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accessgate.audit.context import RequestMeta
from accessgate.core.errors import DomainError

from .roles import STAFF_ROLES, Role, has_role, role_change_message

# Admins of other apps' models that we show but never let change: their changes would
# bypass the audited services (e-mail verification, authenticators, roles, schedules and
# provider credentials). Fields listed here are hidden as well (secrets).
HIDDEN_FIELDS = {"socialaccount.socialapp": ("secret", "key")}
# Not shown at all: OAuth access tokens are credentials, not records an admin reads.
UNREGISTERED = {"socialaccount.socialtoken"}


class ReadOnlyMixin:
    """Turns any ModelAdmin into a view-only one: no add, change, delete or bulk action."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}


class RoleForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=[(role.value, role.label) for role in STAFF_ROLES])
    verb = forms.ChoiceField(choices=[("grant", gettext_lazy("Grant")), ("remove", gettext_lazy("Remove"))])


class AccessgateAdminSite(admin.AdminSite):
    site_header = gettext_lazy("accessgate administration")
    site_title = gettext_lazy("accessgate admin")

    def has_permission(self, request):
        # The Django admin is for the admin role only; reviewers and auditors use the portal.
        return request.user.is_active and has_role(request.user, Role.ADMIN)

    def lock_foreign_admins(self):
        """Called once the admin modules are loaded (AccessgateAdminConfig.ready)."""
        for model, model_admin in list(self._registry.items()):
            label = model._meta.label_lower
            if model.__module__.startswith("accessgate."):
                continue
            self.unregister(model)
            if label in UNREGISTERED:
                continue
            attrs = {"exclude": HIDDEN_FIELDS[label]} if label in HIDDEN_FIELDS else {}
            locked = type(f"ReadOnly{type(model_admin).__name__}", (ReadOnlyMixin, type(model_admin)), attrs)
            self.register(model, locked)

    def get_urls(self):
        return [path("roles/", self.admin_view(self.roles_view), name="roles"), *super().get_urls()]

    def roles_view(self, request):
        """Grant and remove staff roles through the audited role service."""
        from django.contrib.auth import get_user_model

        from .selectors import user_by_email
        from .services import role_grant, role_remove

        form = RoleForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            user = user_by_email(form.cleaned_data["email"])
            role = Role(form.cleaned_data["role"])
            if user is None:
                form.add_error("email", _("No user with this e-mail address."))
            else:
                service = role_grant if form.cleaned_data["verb"] == "grant" else role_remove
                try:
                    changed = service(actor=request.user, user=user, role=role, meta=RequestMeta.from_request(request))
                except DomainError as error:
                    form.add_error(None, error.message)
                else:
                    messages.success(request, role_change_message(role, form.cleaned_data["verb"], user, changed))
                    return redirect("admin:roles")
        staff = (
            get_user_model()
            .objects.filter(groups__name__in=[role.value for role in STAFF_ROLES])
            .prefetch_related("groups")
            .distinct()
            .order_by("email")
        )
        context = {
            **self.each_context(request),
            "title": _("Staff roles"),
            "form": form,
            "staff": [(user, sorted(g.name for g in user.groups.all())) for user in staff],
        }
        return TemplateResponse(request, "admin/roles.html", context, status=400 if form.errors else 200)
