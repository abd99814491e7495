"""The admin's webhook pages, in the Django admin (admin role only, see `AccessgateAdminSite`).

Rows are read-only here: registering, rotating, disabling and redelivering go through the
audited services, from the custom views and actions below.
"""

from django import forms
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accessgate.audit.context import RequestMeta
from accessgate.core.admin import ReadOnlyAdmin
from accessgate.core.errors import DomainError

from . import services
from .models import Email, WebhookDelivery, WebhookEndpoint
from .webhooks import WEBHOOK_EVENTS


@admin.register(Email)
class EmailAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "subject", "status", "attempts", "sent_at"]
    list_filter = ["status"]
    search_fields = ["subject", "to"]


class WebhookEndpointForm(forms.Form):
    url = forms.URLField(label=gettext_lazy("URL"), max_length=500, assume_scheme="https")
    description = forms.CharField(max_length=200, required=False)
    model = WebhookEndpoint._meta.get_field("model").formfield(
        required=False,
        empty_label=gettext_lazy("All models"),
        help_text=gettext_lazy("Send events of this model only."),
    )
    events = forms.MultipleChoiceField(
        # format_lazy: the label is translated when the form is shown, not once at import.
        choices=[(action.value, format_lazy("{} ({})", action.value, action.label)) for action in WEBHOOK_EVENTS],
        initial=[action.value for action in WEBHOOK_EVENTS],
        widget=forms.CheckboxSelectMultiple,
    )


def _secret_page(request, admin_site, endpoint, secret, title):
    response = TemplateResponse(
        request,
        "admin/notifications/webhook_secret.html",
        {**admin_site.each_context(request), "title": title, "endpoint": endpoint, "secret": secret},
    )
    response["Cache-Control"] = "no-store"  # the secret is shown once; no cache keeps it
    return response


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ["url", "scope", "event_count", "is_active", "secret_hint", "created_at", "delivery_log"]
    list_filter = ["is_active"]
    search_fields = ["url", "description"]
    readonly_fields = ["delivery_log", "edit_link", "rotate_link"]
    fields = [
        "url",
        "description",
        "model",
        "events",
        "is_active",
        "secret_hint",
        "secret_rotated_at",
        "created_at",
        "created_by_label",
        "delivery_log",
        "edit_link",
        "rotate_link",
    ]
    actions = ["disable_endpoints", "enable_endpoints"]

    def has_add_permission(self, request, obj=None):
        return self.admin_site.has_permission(request)  # the add view below calls the service

    @admin.display(description=gettext_lazy("Model"))
    def scope(self, obj):
        return obj.model.full_name if obj.model_id else _("all models")

    @admin.display(description=gettext_lazy("Events"))
    def event_count(self, obj):
        return len(obj.events)

    @admin.display(description=gettext_lazy("Deliveries"))
    def delivery_log(self, obj):
        url = reverse("admin:notifications_webhookdelivery_changelist") + f"?endpoint__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("delivery log"))

    @admin.display(description=gettext_lazy("Secret"))
    def rotate_link(self, obj):
        url = reverse("admin:notifications_webhookendpoint_rotate", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("rotate the signing secret"))

    @admin.display(description=gettext_lazy("Change"))
    def edit_link(self, obj):
        url = reverse("admin:notifications_webhookendpoint_edit", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("change the URL, model or events"))

    def get_urls(self):
        own = [
            path(
                "<int:pk>/rotate/",
                self.admin_site.admin_view(self.rotate_view),
                name="notifications_webhookendpoint_rotate",
            ),
            path(
                "<int:pk>/edit/",
                self.admin_site.admin_view(self.edit_view),
                name="notifications_webhookendpoint_edit",
            ),
        ]
        return [*own, *super().get_urls()]

    def _form_page(self, request, form, title, editing=False):
        context = {**self.admin_site.each_context(request), "title": title, "form": form, "editing": editing}
        return TemplateResponse(request, "admin/notifications/webhook_form.html", context)

    def add_view(self, request, form_url="", extra_context=None):
        form = WebhookEndpointForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                endpoint, secret = services.webhook_endpoint_create(
                    actor=request.user, meta=RequestMeta.from_request(request), **form.cleaned_data
                )
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                return _secret_page(request, self.admin_site, endpoint, secret, _("Webhook endpoint registered"))
        return self._form_page(request, form, _("Register a webhook endpoint"))

    def edit_view(self, request, pk):
        endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
        initial = {
            "url": endpoint.url,
            "description": endpoint.description,
            "model": endpoint.model_id,
            "events": endpoint.events,
        }
        form = WebhookEndpointForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                services.webhook_endpoint_update(
                    actor=request.user, endpoint=endpoint, meta=RequestMeta.from_request(request), **form.cleaned_data
                )
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                self.message_user(request, _("The endpoint was changed; its secret stays the same."))
                return redirect("admin:notifications_webhookendpoint_change", endpoint.pk)
        return self._form_page(
            request, form, _("Change webhook endpoint %(url)s") % {"url": endpoint.url}, editing=True
        )

    def rotate_view(self, request, pk):
        endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
        if request.method == "POST":
            endpoint, secret = services.webhook_endpoint_rotate_secret(
                actor=request.user, endpoint=endpoint, meta=RequestMeta.from_request(request)
            )
            return _secret_page(request, self.admin_site, endpoint, secret, _("Signing secret rotated"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Rotate the signing secret"),
            "endpoint": endpoint,
            "rotate": True,
        }
        return TemplateResponse(request, "admin/notifications/webhook_form.html", context)

    def _set_active(self, request, queryset, active: bool):
        changed = sum(
            services.webhook_endpoint_set_active(
                actor=request.user, endpoint=endpoint, active=active, meta=RequestMeta.from_request(request)
            )
            for endpoint in queryset
        )
        self.message_user(
            request,
            (_("%(changed)s endpoint(s) enabled.") if active else _("%(changed)s endpoint(s) disabled."))
            % {"changed": changed},
        )

    @admin.action(description=gettext_lazy("Disable the selected endpoints (audited)"))
    def disable_endpoints(self, request, queryset):
        self._set_active(request, queryset, False)

    @admin.action(description=gettext_lazy("Enable the selected endpoints (audited)"))
    def enable_endpoints(self, request, queryset):
        self._set_active(request, queryset, True)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "event_type",
        "endpoint",
        "status",
        "last_status_code",
        "attempts",
        "last_attempt_at",
        "next_attempt_at",
        "short_error",
        "redelivery_of",
    ]
    list_filter = ["status", "event_type", "endpoint"]
    list_select_related = ["endpoint__model"]
    actions = ["redeliver"]
    readonly_fields = ["uuid"]

    @admin.display(description=gettext_lazy("Last error"))
    def short_error(self, obj):
        return obj.last_error[:120]

    @admin.action(description=gettext_lazy("Redeliver the selected deliveries (audited)"))
    def redeliver(self, request, queryset):
        sent = 0
        for delivery in queryset:
            try:
                services.webhook_delivery_redeliver(
                    actor=request.user, delivery=delivery, meta=RequestMeta.from_request(request)
                )
                sent += 1
            except DomainError as error:
                self.message_user(
                    request,
                    _("Delivery %(pk)s: %(message)s") % {"pk": delivery.pk, "message": error.message},
                    messages.WARNING,
                )
        self.message_user(request, _("%(sent)s delivery(ies) queued again.") % {"sent": sent})
