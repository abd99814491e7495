"""Least privilege: the runtime role may read and append audit events, nothing more."""

import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from accessgate.audit.actions import AuditAction
from accessgate.audit.dbroles import roles_sql
from accessgate.audit.models import AuditEvent
from accessgate.audit.services import record


def test_command_prints_the_sql_for_the_given_names():
    out = StringIO()
    call_command("db_roles_sql", "--owner", "ag_owner", "--runtime", "ag_app", "--database", "portal", stdout=out)
    sql = out.getvalue()
    for statement in (
        'CREATE ROLE "ag_owner" LOGIN;',
        'ALTER DATABASE "portal" OWNER TO "ag_owner";',
        'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "public" TO "ag_app";',
        'GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA "public" TO "ag_app";',
        'ALTER DEFAULT PRIVILEGES FOR ROLE "ag_owner" IN SCHEMA "public" GRANT SELECT, INSERT, UPDATE, DELETE '
        'ON TABLES TO "ag_app";',
        "EXECUTE format('GRANT SELECT, INSERT ON %s TO %I', '\"public\".\"audit_auditevent\"', 'ag_app');",
    ):
        assert statement in sql


def test_names_are_quoted_and_bad_ones_refused():
    assert 'CREATE ROLE "we""ird" LOGIN' in roles_sql(owner='we"ird', runtime="app", database="db")
    with pytest.raises(CommandError, match="must differ"):
        call_command("db_roles_sql", "--owner", "same", "--runtime", "same", stdout=StringIO())
    with pytest.raises(CommandError, match="cannot be empty"):
        call_command("db_roles_sql", "--runtime", "a$$b", stdout=StringIO())


@pytest.mark.django_db
def test_migrate_refuses_an_owner_url_for_another_database(settings):
    settings.ACCESSGATE_MIGRATE_DATABASE_URL = "postgres://owner@127.0.0.1:5432/some_other_database"
    with pytest.raises(CommandError, match="must name the same database"):
        call_command("migrate", stdout=StringIO())


@pytest.mark.django_db(transaction=True)
def test_migrate_connects_as_the_owner(settings, postgres):
    current = connection.settings_dict
    settings.ACCESSGATE_MIGRATE_DATABASE_URL = (
        f"postgres://{current['USER']}@{current['HOST']}:{current['PORT']}/{current['NAME']}"
    )
    out = StringIO()
    call_command("migrate", stdout=out)
    assert f"Migrating as the owner role {current['USER']!r}." in out.getvalue()
    assert "No migrations to apply." in out.getvalue()


@pytest.fixture
def runtime_role(postgres):
    """A runtime role made from the printed SQL on the test database (unique per run: roles
    are cluster-wide and other test databases run beside this one). Dropped afterwards."""
    import psycopg

    name = f"ag_runtime_{uuid.uuid4().hex[:12]}"
    password = uuid.uuid4().hex
    settings_dict = connection.settings_dict
    sql = roles_sql(owner=settings_dict["USER"], runtime=name, database=settings_dict["NAME"])
    with connection.cursor() as cursor:
        cursor.execute(sql)
        cursor.execute(f"ALTER ROLE \"{name}\" PASSWORD '{password}'")
    runtime = None
    try:
        runtime = psycopg.connect(
            host=settings_dict["HOST"] or "127.0.0.1",
            port=settings_dict["PORT"] or 5432,
            dbname=settings_dict["NAME"],
            user=name,
            password=password,
            autocommit=True,
        )
        yield runtime
    finally:
        if runtime is not None:
            runtime.close()
        with connection.cursor() as cursor:
            cursor.execute(f'DROP OWNED BY "{name}"')
            cursor.execute(f'DROP ROLE "{name}"')


REFUSED = [
    ("UPDATE audit_auditevent SET actor_label = 'mallory'", "permission denied"),
    ("DELETE FROM audit_auditevent", "permission denied"),
    ("TRUNCATE audit_auditevent", "permission denied"),
    ("ALTER TABLE audit_auditevent DISABLE TRIGGER USER", "must be owner"),
    ("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_no_update_delete", "must be owner"),
    ("DROP TRIGGER audit_auditevent_no_update_delete ON audit_auditevent", "must be owner"),
    ("ALTER TABLE audit_auditevent ADD COLUMN note text", "must be owner"),
    ("DROP TABLE audit_auditevent", "must be owner"),
    ("CREATE TABLE sneaky (id int)", "permission denied"),
]


@pytest.mark.django_db(transaction=True)
def test_runtime_role_reads_and_appends_but_cannot_change_the_trail(runtime_role):
    import psycopg

    with transaction.atomic():
        for index in range(3):
            record(actor=None, action=AuditAction.GRANT_EXPIRED, n=index)
    refused = []
    for sql, message in REFUSED:
        try:
            runtime_role.execute(sql)
        except psycopg.errors.InsufficientPrivilege as error:
            assert message in str(error), (sql, str(error))
            refused.append(sql)
    assert refused == [sql for sql, _ in REFUSED]
    assert AuditEvent.objects.count() == 3
    # What the portal needs still works: read the trail, append to it, move the chain head,
    # and read and write the other tables.
    assert runtime_role.execute("SELECT count(*) FROM audit_auditevent").fetchone() == (3,)
    last = AuditEvent.objects.order_by("-seq").first()
    runtime_role.execute(
        "INSERT INTO audit_auditevent (seq, prev_hash, hash, created_at, actor_label, action, target_type, "
        "target_id, target_label, user_agent, details) "
        "VALUES (%s, %s, %s, now(), 'system', 'grant.expired', '', '', '', '', '{}')",
        [last.seq + 1, last.hash, "e" * 64],
    )
    runtime_role.execute("UPDATE audit_chainhead SET seq = %s, hash = %s WHERE id = 1", [last.seq + 1, "e" * 64])
    runtime_role.execute("UPDATE accounts_user SET last_login = now() WHERE false")
    assert AuditEvent.objects.count() == 4


@pytest.mark.django_db(transaction=True)
def test_runtime_role_runs_the_chainer_statement(runtime_role, settings):
    """The chainer links as the runtime role: its column grant on the chain fields is enough."""
    from accessgate.audit.verification import verify_chain

    settings.ACCESSGATE_AUDIT_CHAIN_ON_COMMIT = False  # as in production: the chainer links

    with transaction.atomic():
        for index in range(2):
            record(actor=None, action=AuditAction.GRANT_EXPIRED, n=index)
    linked, last_seq, created = runtime_role.execute("SELECT * FROM audit_link_pending(100)").fetchone()
    assert (linked, last_seq, len(created)) == (2, 2, 2)
    assert runtime_role.execute("SELECT * FROM audit_link_pending(100)").fetchone()[:2] == (0, 2)
    assert verify_chain().ok and verify_chain().checked == 2
