import shutil
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accessgate.catalog.selectors import model_by_name
from accessgate.core.errors import DomainError
from accessgate.core.jobs import JobStatus
from accessgate.core.tasks import queue_after_commit
from accessgate.downloads.imports import release_import_prepare, release_import_run
from accessgate.downloads.models import ReleaseImport
from accessgate.downloads.progress import human_bytes, progress_text
from accessgate.downloads.tasks import run_release_import


class ProgressLine:
    """The import's progress on the terminal: one line redrawn in place on a TTY; on a log
    (CI, `| tee`) a plain line every `every` seconds, so the log stays readable."""

    def __init__(self, stream, *, tty: bool, every: float = 10.0, clock=time.monotonic):
        self.stream, self.tty, self.every, self.clock = stream, tty, every, clock
        self.last: float | None = None
        self.drawn = False

    def __call__(self, job: ReleaseImport) -> None:
        text = progress_text(job)
        if job.current_file:
            text += f" · {job.current_file}"
        if self.tty:
            width = shutil.get_terminal_size((100, 20)).columns - 1
            # \r back to the line's start, \x1b[K clears what a longer line left behind.
            self.stream.write(f"\r{text[:width]}\x1b[K", ending="")
            self.stream.flush()
            self.drawn = True
            return
        now = self.clock()
        if self.last is None or now - self.last >= self.every:
            self.last = now
            self.stream.write(text)

    def close(self) -> None:
        if self.drawn:
            self.stream.write("")


class Command(BaseCommand):
    help = (
        "Create a release from a local directory (uploaded to the configured store) or from an "
        "existing s3://bucket/prefix (indexed in place). Every file's size and sha256 are recorded. "
        "An s3:// prefix must lie under the model's own namespace/name/ (or an import prefix opened to "
        "--requested-by) unless --any-prefix says otherwise; the bucket root, the portal's own areas and "
        "other models' files are refused always."
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
            "--any-prefix",
            action="store_true",
            help="index an s3:// prefix outside the model's own (never the bucket root, the portal's areas "
            "or another model's files)",
        )
        parser.add_argument(
            "--background", action="store_true", help="queue a Celery task and return; follow it in the admin"
        )
        parser.add_argument(
            "--quiet", action="store_true", help="no progress lines (the summary and errors are still printed)"
        )

    def handle(
        self, *args, model, version, source, notes, background, requested_by, quiet=False, any_prefix=False, **options
    ):
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
            job = release_import_prepare(
                actor=actor,
                model=target,
                version=version,
                source=source,
                notes=notes,
                operator=True,
                unconfined=any_prefix,
            )
            if background:
                queue_after_commit(run_release_import, job.pk, job=(ReleaseImport, job.pk), what="the import")
                self.stdout.write(f"Queued import #{job.pk}; follow it under Downloads › Release imports in the admin.")
                return
            line = None if quiet else ProgressLine(self.stdout, tty=self.stdout.isatty())
            try:
                release = release_import_run(job, on_progress=line)
            finally:
                if line:
                    line.close()
        except DomainError as error:
            raise CommandError(error.message) from error
        except KeyboardInterrupt:
            raise CommandError(
                "Interrupted; nothing was created. Run the same command again to resume: "
                "files already stored (same size and sha256) are not sent again."
            ) from None
        except Exception as error:  # storage unreachable, disk full…: recorded on the job, said plainly
            raise CommandError(
                f"The import failed and created nothing: {error}. Run the same command again to resume: "
                "files already stored (same size and sha256) are not sent again."
            ) from error
        job.refresh_from_db()
        if job.status != JobStatus.DONE:
            raise CommandError(job.error or "The import failed.")
        reused = f"; {job.files_reused} already stored, not sent again" if job.files_reused else ""
        self.stdout.write(
            f"Imported {job.files_done} files ({human_bytes(job.bytes_done)}, {job.bytes_done} bytes{reused}) "
            f"as {release} revision {release.revision}."
        )
