import sys

from django.core.management.base import BaseCommand

from accessgate.audit.verification import verify_chain


class Command(BaseCommand):
    help = "Check the audit trail's hash chain. Exits 0 when whole, 1 naming the first broken event."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="from_seq", type=int, help="first seq to check")
        parser.add_argument("--to", dest="to_seq", type=int, help="last seq to check")
        parser.add_argument(
            "--jobs", type=int, default=None, help="seq ranges checked at once on PostgreSQL (default: CPU count)"
        )

    def handle(self, *args, from_seq=None, to_seq=None, jobs=None, **options):
        def progress(count):
            self.stderr.write(f"… {count} events checked")

        result = verify_chain(
            from_seq=from_seq, to_seq=to_seq, jobs=jobs, progress=progress if options["verbosity"] > 1 else None
        )
        if result.ok:
            self.stdout.write(self.style.SUCCESS(result.summary()))
            return
        self.stderr.write(self.style.ERROR(result.summary()))
        sys.exit(1)
