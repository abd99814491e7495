"""The fast path's decision as SQL: "may this token's user get this file now", in one SELECT.

Imported only by `policy.py`, which owns every access rule; this is the same rules written
once more for the database, and tests/access/test_fast_path.py checks that the two agree
case by case. It answers only "yes, and here is what you need" (one row) or "not sure" (no
row). Everything it cannot say yes to (every refusal, a draft model) goes to
`download_check`, so every refusal keeps its exact message and reason code.

PostgreSQL only: it reads jsonb (`scopes`, `blocked_countries`) with jsonb operators, and it
is prepared once per connection, which only psycopg's server-side binding can do (Django's
default cursor binds on the client and never prepares). The SQLite demo takes the ORM path.
"""

from django.db import NotSupportedError, connection

# One row or none. Named parameters: hash, scope (jsonb array), namespace, name, ref_kind
# ('version', 'revision' or 'main'), ref, path, now, max_ttl. Mirrors, in order:
# ApiToken.objects.active() and require_scope; visible_models (published only: drafts go the
# long way); release_by_ref / "main" and Release.is_active; _active_grant_q (with the renewal
# grace); _current_grants (the latest agreement signed under the grant or its renewals names
# the policy's current licence); download_problem with at_download=True: a valid identity
# verification (IdentityVerification.objects.active()), no blocked country on the profile or
# the latest valid verification's document (Facts.countries), every required training valid
# (TrainingRecord.objects.valid()), and two factors: a token created in an MFA session of a
# user who still has a second factor.
DECISION = """
SELECT t.id AS token_id, t.prefix AS token_prefix, u.id AS user_id, u.email AS user_email,
       m.id AS model_id, m.namespace, m.name,
       r.id AS release_id, r.version, r.revision,
       f.id AS file_id, f.path, f.size, f.sha256, f.storage_key,
       g.id AS grant_id, p.max_downloads_per_file AS cap,
       LEAST(p.url_ttl_seconds, %(max_ttl)s::integer) AS ttl,
       %(now)s::timestamptz + make_interval(secs => LEAST(p.url_ttl_seconds, %(max_ttl)s::integer)) AS valid_until
FROM accounts_apitoken t
JOIN accounts_user u ON u.id = t.user_id
JOIN catalog_model m ON lower(m.namespace) = lower(%(namespace)s::text) AND lower(m.name) = lower(%(name)s::text)
JOIN access_accesspolicy p ON p.model_id = m.id
JOIN catalog_release r ON r.model_id = m.id
JOIN catalog_weightfile f ON f.release_id = r.id AND f.path = %(path)s::text
JOIN access_grant g ON g.user_id = u.id AND g.model_id = m.id AND g.status = 'active'
WHERE t.secret_hash = %(hash)s::text AND t.revoked_at IS NULL AND t.expires_at > %(now)s::timestamptz
  AND u.is_active
  AND t.scopes @> %(scope)s::jsonb
  AND (NOT EXISTS (SELECT 1 FROM accounts_apitoken_models tm WHERE tm.apitoken_id = t.id)
       OR EXISTS (SELECT 1 FROM accounts_apitoken_models tm WHERE tm.apitoken_id = t.id AND tm.model_id = m.id))
  AND m.status = 'published'
  AND r.is_active
  AND CASE %(ref_kind)s::text
        WHEN 'revision' THEN r.revision = %(ref)s::text
        WHEN 'version' THEN r.version = %(ref)s::text
        ELSE r.id = (SELECT r2.id FROM catalog_release r2 WHERE r2.model_id = m.id AND r2.is_active
                     ORDER BY r2.created_at DESC LIMIT 1)
      END
  AND (g.expires_at > %(now)s::timestamptz
       OR EXISTS (SELECT 1 FROM access_accessrequest ar WHERE ar.renews_id = g.id
                  AND ar.status IN ('submitted', 'changes_requested')
                  AND ar.renewal_grace_until > %(now)s::timestamptz))
  AND p.license_id = (
        SELECT a.license_id FROM access_agreement a
        WHERE a.request_id = g.request_id
           OR a.request_id IN (SELECT ar.id FROM access_accessrequest ar WHERE ar.renews_id = g.id)
        ORDER BY a.signed_at DESC, a.id DESC LIMIT 1)
  AND (NOT p.require_identity
       OR EXISTS (SELECT 1 FROM identity_identityverification iv WHERE iv.user_id = u.id
                  AND iv.status = 'verified' AND iv.expires_at > %(now)s::timestamptz))
  AND (p.blocked_countries = '[]'::jsonb
       OR NOT EXISTS (
         SELECT 1 FROM jsonb_array_elements_text(p.blocked_countries) AS blocked(code)
         WHERE upper(blocked.code) IN (
           (SELECT NULLIF(upper(pr.country), '') FROM accounts_profile pr WHERE pr.user_id = u.id),
           (SELECT NULLIF(upper(iv.document_country), '') FROM identity_identityverification iv
            WHERE iv.user_id = u.id AND iv.status = 'verified' AND iv.expires_at > %(now)s::timestamptz
            ORDER BY iv.verified_at DESC LIMIT 1))))
  AND (NOT p.require_training
       OR NOT EXISTS (
         SELECT 1 FROM access_accesspolicy_required_trainings rt
         WHERE rt.accesspolicy_id = p.id
           AND NOT EXISTS (SELECT 1 FROM training_trainingrecord tr WHERE tr.user_id = u.id
                           AND tr.training_id = rt.training_id AND tr.status = 'passed'
                           AND tr.expires_at > %(now)s::timestamptz)))
  AND (NOT p.require_mfa
       OR (t.created_with_mfa AND EXISTS (SELECT 1 FROM mfa_authenticator ma WHERE ma.user_id = u.id
                                          AND ma.type IN ('totp', 'webauthn'))))
LIMIT 1
"""


def _prepared_cursor_class():
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparedCursor(ServerBindingCursor):
        """Server-side binding, prepared on first use: psycopg keeps the statement per
        connection, so later executions send only the name and the parameters (no parsing,
        no planning). Note: needs session pooling (pgbouncer in transaction mode would lose it)."""

        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True, binary=binary)

    return PreparedCursor


_cursor_class = None
NEVER_AUTOMATICALLY = 2**31 - 1


class StalePlan(Exception):
    """The prepared statement failed in a transaction because a migration changed a column it
    returns; that transaction's rollback deallocates it (psycopg), so the next one re-prepares."""


def _stale_plan(error: NotSupportedError) -> bool:
    # PostgreSQL's "cached plan must not change result type" (0A000): a migration run by another
    # connection changed the type of a returned column (a max_length, say) under this one's plan.
    return getattr(error.__cause__, "sqlstate", None) == "0A000" and "cached plan" in str(error)


def execute_prepared(sql: str, params: dict) -> tuple[list[str], tuple | None]:
    """Run `sql` prepared on Django's PostgreSQL connection (through Django's cursor wrapper, so
    query capture, execute wrappers and error translation still see it). Returns the column
    names and the first row (None when there is none)."""
    global _cursor_class
    if _cursor_class is None:
        _cursor_class = _prepared_cursor_class()
    connection.ensure_connection()
    if connection.connection.prepare_threshold is None:
        # Django turns psycopg's preparing off (None) for connection poolers; its own cursors
        # bind on the client and never prepare anyway. Allow it for explicit `prepare=True`
        # only (this cursor's), never automatically. Behind pgbouncer, use session pooling,
        # or pgbouncer >= 1.21 with max_prepared_statements.
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
