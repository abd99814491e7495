from django.contrib import admin

from accessgate.core.admin import ReadOnlyAdmin

from .models import Question, Training, TrainingRecord


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 1


@admin.register(Training)
class TrainingAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "validity_days", "pass_mark", "is_active"]
    inlines = [QuestionInline]

    def has_delete_permission(self, request, obj=None):
        return False  # untick "active" instead; records refer to it


@admin.register(TrainingRecord)
class TrainingRecordAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "training", "status", "score", "created_at", "expires_at"]
    list_filter = ["status", "training"]
