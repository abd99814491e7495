from django.contrib import admin

from .models import IdentityVerification, WebhookEvent


@admin.register(IdentityVerification)
class IdentityVerificationAdmin(admin.ModelAdmin):
    list_display = ["user", "provider", "status", "document_country", "verified_at", "expires_at"]
    list_filter = ["status", "provider"]
    search_fields = ["user__email", "session_id"]
    readonly_fields = [f.name for f in IdentityVerification._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["provider", "type", "event_id", "received_at"]
    readonly_fields = [f.name for f in WebhookEvent._meta.fields]

    def has_add_permission(self, request):
        return False
