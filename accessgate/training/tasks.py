from celery import shared_task

from .services import training_expire_due


@shared_task
def expire_trainings() -> int:
    return training_expire_due()
