from celery import shared_task
from django.conf import settings

from accessgate.core.jobs import JobStatus
from accessgate.core.storage import prefixes
from accessgate.core.tasks import queue_now

from . import chainer
from .exports import audit_export_run, daily_export_due
from .models import AuditExport, VerificationRun
from .verification import audit_verification_run


@shared_task(acks_late=True)
def run_export(export_id: int) -> str:
    """Idempotent: an export already running or done is not started again."""
    export = AuditExport.objects.get(pk=export_id)
    if export.status in (JobStatus.RUNNING, JobStatus.DONE):
        return export.status
    prefix = settings.ACCESSGATE_AUDIT_DAILY_EXPORT_PREFIX if export.scheduled_day else prefixes.AUDIT_EXPORTS
    audit_export_run(export, key_prefix=prefix)
    return JobStatus.DONE


@shared_task(acks_late=True)
def run_verification(run_id: int) -> str:
    run = VerificationRun.objects.get(pk=run_id)
    if run.status in (JobStatus.RUNNING, JobStatus.DONE):
        return run.status
    return "ok" if audit_verification_run(run).ok else "broken"


@shared_task
def daily_export() -> str:
    """Beat job: when enabled, export each finished UTC day once, for SIEM ingestion."""
    if not settings.ACCESSGATE_AUDIT_DAILY_EXPORT:
        return "disabled"
    export = daily_export_due()
    if export is None:
        return "already exported"
    queue_now(run_export, export.pk, job=(AuditExport, export.pk), what="the daily export")
    return f"queued export #{export.pk}"


@shared_task
def chain_pending() -> int:
    """Beat backstop for `manage.py audit_chainer`: link whatever is committed and unlinked."""
    return chainer.chain_all()


@shared_task
def checkpoint() -> str:
    """Beat job: sign the head when events arrived since the last checkpoint (else nothing),
    and store any checkpoint that storage refused before."""
    from .checkpoints import SCHEDULED, checkpoint_create, store_pending

    store_pending()
    made, created = checkpoint_create(actor=None, reason=SCHEDULED)
    return f"checkpoint #{made.seq}" if created else "unchanged"


@shared_task
def flush_refusals() -> str:
    """Beat job (every minute): each closed window of refusals becomes one audit event."""
    from .refusals import refusals_flush

    return f"recorded {refusals_flush()} refusal windows"
