from django.contrib import admin

from accessgate.audit.context import RequestMeta
from accessgate.core.admin import ReadOnlyAdmin

from .models import Question, Training, TrainingRecord
from .services import training_definition_saved


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 1


@admin.register(Training)
class TrainingAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "validity_days", "pass_mark", "is_active"]
    inlines = [QuestionInline]

    def has_delete_permission(self, request, obj=None):
        return False  # untick "active" instead; records refer to it

    def save_related(self, request, form, formsets, change):
        # The admin's change view runs in one transaction: the rows and their audit event
        # (with the questions as saved) commit together.
        super().save_related(request, form, formsets, change)
        changed = list(form.changed_data) + ["questions" for formset in formsets if formset.has_changed()][:1]
        if not change or changed:
            training_definition_saved(
                actor=request.user,
                training=form.instance,
                created=not change,
                changed=changed,
                meta=RequestMeta.from_request(request),
            )


@admin.register(TrainingRecord)
class TrainingRecordAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "training", "status", "score", "created_at", "expires_at"]
    list_filter = ["status", "training"]
