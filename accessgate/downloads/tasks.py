import shutil

from celery import shared_task

from accessgate.core.jobs import JobStatus

from .imports import release_import_run
from .models import ReleaseImport, ReleaseUpload


@shared_task(acks_late=True)
def run_release_import(job_id: int) -> str:
    """Idempotent: a job that already finished is not run again."""
    job = ReleaseImport.objects.select_related("model", "requested_by").get(pk=job_id)
    if job.status in (JobStatus.DONE, JobStatus.RUNNING):
        return job.status
    release_import_run(job, actor=job.requested_by)
    # A browser upload's staged copies (local backend) are in the store now.
    for upload in ReleaseUpload.objects.filter(release_import=job, backend="local"):
        shutil.rmtree(upload.staging_dir, ignore_errors=True)
    return JobStatus.DONE
