"""The chainer's PostgreSQL statement (migration 0014) links by exactly chain.py's rule."""

import pytest
from django.db import connection, transaction

from accessgate.audit.actions import AuditAction
from accessgate.audit.chain import GENESIS, canonical_json, chain_hash, event_payload, export_line
from accessgate.audit.chainer import chain_all, chain_pending, pending_count
from accessgate.audit.context import RequestMeta
from accessgate.audit.models import AuditEvent, ChainHead
from accessgate.audit.services import record
from accessgate.audit.verification import verify_chain

from .. import factories

AWKWARD = [
    {},
    {"b": 1, "ab": 2, "a": 3, "B": 4, "é": 5, "z": 6, "Z": 7, "aa": None, "ä": True, "ä2": False},
    {"text": 'quote " backslash \\ slash / newline \n tab \t cr \r bell \x07 nul-ish \x1f del \x7f'},
    {"unicode": "naïve — ü 東京 😀 \u2028 \u2029", "emoji key 😀": "x"},
    {"nested": {"y": [1, {"b": [], "a": {}}, "s", None, True], "x": {"d": {"c": -12}}}},
    {"ints": [0, -1, 2**31, 2**53 + 1, -(2**62)], "empty": [], "obj": {}},
    {"list_of_lists": [[1, 2], [], [[{"k": "v"}]]]},
]


def _expected(event: AuditEvent) -> tuple[str, str]:
    digest = chain_hash(event.prev_hash, event_payload(event))
    return digest, export_line(event_payload(event), event.prev_hash, digest)


@pytest.mark.django_db
def test_database_links_awkward_details_exactly_as_python_would(postgres):
    user = factories.UserFactory(email='o"brien+ü@example.org')
    meta = RequestMeta(ip="2001:db8::1", user_agent='curl/8 "quoted" \\ ü')
    with transaction.atomic():
        events = [
            record(actor=user, action=AuditAction.ACCOUNT_LOGGED_IN, target=user, meta=meta, **d) for d in AWKWARD
        ]
        events.append(record(actor=None, action=AuditAction.GRANT_EXPIRED, meta=RequestMeta(ip="198.51.100.7")))
    assert chain_all() == len(events)
    previous = GENESIS
    for event in events:
        event.refresh_from_db()
        assert event.prev_hash == previous
        assert (event.hash, event.line) == _expected(event)
        previous = event.hash
    assert verify_chain().ok


@pytest.mark.django_db
def test_canonical_json_function_matches_python(postgres):
    with connection.cursor() as cursor:
        for details in AWKWARD:
            cursor.execute("SELECT audit_canonical_json(%s::jsonb)", [canonical_json(details).decode()])
            assert cursor.fetchone()[0] == canonical_json(details).decode()


@pytest.mark.django_db
def test_an_idle_poll_changes_nothing_and_reports_the_head(postgres):
    with transaction.atomic():
        record(actor=None, action=AuditAction.GRANT_EXPIRED)
    chain_all()
    head = ChainHead.objects.get()
    result = chain_pending()
    assert (result.count, result.last_seq, result.created) == (0, head.seq, [])
    assert pending_count() == 0


@pytest.mark.django_db
def test_the_database_chainer_never_touches_a_chained_event_again(postgres):
    with transaction.atomic():
        first = record(actor=None, action=AuditAction.GRANT_EXPIRED, n=1)
    chain_all()
    first.refresh_from_db()
    sealed = (first.seq, first.prev_hash, first.hash, first.line)
    with transaction.atomic():
        record(actor=None, action=AuditAction.GRANT_EXPIRED, n=2)
    assert chain_pending().count == 1
    first.refresh_from_db()
    assert (first.seq, first.prev_hash, first.hash, first.line) == sealed
    assert verify_chain().ok and verify_chain().checked == 2


@pytest.mark.django_db
def test_a_raw_insert_of_the_event_columns_is_linked_like_a_recorded_event(postgres):
    import json
    from datetime import UTC, datetime

    from accessgate.audit.services import EVENT_COLUMNS as columns

    sql = (
        f"INSERT INTO audit_auditevent ({', '.join(columns)}) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s::inet, %s, %s::jsonb) RETURNING id"
    )
    values = {
        "created_at": datetime(2026, 11, 29, 6, 0, 0, 123456, tzinfo=UTC),
        "actor_id": None,
        "actor_label": "system",
        "action": "download.url_issued",
        "target_type": "catalog.weightfile",
        "target_id": "7",
        "target_label": "model.safetensors",
        "ip": "198.51.100.1",
        "user_agent": "curl/8",
        "details": json.dumps({"ttl_seconds": 300, "path": "model.safetensors"}),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [values[name] for name in columns])
        pk = cursor.fetchone()[0]
    assert chain_all() == 1
    event = AuditEvent.objects.get(pk=pk)
    assert (event.hash, event.line) == _expected(event)
    assert verify_chain().ok
