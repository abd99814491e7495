"""Statements prepared once per PostgreSQL connection, with recovery from a stale plan.

psycopg's server-side binding keeps a prepared statement per connection, so later executions
send only its name and the parameters (no parsing, no planning). Django's default cursor binds
on the client and never prepares; `execute_prepared` goes through Django's cursor wrapper, so
query capture, execute wrappers and error translation still see the statement. Prepared
statements need session pooling (pgbouncer in transaction mode loses them, unless it is
>= 1.21 with max_prepared_statements).
"""

from typing import Any

from django.db import NotSupportedError, connection

NEVER_AUTOMATICALLY = 2**31 - 1
_cursor_class: type[Any] | None = None


def _prepared_cursor_class() -> type[Any]:
    from django.db.backends.postgresql.base import ServerBindingCursor  # needs psycopg: PostgreSQL only

    class PreparedCursor(ServerBindingCursor):
        """Server-side binding, prepared on first use."""

        def execute(
            self, query: Any, params: Any = None, *, prepare: bool | None = None, binary: bool | None = None
        ) -> Any:
            # Ignored: the stubs' ServerBindingCursor leaves out psycopg's Cursor.execute.
            return super().execute(query, params, prepare=True, binary=binary)  # type: ignore[misc]

    return PreparedCursor


class StalePlan(Exception):
    """The prepared statement failed inside a transaction because a migration changed a column
    it returns; that transaction's rollback deallocates it (psycopg), so the next one re-prepares."""


def _stale_plan(error: NotSupportedError) -> bool:
    # PostgreSQL's "cached plan must not change result type" (0A000): a migration run by another
    # connection changed the type of a returned column (a max_length, say) under this one's plan.
    return getattr(error.__cause__, "sqlstate", None) == "0A000" and "cached plan" in str(error)


def execute_prepared(sql: str, params: dict[str, Any]) -> tuple[list[str], tuple[Any, ...] | None]:
    """Run `sql` prepared on Django's PostgreSQL connection. Returns the column names and the
    first row (None when there is none). Raises `StalePlan` inside a transaction whose plan a
    migration elsewhere made stale (roll back, then ask another way); in autocommit it
    deallocates and runs the statement once more."""
    global _cursor_class
    if _cursor_class is None:
        _cursor_class = _prepared_cursor_class()
    connection.ensure_connection()
    if connection.connection.prepare_threshold is None:
        # Django turns psycopg's preparing off (None) for connection poolers; allow it for an
        # explicit `prepare=True` only (this cursor's), never automatically.
        connection.connection.prepare_threshold = NEVER_AUTOMATICALLY
    raw = _cursor_class(connection.connection)
    connection.validate_thread_sharing()
    wrapped = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
    with wrapped as cursor:
        try:
            cursor.execute(sql, params)
        except NotSupportedError as error:
            if not _stale_plan(error):
                raise
            if connection.in_atomic_block:
                raise StalePlan from error
            # Autocommit: nothing rolls back, and the server refuses the old plan until it is
            # deallocated (psycopg forgets its names on DEALLOCATE ALL too). Then once more.
            connection.connection.execute("DEALLOCATE ALL")
            cursor.execute(sql, params)
        row = cursor.fetchone()
        return [column.name for column in cursor.description], row
