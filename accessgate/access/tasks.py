from celery import shared_task

from .services import grant_expire_due


@shared_task
def expire_grants() -> int:
    return grant_expire_due()
