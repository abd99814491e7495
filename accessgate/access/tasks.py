from celery import shared_task

from .services import grant_expire_due, reminders_send_due


@shared_task
def expire_grants() -> int:
    return grant_expire_due()


@shared_task
def send_reminders() -> dict[str, int]:
    return {str(kind): count for kind, count in reminders_send_due().items()}
