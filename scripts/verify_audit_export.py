#!/usr/bin/env python3
"""Verify an accessgate audit export against its signed manifest.

    python verify_audit_export.py EXPORT_FILE MANIFEST_FILE --public-key public-key.pem

Needs only Python 3.9+ and the `cryptography` package; no access to the portal. Checks:
  1. the manifest's Ed25519 signature, with the portal's public key (/audit/public-key.pem);
  2. the file's sha256 and row count against the manifest, and its first and last events;
  3. every row's hash: sha256(prev_hash || canonical JSON of the row's event fields);
  4. for a full (unfiltered) export, the chain itself: consecutive seq from #1, each
     prev_hash equal to the hash before it, starting from 64 zeros.
Exits 0 and prints "OK: …" when everything holds, 1 and "FAILED: …" at the first problem.

The canonical JSON: UTF-8, keys sorted at every level, no whitespace, non-ASCII kept,
fields seq, created_at, actor_id, actor_label, action, target_type, target_id,
target_label, ip, user_agent, details (see the README's "Audit trail" section).
"""

import argparse
import base64
import csv
import hashlib
import io
import json
import sys

GENESIS = "0" * 64
EVENT_FIELDS = (
    "seq", "created_at", "actor_id", "actor_label", "action", "target_type", "target_id",
    "target_label", "ip", "user_agent", "details",
)  # fmt: skip


class Failed(Exception):
    pass


def canonical_json(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def chain_hash(prev_hash: str, payload: dict) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_json(payload)).hexdigest()


def check_signature(document: dict, public_key_pem: bytes) -> dict:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    manifest, signature = document.get("manifest"), document.get("signature")
    if not isinstance(manifest, dict) or not isinstance(signature, str):
        raise Failed("the manifest file has no 'manifest' object and 'signature'")
    key = serialization.load_pem_public_key(public_key_pem)
    if not isinstance(key, Ed25519PublicKey):
        raise Failed("the public key is not an Ed25519 key")
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key_id = hashlib.sha256(raw).hexdigest()[:16]
    try:
        key.verify(base64.b64decode(signature), canonical_json(manifest))
    except (InvalidSignature, ValueError):
        if manifest.get("key_id") not in (None, key_id):
            raise Failed(f"bad signature: the manifest names key {manifest['key_id']}, this public key is {key_id}")
        raise Failed("bad signature: the manifest was changed, or signed with another key")
    return manifest


def rows_of(data: bytes, file_format: str):
    text = data.decode("utf-8")
    if file_format == "jsonl":
        for number, line in enumerate(text.split("\n"), 1):
            if line:
                try:
                    yield json.loads(line)
                except ValueError:
                    raise Failed(f"line {number} is not JSON")
        return
    reader = csv.DictReader(io.StringIO(text, newline=""))
    for cells in reader:
        # A cell the portal neutralised against spreadsheet formulas starts with one extra "'"
        # (it does so for every value starting with = + - @ tab CR or '); drop exactly one.
        row = {name: (cell[1:] if cell.startswith("'") else cell) for name, cell in cells.items()}
        try:
            yield {
                **row,
                "seq": int(row["seq"]),
                "actor_id": int(row["actor_id"]) if row["actor_id"] else None,
                "ip": row["ip"] or None,
                "details": json.loads(row["details"]),
            }
        except (KeyError, ValueError) as error:
            raise Failed(f"CSV row {reader.line_num} is malformed ({error})")


def verify(export_path: str, manifest_path: str, public_key_path: str) -> str:
    with open(manifest_path, "rb") as handle:
        try:
            document = json.loads(handle.read())
        except ValueError:
            raise Failed("the manifest is not JSON")
    with open(public_key_path, "rb") as handle:
        manifest = check_signature(document, handle.read())
    with open(export_path, "rb") as handle:
        data = handle.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != manifest["sha256"]:
        raise Failed(f"the file's sha256 is {digest}, the manifest says {manifest['sha256']}")

    count, first, previous = 0, None, None
    for row in rows_of(data, manifest["file_format"]):
        count += 1
        payload = {name: row.get(name) for name in EVENT_FIELDS}
        if chain_hash(row["prev_hash"], payload) != row["hash"]:
            raise Failed(f"event #{row['seq']} (row {count}) does not match its hash")
        if manifest["full"]:
            expected_seq = 1 if previous is None else previous["seq"] + 1
            expected_prev = GENESIS if previous is None else previous["hash"]
            if row["seq"] != expected_seq:
                raise Failed(f"event #{expected_seq} is missing (row {count} is #{row['seq']})")
            if row["prev_hash"] != expected_prev:
                raise Failed(f"event #{row['seq']} does not link to the event before it")
        first = first or row
        previous = row
    if count != manifest["row_count"]:
        raise Failed(f"the file has {count} rows, the manifest says {manifest['row_count']}")
    if count:
        ends = (first["seq"], first["hash"], previous["seq"], previous["hash"])
        expected = (manifest["first_seq"], manifest["first_hash"], manifest["last_seq"], manifest["last_hash"])
        if ends != expected:
            raise Failed("the first or last event differs from the manifest")
    scope = (
        "the full chain links" if manifest["full"] else "every row's hash holds (filtered export: links not checked)"
    )
    return (
        f"OK: export #{manifest['export_id']}, {count} events"
        + (f" #{manifest['first_seq']}..#{manifest['last_seq']}" if count else "")
        + f", signature by key {manifest['key_id']} valid, sha256 matches, {scope}."
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export", help="the export file (.jsonl or .csv)")
    parser.add_argument("manifest", help="the signed manifest (.manifest.json)")
    parser.add_argument("--public-key", required=True, help="the portal's public key (PEM), from /audit/public-key.pem")
    args = parser.parse_args(argv)
    try:
        print(verify(args.export, args.manifest, args.public_key))
        return 0
    except Failed as failure:
        print(f"FAILED: {failure}")
        return 1
    except (OSError, KeyError) as error:
        print(f"FAILED: could not read the inputs ({error})")
        return 1


if __name__ == "__main__":
    sys.exit(main())
