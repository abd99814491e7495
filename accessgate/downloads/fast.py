"""The resolve fast path: a token's `GET …/files/<path>` (and the Hugging Face `resolve`) in
one database round trip.

One statement, prepared once per connection (`core.db.execute_prepared`): the SQL decision
(`access.rules.download_sql`), the quota upsert when the policy sets a cap, the token's "last
used" bookkeeping and the `download.url_issued` event INSERT, all as CTEs of the decision.
Nothing is written unless the decision says yes, and a file at its cap gets no event.
Whatever it does not answer with an event (no row: any refusal, or a draft; or a file at its
cap) returns None, and `resolve.resolve_file` takes the explaining path
(`services.download_url_issue`), which refuses with the exact message, reason code and
`download.refused` note.

The event is the one `record()` writes (same action, target, actor label, IP, user agent
and details; chain fields empty for the chainer), and `event_recorded` receivers run in its
transaction (`audit.services.inserted`).

Two shapes, the same answer and the same rows. The download rate limit is per user, and it
must count before anything is written or be rolled back with the writes; the statement is
what names the token's owner. So a token whose owner this process already knows (`_OWNERS`)
runs the statement as its own transaction (no BEGIN, no COMMIT: one round trip) after the rate
limit counted; a token seen for the first time, an `event_recorded` receiver that acts on
`download.url_issued` (`audit.signals.heard`), or an open transaction, runs it inside a
transaction (BEGIN, COMMIT) that the rate limit can still roll back. Which one a request
takes depends on what the process has answered before; what it answers does not.
"""

import json
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accessgate.access.rules import download_sql
from accessgate.accounts.models import ApiToken, User
from accessgate.accounts.services import LAST_USED_PRECISION, hash_token
from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.models import AuditEvent
from accessgate.audit.services import EVENT_COLUMNS, inserted
from accessgate.audit.signals import heard
from accessgate.catalog.models import Model, Release, WeightFile
from accessgate.core.db import StalePlan, execute_prepared
from accessgate.core.errors import QuotaExceeded
from accessgate.core.ratelimit import uncount
from accessgate.core.storage import get_storage

from .services import IssuedUrl, aware_moment, download_rate_check, rate_key, seconds_until

ACTION = str(AuditAction.DOWNLOAD_URL_ISSUED)
_WRITES = """
, q AS (
    INSERT INTO downloads_downloadcounter AS c (grant_id, weight_file_id, issued, counted_until)
    SELECT ok.grant_id, ok.file_id, 1, ok.valid_until FROM ok WHERE ok.cap > 0
    ON CONFLICT (grant_id, weight_file_id) DO UPDATE SET
        issued = CASE WHEN c.counted_until > %(now)s::timestamptz THEN c.issued ELSE c.issued + 1 END,
        counted_until = CASE WHEN c.counted_until > %(now)s::timestamptz THEN c.counted_until
                             ELSE excluded.counted_until END
    WHERE c.counted_until > %(now)s::timestamptz OR c.issued < (SELECT ok.cap FROM ok)
    RETURNING c.issued, c.counted_until
), used AS (
    UPDATE accounts_apitoken SET last_used_at = %(now)s::timestamptz, last_used_ip = %(ip)s::inet
    WHERE id = (SELECT ok.token_id FROM ok)
      AND (last_used_at IS NULL OR last_used_at < %(stale)s::timestamptz
           OR last_used_ip IS DISTINCT FROM %(ip)s::inet)
    RETURNING id
), ev AS (
    INSERT INTO audit_auditevent ({columns})
    SELECT %(now)s::timestamptz, ok.user_id, ok.user_email, %(action)s::text, %(target_type)s::text,
           ok.file_id::text, left(ok.path, 300), %(ip)s::inet, %(user_agent)s::text,
           jsonb_build_object(
               'path', ok.path, 'size', ok.size, 'sha256', ok.sha256, 'user', ok.user_email,
               'grant_id', ok.grant_id, 'model', ok.namespace || '/' || ok.name, 'version', ok.version,
               'revision', ok.revision, 'ttl_seconds', ok.ttl, 'via', 'token', 'token_prefix', ok.token_prefix,
               'quota_counted', CASE WHEN q.counted_until = ok.valid_until THEN 1 ELSE 0 END)
    FROM ok LEFT JOIN q ON true
    WHERE ok.cap IS NULL OR q.issued IS NOT NULL
    RETURNING id, details
)
SELECT ok.*, q.issued, q.counted_until, ev.id AS event_id, ev.details AS event_details
FROM ok LEFT JOIN q ON true LEFT JOIN ev ON true
""".replace("{columns}", ", ".join(EVENT_COLUMNS))  # record()'s columns, in record()'s order


