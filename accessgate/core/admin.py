from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records that change only through the portal's audited services: the admin shows
    them, and can neither add, change nor delete them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
