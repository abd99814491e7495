from django.db.models import QuerySet

from .models import RecordStatus, Training, TrainingRecord


def valid_training_ids(user, *, now=None) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(TrainingRecord.objects.valid(now=now).filter(user=user).values_list("training_id", flat=True))


def active_trainings() -> QuerySet[Training]:
    return Training.objects.filter(is_active=True)


def records_of(user) -> QuerySet[TrainingRecord]:
    return TrainingRecord.objects.filter(user=user).select_related("training")


def certificates_to_check() -> QuerySet[TrainingRecord]:
    return (
        TrainingRecord.objects.filter(status=RecordStatus.PENDING)
        .select_related("training", "user__profile")
        .order_by("created_at")
    )
