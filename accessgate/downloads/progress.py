"""How far a release import has got: one tracker records it on the job (throttled) and
tells whoever watches (the terminal), and one wording says it the same way in the
terminal, the admin and the publisher's console."""

import time
from collections.abc import Callable

from django.utils import formats
from django.utils.translation import gettext, ngettext

from accessgate.core.jobs import job_update

from .models import ReleaseImport

# Seconds between two writes of the job row (and two terminal updates): often enough to
# look alive, rare enough that a 100,000-file import is not a 100,000-UPDATE import.
PROGRESS_INTERVAL = 1.0


class ImportProgress:
    """Counts files and bytes as they are hashed and stored.

    A local import reads each byte twice (hash, then upload): each pass moves the bytes
    done halfway, so "bytes done" always ends at the total and the rate and the time left
    stay honest. Indexing an s3:// prefix only hashes (`hash_share=1`). A file found
    already stored counts as done at once but does not inflate the rate.
    """

    def __init__(
        self,
        job: ReleaseImport,
        *,
        on_update: Callable[[ReleaseImport], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.job, self.on_update, self.clock = job, on_update, clock
        self.hash_share = 1.0
        self.files_done = self.files_reused = 0
        self.bytes_reused = 0
        self._base = 0  # bytes of the files finished
        self._current = 0.0  # bytes done within the current file
        self._size = 0
        self._work = 0.0  # bytes actually read or sent (what the rate measures)
        self._last_time: float | None = None
        self._last_work = 0.0
        self.rate = 0

    def begin(self, *, files_total: int, bytes_total: int, hash_share: float) -> None:
        self.hash_share = hash_share
        job_update(
            self.job,
            files_total=files_total,
            bytes_total=bytes_total,
            files_done=0,
            bytes_done=0,
            files_reused=0,
            bytes_reused=0,
            rate=0,
            current_file="",
        )
        self._last_time = self.clock()
        self._notify()

    def start_file(self, path: str, size: int) -> None:
        self.current_file, self._size, self._current = path, size, 0.0
        self.tick(force=not self.files_done)

    def hashed(self, count: int) -> None:
        self._advance(count * self.hash_share)

    def stored(self, count: int) -> None:
        self._advance(count * (1 - self.hash_share))

    def _advance(self, amount: float) -> None:
        self._current = min(self._size, self._current + amount)
        self._work += amount
        self.tick()

    def reused(self) -> None:
        """The stored copy is this very file: nothing to send."""
        self.files_reused += 1
        self.bytes_reused += self._size

    def finish_file(self) -> None:
        self._base += self._size
        self.files_done += 1
        self._current, self._size = 0.0, 0
        self.tick()

    def finish(self) -> None:
        self.current_file = ""
        self.tick(force=True)

    def tick(self, *, force: bool = False) -> None:
        now = self.clock()
        elapsed = 0.0 if self._last_time is None else now - self._last_time
        if not force and elapsed < PROGRESS_INTERVAL:
            return
        if elapsed > 0:
            current = (self._work - self._last_work) / elapsed
            # Smoothed, so one slow second does not swing the time left around.
            self.rate = int(current if not self.rate else 0.5 * current + 0.5 * self.rate)
        self._last_time, self._last_work = now, self._work
        job_update(
            self.job,
            files_done=self.files_done,
            bytes_done=self._base + int(self._current),
            files_reused=self.files_reused,
            bytes_reused=self.bytes_reused,
            rate=self.rate,
            current_file=getattr(self, "current_file", "")[:500],
        )
        self._notify()

    def _notify(self) -> None:
        if self.on_update:
            self.on_update(self.job)


# --- saying it ---------------------------------------------------------------------------


def human_bytes(count: int) -> str:
    """Decimal units, as disks and networks count: 1.2 GB, 85 MB."""
    value, unit = float(count), "B"
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if value < 1000 or unit == "PB":
            break
        value /= 1000
    if unit == "B":
        return f"{int(value)} B"
    return f"{formats.number_format(value, 1 if value < 10 else 0)} {unit}"


def human_duration(seconds: float) -> str:
    seconds = max(1, round(seconds))
    if seconds < 60:
        return gettext("%(s)d s") % {"s": seconds}
    if seconds < 3600:
        return gettext("%(m)d min") % {"m": round(seconds / 60)}
    hours, minutes = divmod(round(seconds / 60), 60)
    return gettext("%(h)d h %(m)d min") % {"h": hours, "m": minutes}


def eta_seconds(job: ReleaseImport) -> float | None:
    if job.finished or not job.rate or job.bytes_total <= job.bytes_done:
        return None
    return (job.bytes_total - job.bytes_done) / job.rate


def progress_text(job: ReleaseImport) -> str:
    """ "3 of 9 files · 1.2 GB of 4.0 GB · 85 MB/s · about 40 s left"."""
    parts = [
        ngettext("%(done)d of %(total)d file", "%(done)d of %(total)d files", job.files_total)
        % {"done": job.files_done, "total": job.files_total},
        gettext("%(done)s of %(total)s") % {"done": human_bytes(job.bytes_done), "total": human_bytes(job.bytes_total)},
    ]
    if not job.finished and job.rate:
        parts.append(gettext("%(rate)s/s") % {"rate": human_bytes(job.rate)})
    eta = eta_seconds(job)
    if eta is not None:
        parts.append(gettext("about %(time)s left") % {"time": human_duration(eta)})
    if job.files_reused:
        parts.append(
            ngettext("%(n)d file already stored", "%(n)d files already stored", job.files_reused)
            % {"n": job.files_reused}
        )
    return " · ".join(parts)


def import_status(job: ReleaseImport) -> dict:
    """What the status endpoints answer (the pages poll it while the import runs)."""
    eta = eta_seconds(job)
    return {
        "id": job.pk,
        "status": job.status,
        "status_display": job.get_status_display(),
        "finished": job.finished,
        "files_done": job.files_done,
        "files_total": job.files_total,
        "files_reused": job.files_reused,
        "bytes_done": job.bytes_done,
        "bytes_total": job.bytes_total,
        "bytes_per_second": job.rate,
        "eta_seconds": None if eta is None else round(eta),
        "percent": job.percent,
        "current_file": "" if job.finished else job.current_file,
        "text": progress_text(job),
        "error": job.error,
    }
