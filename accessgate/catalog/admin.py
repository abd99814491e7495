from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accessgate.accounts.roles import Role
from accessgate.audit.context import RequestMeta
from accessgate.core.admin import ReadOnlyAdmin
from accessgate.core.errors import DomainError
from accessgate.core.forms import add_domain_error

from . import services
from .models import ImportPrefix, LicenseVersion, Model, Release, WeightFile


@admin.register(Model)
class ModelAdmin(admin.ModelAdmin):
    list_display = ["__str__", "display_name", "status", "is_listed", "created_at"]
    list_filter = ["status"]
    search_fields = ["namespace", "name", "display_name"]
    filter_horizontal = ["reviewers", "publishers"]
    fields = [
        "namespace",
        "name",
        "display_name",
        "summary",
        "card_markdown",
        "is_listed",
        "reviewers",
        "publishers",
    ]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        # Only holders of the role are offered (the services refuse anyone else).
        role = {"reviewers": Role.REVIEWER, "publishers": Role.PUBLISHER}.get(db_field.name)
        if role is not None:
            kwargs["queryset"] = get_user_model().objects.filter(groups__name=role.value).order_by("email")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return ["namespace", "name"] if obj else []

    def has_delete_permission(self, request, obj=None):
        return False  # unlist a model instead; its requests, grants and events refer to it

    def save_model(self, request, obj, form, change):
        # Changes go through the services so that they are audited.
        meta = RequestMeta.from_request(request)
        if change:
            fields = {
                name: form.cleaned_data[name] for name in services.MODEL_EDITABLE_FIELDS if name in form.cleaned_data
            }
            services.model_update(actor=request.user, model=obj, meta=meta, **fields)
        else:
            created = services.model_create(
                actor=request.user,
                namespace=obj.namespace,
                name=obj.name,
                display_name=obj.display_name,
                summary=obj.summary,
                card_markdown=obj.card_markdown,
                meta=meta,
            )
            obj.pk = created.pk

    def save_related(self, request, form, formsets, change):
        meta = RequestMeta.from_request(request)
        services.model_update(
            actor=request.user, model=form.instance, reviewers=list(form.cleaned_data["reviewers"]), meta=meta
        )
        services.model_publishers_set(
            actor=request.user, model=form.instance, publishers=form.cleaned_data["publishers"], meta=meta
        )


@admin.register(LicenseVersion)
class LicenseVersionAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "published_at", "sha256"]
    fields = ["name", "version", "text"]

    def has_change_permission(self, request, obj=None):
        return obj is None

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        created = services.license_publish(
            actor=request.user,
            name=obj.name,
            version=obj.version,
            text=obj.text,
            meta=RequestMeta.from_request(request),
        )
        obj.pk = created.pk


class WeightFileInline(admin.TabularInline):
    model = WeightFile
    # Ignored: the stubs' union does not accept a plain list of names.
    fields = readonly_fields = ["path", "size", "sha256", "storage_key"]  # type: ignore[assignment]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Release)
class ReleaseAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "revision", "is_active", "created_at"]
    inlines = [WeightFileInline]


class ImportPrefixForm(forms.Form):
    publisher = forms.ModelChoiceField(queryset=get_user_model().objects.none())
    # Ignored: a field named prefix; the metaclass moves it off the class.
    prefix = forms.CharField(  # type: ignore[assignment]
        max_length=1024,
        help_text=gettext_lazy(
            "A folder of the configured bucket (s3://bucket/folder/ or folder/), outside every model's "
            "namespace/name/ and the portal's own areas."
        ),
    )
    note = forms.CharField(max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["publisher"].queryset = (
            get_user_model().objects.filter(groups__name=Role.PUBLISHER.value).order_by("email")
        )


@admin.register(ImportPrefix)
class ImportPrefixAdmin(ReadOnlyAdmin):
    """Prefixes opened to publishers for indexing releases: added and closed through the
    audited services, never edited (close one and open another)."""

    list_display = ["prefix", "publisher", "note", "created_by", "created_at"]
    search_fields = ["prefix", "publisher__email"]
    actions = ["close_prefixes"]

    def has_add_permission(self, request, obj=None):
        return self.admin_site.has_permission(request)  # the add view below calls the service

    def add_view(self, request, form_url="", extra_context=None):
        form = ImportPrefixForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                row = services.import_prefix_add(
                    actor=request.user, meta=RequestMeta.from_request(request), **form.cleaned_data
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                self.message_user(
                    request,
                    _("%(prefix)s is open to %(email)s.") % {"prefix": row.prefix, "email": row.publisher.email},
                )
                return redirect("admin:catalog_importprefix_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Open an import prefix to a publisher"),
            "form": form,
            "submit_label": _("Open"),
            "intro": _(
                "The publisher may then index releases of the models they publish from under this prefix, "
                "besides each model's own namespace/name/."
            ),
        }
        return TemplateResponse(request, "admin/service_form.html", context, status=400 if form.errors else 200)

    @admin.action(description=gettext_lazy("Close the selected import prefixes (audited)"))
    def close_prefixes(self, request, queryset):
        meta = RequestMeta.from_request(request)
        rows = list(queryset)
        for row in rows:
            services.import_prefix_remove(actor=request.user, import_prefix=row, meta=meta)
        self.message_user(request, _("%(count)s import prefix(es) closed.") % {"count": len(rows)})
