from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accessgate.catalog.selectors import model_by_name
from accessgate.core.errors import DomainError
from accessgate.core.jobs import JobStatus
from accessgate.core.tasks import queue_after_commit
from accessgate.downloads.models import ReleaseImport
from accessgate.downloads.services import release_import_prepare, release_import_run
from accessgate.downloads.tasks import run_release_import


class Command(BaseCommand):
    help = (
        "Create a release from a local directory (uploaded to the configured store) or from an "
        "existing s3://bucket/prefix (indexed in place). Every file's size and sha256 are recorded."
    )

    def add_arguments(self, parser):
        parser.add_argument("model", help="namespace/name, e.g. acme-lab/frontier-7b")
        parser.add_argument("version", help="the release's version, e.g. 1.0")
        parser.add_argument("source", help="a local directory or s3://bucket/prefix")
        parser.add_argument("--notes", default="", help="release notes")
        parser.add_argument(
            "--requested-by", default="", metavar="EMAIL", help="the account asking (recorded on the job and audited)"
        )
        parser.add_argument(
            "--background", action="store_true", help="queue a Celery task and return; follow it in the admin"
        )

    def handle(self, *args, model, version, source, notes, background, requested_by, **options):
        namespace, _, name = model.partition("/")
        target = model_by_name(namespace, name, include_drafts=True)
        if target is None:
            raise CommandError(f"No model named {model}.")
        actor = None
        if requested_by:
            actor = get_user_model().objects.filter(email__iexact=requested_by).first()
            if actor is None:
                raise CommandError(f"No account with the e-mail address {requested_by}.")
        try:
            job = release_import_prepare(actor=actor, model=target, version=version, source=source, notes=notes)
            if background:
                queue_after_commit(run_release_import, job.pk, job=(ReleaseImport, job.pk), what="the import")
                self.stdout.write(f"Queued import #{job.pk}; follow it under Downloads › Release imports in the admin.")
                return
            release = release_import_run(job)
        except DomainError as error:
            raise CommandError(error.message) from error
        except Exception as error:  # storage unreachable, disk full…: recorded on the job, said plainly
            raise CommandError(f"The import failed and created nothing: {error}") from error
        job.refresh_from_db()
        if job.status != JobStatus.DONE:
            raise CommandError(job.error or "The import failed.")
        self.stdout.write(
            f"Imported {job.files_done} files ({job.bytes_done} bytes) as {release} revision {release.revision}."
        )
