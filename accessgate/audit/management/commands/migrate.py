"""`migrate`, connecting as the owner role when ACCESSGATE_MIGRATE_DATABASE_URL is set.

The portal runs as a runtime role that cannot create or alter tables (see
`manage.py db_roles_sql`); migrations need the owner. Only the credentials change: the owner
URL must name the same database on the same server.
"""

from typing import Any

import environ
from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import DEFAULT_DB_ALIAS, connections

SAME = ("ENGINE", "NAME", "HOST", "PORT")


class Command(DjangoMigrate):
    help = DjangoMigrate.help + " Connects as ACCESSGATE_MIGRATE_DATABASE_URL's (owner) role when it is set."

    def handle(self, *args: Any, **options: Any) -> str | None:
        url = getattr(settings, "ACCESSGATE_MIGRATE_DATABASE_URL", "")
        if url and options["database"] == DEFAULT_DB_ALIAS:
            owner = environ.Env.db_url_config(url)
            connection = connections[DEFAULT_DB_ALIAS]
            current = connection.settings_dict
            different = [key for key in SAME if str(owner.get(key) or "") != str(current.get(key) or "")]
            if different:
                raise CommandError(
                    "ACCESSGATE_MIGRATE_DATABASE_URL must name the same database as DATABASE_URL "
                    f"(only the role differs); these differ: {', '.join(different)}."
                )
            connection.close()
            current.update(USER=owner.get("USER", ""), PASSWORD=owner.get("PASSWORD", ""))
            if options["verbosity"] >= 1:
                self.stdout.write(f"Migrating as the owner role {current['USER']!r}.")
        return super().handle(*args, **options)
