from django.contrib import admin

from accessgate.core.admin import ReadOnlyAdmin

from .models import IdentityVerification, WebhookEvent


@admin.register(IdentityVerification)
class IdentityVerificationAdmin(ReadOnlyAdmin):
    list_display = ["user", "provider", "status", "document_country", "verified_at", "expires_at"]
    list_filter = ["status", "provider"]
    search_fields = ["user__email", "session_id"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["provider", "type", "event_id", "received_at"]
