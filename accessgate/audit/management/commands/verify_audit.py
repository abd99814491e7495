import sys
from argparse import ArgumentParser
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from accessgate.audit.checkpoints import check_all
from accessgate.audit.receipts import check_receipt
from accessgate.audit.verification import verify_chain


class Command(BaseCommand):
    help = (
        "Check the audit trail's hash chain, and the chain against every signed checkpoint in "
        "storage and given as files. Exits 0 when all holds, 1 naming what breaks."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--from", dest="from_seq", type=int, help="first seq to check")
        parser.add_argument("--to", dest="to_seq", type=int, help="last seq to check")
        parser.add_argument(
            "--jobs", type=int, default=None, help="seq ranges checked at once on PostgreSQL (default: CPU count)"
        )
        parser.add_argument(
            "--checkpoint",
            dest="checkpoints",
            nargs="+",
            action="extend",
            default=[],
            metavar="FILE",
            help="saved checkpoint files (from /audit/checkpoints/…, e-mail or storage) to check against",
        )
        parser.add_argument(
            "--receipt", dest="receipts", nargs="+", action="extend", default=[], metavar="FILE", help="receipts"
        )
        parser.add_argument(
            "--no-stored-checkpoints", action="store_true", help="do not read the checkpoints in storage"
        )

    def handle(
        self,
        *args: Any,
        from_seq: int | None = None,
        to_seq: int | None = None,
        jobs: int | None = None,
        checkpoints: Sequence[str] = (),
        receipts: Sequence[str] = (),
        **options: Any,
    ) -> None:
        def progress(count: int) -> None:
            self.stderr.write(f"… {count} events checked")

        failed = False
        result = verify_chain(
            from_seq=from_seq, to_seq=to_seq, jobs=jobs, progress=progress if options["verbosity"] > 1 else None
        )
        if result.ok:
            self.stdout.write(self.style.SUCCESS(result.summary()))
        else:
            self.stderr.write(self.style.ERROR(result.summary()))
            failed = True
        files = [(path, Path(path).read_bytes()) for path in checkpoints]
        count, problems, skipped = check_all(files, use_storage=not options["no_stored_checkpoints"])
        for item in skipped:
            # Named, never read: only the portal writes checkpoints, and names them as it does.
            self.stderr.write(self.style.WARNING(f"SKIPPED {item}"))
        for problem in problems:
            self.stderr.write(self.style.ERROR(f"FAILED {problem}"))
        if problems:
            failed = True
        elif count:
            self.stdout.write(self.style.SUCCESS(f"All {count} checkpoints match the chain."))
        else:
            self.stdout.write(self.style.WARNING("No checkpoints to check against (none stored or given)."))
        for path in receipts:
            receipt_problems = check_receipt(path, Path(path).read_bytes())
            for receipt_problem in receipt_problems:
                self.stderr.write(self.style.ERROR(f"FAILED {receipt_problem}"))
            failed = failed or bool(receipt_problems)
            if not receipt_problems:
                self.stdout.write(self.style.SUCCESS(f"Receipt {path} holds."))
        if failed:
            sys.exit(1)
