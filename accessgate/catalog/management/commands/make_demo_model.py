"""Write a genuine tiny Llama checkpoint (random weights in the standard Hugging Face layout)
into a directory, ready for `import_release` or for trying the portal with realistic files."""

import hashlib
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accessgate.catalog.demo_models import SIZES, write_model


class Command(BaseCommand):
    help = (
        "Write a small Llama checkpoint with random weights (config, safetensors, tokenizer, model card) "
        "into DIRECTORY. The same arguments always give the same bytes."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", help="Where to write the files; created if missing, must be empty.")
        parser.add_argument(
            "--size",
            choices=list(SIZES),
            default="tiny",
            help="tiny (0.6 MB), small (3.3 MB) or large (36 MB, to watch download progress and resume).",
        )
        parser.add_argument(
            "--shards", type=int, default=1, help="Weight files; above 1 adds model.safetensors.index.json."
        )
        parser.add_argument("--name", default="", help="The model's name in its card, and the seed of its weights.")

    def handle(self, *args, directory, size, shards, name, **options):
        target = Path(directory)
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise CommandError(f"{target} is not an empty directory; choose a new one.")
        try:
            written = write_model(target, name=name or f"accessgate-demo-llama-{size}", size=size, shards=shards)
        except ValueError as error:
            raise CommandError(str(error)) from error
        for path, length in written.items():
            digest = hashlib.sha256((target / path).read_bytes()).hexdigest()
            self.stdout.write(f"{digest}  {length:>12,}  {path}")
        total = sum(written.values())
        self.stdout.write(self.style.SUCCESS(f"Wrote {len(written)} files, {total:,} bytes, to {target}."))
