from typing import Any

from django.core.management.base import BaseCommand

from accessgate.audit.checkpoints import MANUAL, checkpoint_create, store_pending


class Command(BaseCommand):
    help = "Sign the audit chain's head now and write the checkpoint to storage (nothing new if unchanged)."

    def handle(self, *args: Any, **options: Any) -> None:
        store_pending()
        checkpoint, created = checkpoint_create(actor=None, reason=MANUAL)
        checkpoint.refresh_from_db()
        state = "new" if created else "unchanged since the last one"
        where = checkpoint.storage_key or f"NOT STORED ({checkpoint.store_error})"
        self.stdout.write(f"Checkpoint #{checkpoint.seq} {checkpoint.hash} ({state}); stored at {where}")
