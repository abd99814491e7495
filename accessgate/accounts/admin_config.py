from django.contrib.admin.apps import AdminConfig


class AccessgateAdminConfig(AdminConfig):
    default_site = "accessgate.accounts.admin_site.AccessgateAdminSite"
