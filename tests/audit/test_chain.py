import hashlib
import json
import threading
from datetime import UTC
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from accessgate.audit.actions import AuditAction
from accessgate.audit.chain import canonical_json, chain_hash, event_payload, export_line
from accessgate.audit.chainer import chain_all, chain_pending, pending_count
from accessgate.audit.models import AuditEvent, ChainHead
from accessgate.audit.services import record
from accessgate.audit.verification import verify_chain
from tests.support.audit import append, run_verify, tamper

from .. import factories


@pytest.mark.django_db
class TestChain:
    def test_hash_rule_as_documented(self):
        user = factories.UserFactory(email="ü@example.org")
        record(actor=None, action=AuditAction.GRANT_EXPIRED)
        event = record(
            actor=user, action=AuditAction.ACCOUNT_LOGGED_IN, target=user, reason="naïve", n=[1, {"b": 2, "a": None}]
        )
        assert (event.seq, event.prev_hash, event.hash) == (None, None, None)  # the request only inserts
        chain_all()
        event.refresh_from_db()
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
        digest = chain_hash(forged.prev_hash, event_payload(forged))
        tamper(  # a thorough forger: the column, the hash and the stored export line agree
            "UPDATE audit_auditevent SET actor_label = %s, hash = %s, line = %s WHERE seq = 3",
            ["mallory", digest, export_line(event_payload(forged), forged.prev_hash, digest)],
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
    count, problems, skipped = check_all([])
    assert count >= 1 and problems == [] and skipped == []


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


@pytest.mark.django_db
class TestChainer:
    def test_links_in_insertion_order_in_batches_and_moves_the_head(self):
        with transaction.atomic():
            events = [record(actor=None, action=AuditAction.GRANT_EXPIRED, n=i) for i in range(7)]
        assert pending_count() == 7
        first = chain_pending(batch=3)
        assert (first.count, first.last_seq) == (3, 3)
        assert chain_all() == 4 and pending_count() == 0
        seqs = [AuditEvent.objects.get(pk=e.pk).seq for e in events]
        assert seqs == [1, 2, 3, 4, 5, 6, 7]
        assert ChainHead.objects.get().seq == 7
        assert chain_pending().count == 0
        assert verify_chain().ok

    def test_verify_reports_events_not_yet_chained(self):
        append(3)
        record_outside = record  # an event committed, the chainer not run yet
        with transaction.atomic():
            record_outside(actor=None, action=AuditAction.GRANT_EXPIRED)
        code, output = run_verify()
        assert code == 0
        assert output.startswith("The chain is whole: 3 events, #1 to #3. 1 event(s) not yet chained; the oldest is ")
        result = verify_chain()
        assert result.pending == 1 and result.oldest_pending_seconds >= 0

    def test_the_command_links_everything_once(self):
        with transaction.atomic():
            record(actor=None, action=AuditAction.GRANT_EXPIRED)
            record(actor=None, action=AuditAction.GRANT_EXPIRED)

        out = StringIO()
        call_command("audit_chainer", "--once", stdout=out)
        assert out.getvalue() == "Linked 2 events.\n"
        assert pending_count() == 0 and verify_chain().checked == 2

    def test_the_beat_backstop_links_too(self):
        from accessgate.audit.tasks import chain_pending as task

        with transaction.atomic():
            record(actor=None, action=AuditAction.GRANT_EXPIRED)
        assert task() == 1 and pending_count() == 0


@pytest.mark.django_db(transaction=True)
def test_on_commit_step_links_after_the_recording_transaction(settings):
    settings.ACCESSGATE_AUDIT_CHAIN_ON_COMMIT = True
    with transaction.atomic():
        event = record(actor=None, action=AuditAction.GRANT_EXPIRED)
        record(actor=None, action=AuditAction.GRANT_EXPIRED)
        assert AuditEvent.objects.get(pk=event.pk).seq is None  # not inside the transaction
    assert AuditEvent.objects.get(pk=event.pk).seq == 1 and pending_count() == 0


@pytest.mark.django_db(transaction=True)
def test_without_the_on_commit_step_events_wait_for_the_chainer(settings):
    settings.ACCESSGATE_AUDIT_CHAIN_ON_COMMIT = False
    with transaction.atomic():
        record(actor=None, action=AuditAction.GRANT_EXPIRED)
    assert pending_count() == 1
    assert chain_all() == 1 and verify_chain().ok


@pytest.mark.django_db
class TestOneTimeFill:
    """PostgreSQL lets the chain fields be filled once (NULL → value) and refuses all else."""

    def unchained(self):
        with transaction.atomic():
            return record(actor=None, action=AuditAction.GRANT_EXPIRED)

    def refused(self, sql, params=()):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)

    def test_filling_once_is_allowed_refilling_is_refused(self, postgres):
        event = self.unchained()
        chain_all()
        self.refused("UPDATE audit_auditevent SET seq = 99, prev_hash = 'x', hash = 'y' WHERE id = %s", [event.pk])
        self.refused("UPDATE audit_auditevent SET seq = NULL, prev_hash = NULL, hash = NULL WHERE id = %s", [event.pk])
        self.refused("UPDATE audit_auditevent SET line = 'x' WHERE id = %s", [event.pk])
        event.refresh_from_db()
        assert event.seq == 1 and verify_chain().ok

    def test_changing_content_while_filling_is_refused(self, postgres):
        event = self.unchained()
        self.refused(
            "UPDATE audit_auditevent SET seq = 1, prev_hash = 'x', hash = 'y', actor_label = 'm' WHERE id = %s",
            [event.pk],
        )
        assert AuditEvent.objects.get(pk=event.pk).seq is None

    def test_partial_fill_and_content_changes_of_unchained_events_are_refused(self, postgres):
        event = self.unchained()
        self.refused("UPDATE audit_auditevent SET seq = 1 WHERE id = %s", [event.pk])
        self.refused("UPDATE audit_auditevent SET actor_label = 'm' WHERE id = %s", [event.pk])
        self.refused("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
        assert pending_count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("sql", "broken", "reason"),
    [
        (None, None, ""),
        ("UPDATE audit_auditevent SET actor_label = 'mallory' WHERE seq = 17", 17, "does not match its hash"),
        ("DELETE FROM audit_auditevent WHERE seq = 21", 21, "missing (the next event is #22)"),
        ("DELETE FROM audit_auditevent WHERE seq = 30", 30, "missing (the next event is #31)"),
        ("UPDATE audit_auditevent SET prev_hash = hash WHERE seq = 11", 11, "prev_hash"),
    ],
)
def test_parallel_ranges_in_the_database_find_the_first_break(postgres, monkeypatch, sql, broken, reason):
    """Ranges of 10 events checked by 3 connections at once; borders are checked too."""
    from accessgate.audit import verification_sql

    monkeypatch.setattr(verification_sql, "RANGE_SIZE", 10)
    append(45)
    if sql:
        tamper(sql)
        tamper("UPDATE audit_auditevent SET actor_label = 'later' WHERE seq = 40")  # a later break too
    result = verify_chain(jobs=3)
    assert result.ok is (sql is None)
    if sql:
        assert result.broken_seq == broken and reason in result.reason
    else:
        assert (result.checked, result.first_seq, result.last_seq) == (45, 1, 45)
    ranged = verify_chain(from_seq=35, to_seq=45, jobs=3)
    assert ranged.ok if sql is None else (ranged.broken_seq == 40 and "does not match" in ranged.reason)


@pytest.mark.django_db
def test_a_forged_line_that_is_not_json_is_reported_not_crashed_on(postgres):
    """A forger who also recomputes the hash over a line whose details are not JSON."""
    append(6)
    event = AuditEvent.objects.get(seq=5)
    payload = canonical_json(event_payload(event)).decode().replace('"details":{', '"details":{x', 1)
    digest = hashlib.sha256(event.prev_hash.encode() + payload.encode()).hexdigest()
    line = payload.replace(',"ip":', f',"hash":"{digest}","ip":', 1).replace(
        ',"seq":', f',"prev_hash":"{event.prev_hash}","seq":', 1
    )
    tamper("UPDATE audit_auditevent SET line = %s, hash = %s WHERE seq = 5", [line, digest])
    result = verify_chain()
    assert not result.ok and "not valid JSON" in result.reason and result.broken_seq <= 5