class _RateLimited(Exception):
    """Rolls the fast path's writes back; the explaining path then refuses with 429."""


# Token (hash) -> its owner's id, learnt from this process's earlier answers: an owner never
# changes, and knowing it lets the rate limit count before the statement (see below).
_OWNERS: dict[str, int] = {}
_OWNERS_MAX = 10_000


def download_url_fast(
    *, secret: str, namespace: str, name: str, ref: str, path: str, meta: RequestMeta, main: bool = False
) -> tuple[IssuedUrl, WeightFile] | None:
    """A signed URL for one file via the fast path, with the file it names (for the
    response's headers), or None: then only the explaining path answers."""
    if not secret.startswith(ApiToken.PREFIX):
        return None
    storage = get_storage()
    now = timezone.now()
    token_hash = hash_token(secret)
    decision = download_sql.decision(
        token_hash=token_hash, namespace=namespace, name=name, ref=ref, path=path, now=now,
        max_ttl=storage.max_ttl, main=main,
    )  # fmt: skip
    if decision is None:
        return None
    sql, params = decision
    params |= {
        "ip": meta.ip or None,
        "user_agent": meta.user_agent,
        "stale": now - LAST_USED_PRECISION,
        "action": ACTION,
        "target_type": WeightFile._meta.label_lower,
    }
    statement = f"WITH ok AS ({sql}){_WRITES}"
    owner = _OWNERS.get(token_hash)
    if owner is not None and not heard(ACTION) and not connection.in_atomic_block:
        # Autocommitted: the statement is its own transaction (one round trip, no BEGIN
        # or COMMIT), which is whole when no event receiver acts on this action. The rate
        # limit counts first, while nothing is written; a deferred request gives the use back.
        try:
            download_rate_check(User(id=owner))
        except QuotaExceeded:
            return None
        got = _answer(*execute_prepared(statement, params))
        if got is None:
            uncount(rate_key(owner), settings.ACCESSGATE_DOWNLOAD_RATE_LIMIT)
            return None
        return _issued(got, meta, now, storage)
    try:
        with transaction.atomic():
            got = _answer(*execute_prepared(statement, params))
            if got is None:
                return None
            if len(_OWNERS) >= _OWNERS_MAX:
                _OWNERS.clear()
            _OWNERS[token_hash] = got["user_id"]
            try:
                download_rate_check(User(id=got["user_id"]))  # after the decision: the owner is known only now
            except QuotaExceeded as error:
                raise _RateLimited from error
            return _issued(got, meta, now, storage)
    except (_RateLimited, StalePlan):
        return None


def _answer(columns: list[str], row: tuple | None) -> dict | None:
    if row is None or row[columns.index("event_id")] is None:
        return None  # no, not sure, or at the cap: the explaining path says which
    got = dict(zip(columns, row, strict=True))
    if isinstance(got["event_details"], str):  # Django leaves jsonb as text for JSONField
        got["event_details"] = json.loads(got["event_details"])
    return got


def _issued(got: dict, meta: RequestMeta, now, storage) -> tuple[IssuedUrl, WeightFile]:
    user = User(id=got["user_id"], email=got["user_email"], is_active=True)
    model = Model(id=got["model_id"], namespace=got["namespace"], name=got["name"])
    release = Release(id=got["release_id"], model=model, version=got["version"], revision=got["revision"])
    weight_file = WeightFile(
        id=got["file_id"], release=release, path=got["path"], size=got["size"], sha256=got["sha256"],
        storage_key=got["storage_key"],
    )  # fmt: skip
    inserted(
        AuditEvent(
            id=got["event_id"], created_at=now, actor=user, actor_label=user.email, action=ACTION,
            target_type=WeightFile._meta.label_lower, target_id=str(weight_file.pk),
            target_label=weight_file.path[:300], ip=meta.ip or None, user_agent=meta.user_agent,
            details=got["event_details"],
        )
    )  # fmt: skip
    if got["cap"] is None:
        remaining, ttl = None, got["ttl"]
    else:
        remaining = got["cap"] - got["issued"]
        # A free re-issue keeps the counted URL's expiry (as services._consume_quota).
        ttl = seconds_until(min(aware_moment(got["counted_until"]), got["valid_until"]), now)
    url = storage.signed_url(
        weight_file.storage_key, filename=weight_file.path.rsplit("/", 1)[-1], sha256=weight_file.sha256,
        ttl_seconds=ttl, now=now,
    )  # fmt: skip
    return IssuedUrl(
        path=weight_file.path, size=weight_file.size, sha256=weight_file.sha256, url=url,
        expires_at=now + timedelta(seconds=ttl), remaining=remaining,
    ), weight_file  # fmt: skip
