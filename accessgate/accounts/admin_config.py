from django.contrib.admin.apps import AdminConfig


class AccessgateAdminConfig(AdminConfig):
    default_site = "accessgate.accounts.admin_site.AccessgateAdminSite"

    def ready(self):
        super().ready()  # autodiscovers every app's admin module
        from django.contrib import admin

        admin.site.lock_foreign_admins()
