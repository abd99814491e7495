from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accessgate.audit.dbroles import current_database, roles_sql


class Command(BaseCommand):
    help = (
        "Print the PostgreSQL SQL that creates an owner role (runs migrations) and a runtime role "
        "(runs the portal: may only SELECT and INSERT audit events). Idempotent; run it as a "
        "superuser before the first migrate and after each."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--owner", default="accessgate_owner", help="the role that owns tables and migrates")
        parser.add_argument("--runtime", default="accessgate_app", help="the role the portal connects as")
        parser.add_argument("--database", help="database name (default: the configured one)")
        parser.add_argument("--schema", default="public")

    def handle(
        self, *args: Any, owner: str, runtime: str, database: str | None = None, schema: str = "public", **options: Any
    ) -> None:
        if owner == runtime:
            raise CommandError("The owner and the runtime role must differ.")
        try:
            self.stdout.write(
                roles_sql(owner=owner, runtime=runtime, database=database or current_database(), schema=schema)
            )
        except ValueError as error:
            raise CommandError(str(error))
