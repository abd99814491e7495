"""The fast path's decision as SQL: "may this token's user get this file now", in one SELECT.

The rules of `downloads.download_check` (and the requirements it reads) written once more for
the database; tests/access/test_fast_path.py checks that the two agree case by case. It
answers only "yes, and here is what you need" (one row) or "not sure" (no row). Everything it
cannot say yes to (every refusal, a draft model) goes to `download_check`, so every refusal
keeps its exact message and reason code.

PostgreSQL only: it reads jsonb (`scopes`, `blocked_countries`) with jsonb operators, and the
fast path prepares it once per connection (`accessgate.core.db.execute_prepared`). The SQLite
demo takes the ORM path.
"""

import json
from datetime import datetime
from typing import Any

from django.db import connection

from accessgate.accounts.models import TokenScope
from accessgate.catalog.names import NAME_PART_RE, REVISION_RE, VERSION_RE

# One row or none. Named parameters: hash, scope (jsonb array), namespace, name, ref_kind
# ('version', 'revision' or 'main'), ref, path, now, max_ttl. Each condition block is headed
# by the Python rule it mirrors.
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
-- ApiToken.objects.active(), require_scope(DOWNLOAD) and the token's model list
WHERE t.secret_hash = %(hash)s::text AND t.revoked_at IS NULL AND t.expires_at > %(now)s::timestamptz
  AND u.is_active
  AND t.scopes @> %(scope)s::jsonb
  AND (NOT EXISTS (SELECT 1 FROM accounts_apitoken_models tm WHERE tm.apitoken_id = t.id)
       OR EXISTS (SELECT 1 FROM accounts_apitoken_models tm WHERE tm.apitoken_id = t.id AND tm.model_id = m.id))
  -- catalog.selectors.visible_models: published only (drafts go the long way)
  AND m.status = 'published'
  -- download_check: the release is active; catalog.selectors.release_by_ref, or "main"
  AND r.is_active
  AND CASE %(ref_kind)s::text
        WHEN 'revision' THEN r.revision = %(ref)s::text
        WHEN 'version' THEN r.version = %(ref)s::text
        ELSE r.id = (SELECT r2.id FROM catalog_release r2 WHERE r2.model_id = m.id AND r2.is_active
                     ORDER BY r2.created_at DESC LIMIT 1)
      END
  -- models.grants._active_grant_q: active, and unexpired or in a timely renewal's grace
  AND (g.expires_at > %(now)s::timestamptz
       OR EXISTS (SELECT 1 FROM access_accessrequest ar WHERE ar.renews_id = g.id
                  AND ar.status IN ('submitted', 'changes_requested')
                  AND ar.renewal_grace_until > %(now)s::timestamptz))
  -- downloads._current_grants: the latest agreement signed under the grant names the current licence
  AND p.license_id = (
        SELECT a.license_id FROM access_agreement a
        WHERE a.request_id = g.request_id
           OR a.request_id IN (SELECT ar.id FROM access_accessrequest ar WHERE ar.renews_id = g.id)
        ORDER BY a.signed_at DESC, a.id DESC LIMIT 1)
  -- requirements.download_problem (evaluate at_download=True), rule by rule: identity
  AND (NOT p.require_identity
       OR EXISTS (SELECT 1 FROM identity_identityverification iv WHERE iv.user_id = u.id
                  AND iv.status = 'verified' AND iv.expires_at > %(now)s::timestamptz))
  -- blocked countries (Facts.countries: the profile and the latest valid verification's document)
  AND (p.blocked_countries = '[]'::jsonb
       OR NOT EXISTS (
         SELECT 1 FROM jsonb_array_elements_text(p.blocked_countries) AS blocked(code)
         WHERE upper(blocked.code) IN (
           (SELECT NULLIF(upper(pr.country), '') FROM accounts_profile pr WHERE pr.user_id = u.id),
           (SELECT NULLIF(upper(iv.document_country), '') FROM identity_identityverification iv
            WHERE iv.user_id = u.id AND iv.status = 'verified' AND iv.expires_at > %(now)s::timestamptz
            ORDER BY iv.verified_at DESC LIMIT 1))))
  -- every required training valid (TrainingRecord.objects.valid())
  AND (NOT p.require_training
       OR NOT EXISTS (
         SELECT 1 FROM access_accesspolicy_required_trainings rt
         WHERE rt.accesspolicy_id = p.id
           AND NOT EXISTS (SELECT 1 FROM training_trainingrecord tr WHERE tr.user_id = u.id
                           AND tr.training_id = rt.training_id AND tr.status = 'passed'
                           AND tr.expires_at > %(now)s::timestamptz)))
  -- two factors: a token created in an MFA session of a user who still has a second factor
  AND (NOT p.require_mfa
       OR (t.created_with_mfa AND EXISTS (SELECT 1 FROM mfa_authenticator ma WHERE ma.user_id = u.id
                                          AND ma.type IN ('totp', 'webauthn'))))
LIMIT 1
"""


def decision(
    *,
    token_hash: str,
    namespace: str,
    name: str,
    ref: str,
    path: str,
    now: datetime,
    max_ttl: int,
    main: bool = False,
) -> tuple[str, dict[str, Any]] | None:
    """`DECISION` and its parameters for one token download, or None when the address cannot
    be asked that way (then only `download_check` answers). No row means "ask
    `download_check`", never "no". `main`: the Hugging Face client's name for the newest
    active release."""
    if connection.vendor != "postgresql":
        return None
    if not (NAME_PART_RE.match(namespace) and NAME_PART_RE.match(name)) or "\x00" in path:
        return None  # the long way says why (and PostgreSQL text never holds a NUL)
    if main:
        ref_kind = "main"
    elif REVISION_RE.match(ref):
        ref_kind = "revision"
    elif VERSION_RE.match(ref):
        ref_kind = "version"
    else:
        return None
    params = {
        "hash": token_hash,
        "scope": json.dumps([str(TokenScope.DOWNLOAD)]),
        "namespace": namespace,
        "name": name,
        "ref_kind": ref_kind,
        "ref": ref,
        "path": path,
        "now": now,
        "max_ttl": max_ttl,
    }
    return DECISION, params
