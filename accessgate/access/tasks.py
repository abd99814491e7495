from celery import shared_task

from .reporting import download_rollup
from .services import (
    grant_expire_due,
    grants_activate_all_ready,
    reminders_send_due,
    review_digests_send,
)
from .services.escalations import requests_escalate


@shared_task
def expire_grants() -> int:
    return grant_expire_due()


@shared_task
def send_reminders() -> dict[str, int]:
    return {str(kind): count for kind, count in reminders_send_due().items()}


@shared_task
def activate_ready_grants() -> int:
    """Pending grants whose requirements now hold (a safety net; signals catch most at once)."""
    return grants_activate_all_ready()


@shared_task
def send_review_digests() -> int:
    return review_digests_send()


@shared_task
def roll_up_downloads() -> int:
    """Roll up each closed day's downloads for the dashboard (a no-op once every day is built)."""
    return download_rollup.download_rollup_build_missing()


@shared_task
def escalate_requests() -> int:
    """Escalate requests past their review target (and any left without a decider): each once."""
    return requests_escalate()
