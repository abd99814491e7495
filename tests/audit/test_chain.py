import hashlib
import json
import threading
from datetime import UTC
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from accessgate.audit.actions import AuditAction
from accessgate.audit.chain import chain_hash, event_payload
from accessgate.audit.models import AuditEvent, ChainHead
from accessgate.audit.services import record
from accessgate.audit.verification import verify_chain

from .. import factories


def append(n, **details):
    with transaction.atomic():
        return [record(actor=None, action=AuditAction.GRANT_EXPIRED, n=i, **details) for i in range(n)]


def tamper(sql, params=()):
    """Change the table behind the app's back, as an attacker with database access would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")


def run_verify(*args):
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit:
        code = exit.code
    return code, out.getvalue() + err.getvalue()


@pytest.mark.django_db
class TestChain:
    def test_hash_rule_as_documented(self):
        user = factories.UserFactory(email="ü@example.org")
        record(actor=None, action=AuditAction.GRANT_EXPIRED)
        event = record(
            actor=user, action=AuditAction.ACCOUNT_LOGGED_IN, target=user, reason="naïve", n=[1, {"b": 2, "a": None}]
        )
        payload = {
            "seq": event.seq,
            "created_at": event.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "actor_id": user.pk,
            "actor_label": "ü@example.org",
            "action": "account.logged_in",
            "target_type": "accounts.user",
            "target_id": str(user.pk),
            "target_label": "ü@example.org",
            "ip": None,
            "user_agent": "",
            "details": {"reason": "naïve", "n": [1, {"b": 2, "a": None}]},
        }
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert '"details":{"n":[1,{"a":null,"b":2}],"reason":"naïve"}' in text
        expected = hashlib.sha256(event.prev_hash.encode() + text.encode("utf-8")).hexdigest()
        event.refresh_from_db()  # what the database gives back must hash the same
        assert event.hash == expected
        assert event.prev_hash == AuditEvent.objects.get(seq=event.seq - 1).hash

    def test_first_event_links_to_zeros_and_seq_has_no_gaps(self):
        append(5)
        events = list(AuditEvent.objects.order_by("seq"))
        assert events[0].prev_hash == "0" * 64
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:], strict=False))
        head = ChainHead.objects.get()
        assert (head.seq, head.hash) == (events[-1].seq, events[-1].hash)
        assert verify_chain().ok

    def test_verify_command_passes_and_takes_a_range(self):
        append(10)
        none = "No checkpoints to check against (none stored or given).\n"
        assert run_verify() == (0, "The chain is whole: 10 events, #1 to #10.\n" + none)
        assert run_verify("--from", "4", "--to", "7") == (0, "The chain is whole: 4 events, #4 to #7.\n" + none)

    @pytest.mark.parametrize(
        ("sql", "broken", "reason"),
        [
            ("UPDATE audit_auditevent SET actor_label = 'mallory' WHERE seq = 4", 4, "does not match its hash"),
            ("UPDATE audit_auditevent SET details = '{\"n\": 99}' WHERE seq = 5", 5, "does not match its hash"),
            ("DELETE FROM audit_auditevent WHERE seq = 6", 6, "missing"),
            ("UPDATE audit_auditevent SET prev_hash = hash WHERE seq = 3", 3, "prev_hash"),
            ("DELETE FROM audit_auditevent WHERE seq >= 9", 9, "chain head says the last event is #10"),
        ],
    )
    def test_tampering_is_found_and_named(self, sql, broken, reason):
        append(10)
        tamper(sql)
        code, output = run_verify()
        assert code == 1
        assert f"broken at #{broken}" in output and reason in output

    def test_rewriting_an_event_and_its_hash_still_breaks_the_next_link(self):
        append(6)
        forged = AuditEvent.objects.get(seq=3)
        forged.actor_label = "mallory"
        tamper(
            "UPDATE audit_auditevent SET actor_label = %s, hash = %s WHERE seq = 3",
            ["mallory", chain_hash(forged.prev_hash, event_payload(forged))],
        )
        code, output = run_verify()
        assert code == 1 and "broken at #4" in output and "prev_hash" in output


@pytest.mark.django_db(transaction=True)
def test_rolled_back_transaction_leaves_no_gap():
    append(2)
    with pytest.raises(RuntimeError), transaction.atomic():
        record(actor=None, action=AuditAction.GRANT_EXPIRED)
        raise RuntimeError("the change failed")
    append(1)
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2, 3]
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_make_one_valid_chain(postgres):
    """8 threads on PostgreSQL, each appending 40 events through `record()` in its own
    transactions, while a 9th signs checkpoints: one gap-free chain, no fork, and every
    checkpoint matches it."""
    from accessgate.audit.checkpoints import SCHEDULED, check_all, checkpoint_create

    writers, per_writer = 8, 40
    errors, done = [], threading.Event()

    def writer(index):
        try:
            for i in range(per_writer):
                with transaction.atomic():
                    record(actor=None, action=AuditAction.GRANT_EXPIRED, writer=index, i=i)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    def checkpointer():
        try:
            while not done.is_set():
                checkpoint_create(actor=None, reason=SCHEDULED)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    signer = threading.Thread(target=checkpointer)
    signer.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    signer.join()
    assert not errors
    written = AuditEvent.objects.filter(action="grant.expired")
    assert written.count() == writers * per_writer
    for index in range(writers):  # each writer's events, all there, in its own order
        mine = list(written.filter(details__writer=index).order_by("seq").values_list("details__i", flat=True))
        assert mine == list(range(per_writer))
    rows = list(AuditEvent.objects.order_by("seq").values_list("seq", "prev_hash", "hash"))
    assert [seq for seq, _, _ in rows] == list(range(1, len(rows) + 1))  # gap-free
    assert len({prev for _, prev, _ in rows}) == len(rows)  # no two events share a parent: no fork
    result = verify_chain()
    assert result.ok and result.checked == len(rows) and result.last_seq == len(rows)
    count, problems = check_all([])
    assert count >= 1 and problems == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET actor_label = 'x'",
        "DELETE FROM audit_auditevent",
        "TRUNCATE audit_auditevent",
    ],
)
def test_postgresql_refuses_changes_to_the_trail(postgres, sql):
    append(2)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert AuditEvent.objects.count() == 2
