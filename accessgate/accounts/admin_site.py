from django.contrib import admin

from .roles import Role, has_role


class AccessgateAdminSite(admin.AdminSite):
    site_header = "accessgate administration"
    site_title = "accessgate admin"

    def has_permission(self, request):
        # The Django admin is for the admin role only; reviewers and auditors use the portal.
        return request.user.is_active and has_role(request.user, Role.ADMIN)
