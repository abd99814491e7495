from django.contrib import admin

from accessgate.core.admin import ReadOnlyAdmin

from .models import Email


@admin.register(Email)
class EmailAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "subject", "status", "attempts", "sent_at"]
    list_filter = ["status"]
    search_fields = ["subject", "to"]
