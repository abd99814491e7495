"""Queue a Celery task once the current transaction commits, and say so when the broker is down."""

import logging
from typing import Any

from django.db import transaction
from django.utils.module_loading import import_string

from .jobs import BackgroundJob, job_fail_if_queued

logger = logging.getLogger(__name__)


def queue_now(
    task: Any, *args: Any, job: tuple[type[BackgroundJob], int] | None = None, what: str = "the task"
) -> bool:
    """`task.delay(*args)`; if the broker cannot take it, log it and, for a job, mark the job
    failed with a message asking to try again (instead of leaving it queued forever).

    Returns whether the task was queued. Work without a job row (e-mails, provider syncs) has
    its own sweeper that picks it up later.
    """
    if isinstance(task, str):
        # A dotted path: the tasks module imports the services that queue its tasks.
        task = import_string(task)
    try:
        task.delay(*args)
    except Exception as error:  # any broker error: the caller's change is committed, the task is not
        logger.exception("Could not queue %s (%s).", what, getattr(task, "name", task))
        if job is not None:
            model, pk = job
            job_fail_if_queued(model, pk, f"Could not start {what} ({error}); try again.")
        return False
    return True


def queue_after_commit(
    task: Any, *args: Any, job: tuple[type[BackgroundJob], int] | None = None, what: str = "the task"
) -> None:
    """Queue `task` after the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: queue_now(task, *args, job=job, what=what))
