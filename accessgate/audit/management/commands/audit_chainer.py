import signal
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from accessgate.audit import chainer


class Command(BaseCommand):
    requires_system_checks = []  # a long-running worker; `manage.py check` is the deploy's job
    help = (
        "Link committed audit events into the hash chain, in batches, until stopped (SIGTERM/SIGINT). "
        "Run one (or more: they take turns on the chain head's lock) beside the web workers."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--once", action="store_true", help="link everything pending now, then exit")
        parser.add_argument("--idle-ms", type=int, default=50, help="poll interval when nothing is pending")
        parser.add_argument("--batch", type=int, default=chainer.BATCH)

    def handle(
        self, *args: Any, once: bool = False, idle_ms: int = 50, batch: int = chainer.BATCH, **options: Any
    ) -> None:
        if once:
            self.stdout.write(f"Linked {chainer.chain_all()} events.")
            return
        stopping: list[bool] = []
        for name in (signal.SIGTERM, signal.SIGINT):
            signal.signal(name, lambda *_: stopping.append(True))
        verbose = options["verbosity"] > 1
        chainer.run(
            should_stop=lambda: bool(stopping),
            on_batch=(lambda r: self.stdout.write(f"linked {r.count} up to #{r.last_seq}")) if verbose else None,
            idle_seconds=idle_ms / 1000,
            batch=batch,
        )
        self.stdout.write("audit chainer stopped.")
