"""Run celery-beat's schedule without a broker or a beat process.

Every periodic task of `settings.CELERY_BEAT_SCHEDULE` runs in this process, each whenever its
interval has passed (all of them at the start). The embedded demo runs it beside the web
server; a production deployment runs `celery beat` and a worker instead. A failing task is
reported and tried again at its next interval; it never stops the others.
"""

import time
from importlib import import_module

from celery import current_app
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the periodic tasks of CELERY_BEAT_SCHEDULE in this process (no broker or beat needed)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run every task once, then stop.")
        parser.add_argument("--tick", type=float, default=5.0, help="Seconds between looks at the schedule.")

    def handle(self, *args, once: bool, tick: float, verbosity: int = 1, **options):
        self.verbosity = verbosity
        schedule = settings.CELERY_BEAT_SCHEDULE
        next_run = dict.fromkeys(schedule, 0.0)
        while True:
            now = time.monotonic()
            for name, entry in schedule.items():
                if now >= next_run[name]:
                    self._run(name, entry["task"])
                    next_run[name] = now + float(entry["schedule"])
            if once:
                return
            time.sleep(tick)

    def _run(self, name: str, task_name: str) -> None:
        import_module(task_name.rsplit(".", 1)[0])  # registers the task, as a worker's autodiscovery does
        result = current_app.tasks[task_name].apply()
        if result.failed():
            self.stderr.write(f"{name}: failed: {result.result!r}")
        elif self.verbosity > 1:
            self.stdout.write(f"{name}: {result.result}")
