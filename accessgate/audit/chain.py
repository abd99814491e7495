"""The audit trail's hash chain. This is the rule an outside auditor reimplements:

    hash = sha256( prev_hash  ||  canonical_json(event) )

- `prev_hash` is the previous event's `hash` as 64 lowercase hex characters (ASCII); the
  first event's `prev_hash` is 64 zeros.
- `canonical_json(event)` is the UTF-8 JSON of the object below, keys sorted at every level,
  no whitespace (`separators=(",", ":")`), non-ASCII characters kept as they are, no floats:

    {"action": str, "actor_id": int|null, "actor_label": str, "created_at": str,
     "details": object, "ip": str|null, "seq": int, "target_id": str,
     "target_label": str, "target_type": str, "user_agent": str}

  `created_at` is UTC ISO-8601 with microseconds and a Z: `2026-11-28T18:40:00.123456Z`.

scripts/verify_audit_export.py carries its own copy of these few lines (it must run without
Django); a test checks that both give the same hashes.
"""

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
FIELDS = (
    "seq",
    "created_at",
    "actor_id",
    "actor_label",
    "action",
    "target_type",
    "target_id",
    "target_label",
    "ip",
    "user_agent",
    "details",
)


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def event_payload(event: Any) -> dict[str, Any]:
    """The hashed content of an event (a model instance or anything with the same attributes)."""
    return {
        "seq": event.seq,
        "created_at": format_time(event.created_at),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": str(event.action),
        "target_type": event.target_type,
        "target_id": event.target_id,
        "target_label": event.target_label,
        "ip": event.ip or None,
        "user_agent": event.user_agent,
        "details": event.details,
    }


def chain_hash(prev_hash: str, payload: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_json(payload)).hexdigest()


def export_line(payload: dict[str, Any], prev_hash: str, digest: str) -> str:
    """One export row: the hashed fields plus `prev_hash` and `hash`, canonical JSON.

    Removing `,"hash":"…"` and `,"prev_hash":"…"` from it gives back exactly the hashed
    `canonical_json(payload)` (keys are sorted and neither comes first), which is how the
    database re-hashes stored lines (see verification.py)."""
    return canonical_json({**payload, "prev_hash": prev_hash, "hash": digest}).decode()
