#!/usr/bin/env python3
"""Verify an accessgate audit export against its signed manifest.

    python verify_audit_export.py EXPORT_FILE MANIFEST_FILE --public-key public-key.pem \
        [--checkpoint CHECKPOINT.json …] [--receipt RECEIPT.json …]
    python verify_audit_export.py --public-key public-key.pem --receipt RECEIPT.json

Needs only Python 3.9+ and the `cryptography` package; no access to the portal. Checks:
  1. the manifest's Ed25519 signature, with the portal's public key (/audit/public-key.pem);
  2. the file's sha256 and row count against the manifest, and its first and last events;
  3. every row's hash: sha256(prev_hash || canonical JSON of the row's event fields);
  4. for a full (unfiltered) export, the chain itself: consecutive seq from #1, each
     prev_hash equal to the hash before it, starting from 64 zeros.
  5. each checkpoint's and receipt's signature, each receipt's event hash and that its
     checkpoint covers it; with an export, that the export's event at each checkpoint's and
     receipt's seq has the signed hash (a full export that ends before a checkpoint signed
     before the export was asked for means history was cut).
Exits 0 and prints "OK: …" when everything holds, 1 and "FAILED: …" at the first problem.

CSV cells: a value that begins with =, +, -, @, a tab, a carriage return or ' is written with
one extra leading ' (so spreadsheets show it as text); remove exactly one leading ' to get
the hashed value back. JSON Lines files hold the exact values.

The canonical JSON: UTF-8, keys sorted at every level, no whitespace, non-ASCII kept,
fields seq, created_at, actor_id, actor_label, action, target_type, target_id,
target_label, ip, user_agent, details (see docs/audit.md, "The chain").
"""

from __future__ import annotations

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


def check_signature(document: dict, public_key_pem: bytes, kind: str = "manifest") -> dict:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    manifest, signature = document.get(kind) if isinstance(document, dict) else None, None
    signature = document.get("signature") if isinstance(document, dict) else None
    if not isinstance(manifest, dict) or not isinstance(signature, str):
        raise Failed(f"the {kind} file has no '{kind}' object and 'signature'")
    key = serialization.load_pem_public_key(public_key_pem)
    if not isinstance(key, Ed25519PublicKey):
        raise Failed("the public key is not an Ed25519 key")
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key_id = hashlib.sha256(raw).hexdigest()[:16]
    try:
        key.verify(base64.b64decode(signature), canonical_json(manifest))
    except (InvalidSignature, ValueError):
        if manifest.get("key_id") not in (None, key_id):
            raise Failed(f"bad signature: the {kind} names key {manifest['key_id']}, this public key is {key_id}")
        raise Failed(f"bad signature: the {kind} was changed, or signed with another key")
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


def verify(export_path: str, manifest_path: str, public_key_path: str, expect: dict | None = None) -> str:
    """`expect`: {seq: [(name, hash, created_at)]} from checkpoints and receipts to hold the export to."""
    expect = expect or {}
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

    count, first, previous, seen = 0, None, None, set()
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
        if row["seq"] in expect:
            seen.add(row["seq"])
        for name, expected_hash, _ in expect.get(row["seq"], ()):
            if row["hash"] != expected_hash:
                raise Failed(
                    f"{name} does not match: event #{row['seq']} has hash {row['hash'][:16]}…, "
                    f"it signed {expected_hash[:16]}… (history up to it was rewritten)"
                )
        first = first or row
        previous = row
    if count != manifest["row_count"]:
        raise Failed(f"the file has {count} rows, the manifest says {manifest['row_count']}")
    if count:
        ends = (first["seq"], first["hash"], previous["seq"], previous["hash"])
        expected = (manifest["first_seq"], manifest["first_hash"], manifest["last_seq"], manifest["last_hash"])
        if ends != expected:
            raise Failed("the first or last event differs from the manifest")
    last_seq = previous["seq"] if previous else 0
    notes = []
    for seq, claims in sorted(expect.items()):
        for name, _, created_at in claims:
            if seq > last_seq and manifest["full"] and created_at and created_at < manifest["requested_at"]:
                raise Failed(
                    f"the export ends at #{last_seq}, before {name} (#{seq}), which was signed before "
                    "the export was requested (history was cut)"
                )
            if seq in seen:
                notes.append(f"{name} (#{seq}) matches")
            else:
                notes.append(f"{name} (#{seq}) is not in this export")
    scope = (
        "the full chain links" if manifest["full"] else "every row's hash holds (filtered export: links not checked)"
    )
    scope += "".join(f"; {note}" for note in notes)
    return (
        f"OK: export #{manifest['export_id']}, {count} events"
        + (f" #{manifest['first_seq']}..#{manifest['last_seq']}" if count else "")
        + f", signature by key {manifest['key_id']} valid, sha256 matches, {scope}."
    )


def read_json(path: str, what: str):
    with open(path, "rb") as handle:
        try:
            return json.loads(handle.read())
        except ValueError:
            raise Failed(f"{what} {path} is not JSON")


def check_checkpoint(document, public_key_pem: bytes, name: str) -> dict:
    """A checkpoint's own validity: its signature and its fields."""
    try:
        checkpoint = check_signature(document, public_key_pem, "checkpoint")
    except Failed as failure:
        raise Failed(f"checkpoint {name}: {failure}")
    if not isinstance(checkpoint.get("seq"), int) or not isinstance(checkpoint.get("hash"), str):
        raise Failed(f"checkpoint {name}: no seq and hash")
    return checkpoint


def check_receipt(document, public_key_pem: bytes, name: str) -> tuple[dict, dict]:
    """A receipt's own validity: signatures, the event's hash, the checkpoint covering it."""
    try:
        receipt = check_signature(document, public_key_pem, "receipt")
        event, claimed = receipt["event"], receipt["hash"]
        seq = event["seq"]
        checkpoint = check_checkpoint(receipt["checkpoint"], public_key_pem, f"in receipt {name}")
    except (KeyError, TypeError) as error:
        raise Failed(f"receipt {name} is malformed ({error})")
    except Failed as failure:
        raise Failed(f"receipt {name}: {failure}")
    if chain_hash(receipt["prev_hash"], {field: event.get(field) for field in EVENT_FIELDS}) != claimed:
        raise Failed(f"receipt {name}: event #{seq} does not match the receipt's hash (the receipt was changed)")
    if checkpoint["seq"] < seq:
        raise Failed(f"receipt {name}: its checkpoint (#{checkpoint['seq']}) does not cover event #{seq}")
    if checkpoint["seq"] == seq and checkpoint["hash"] != claimed:
        raise Failed(f"receipt {name}: its checkpoint signs another hash for event #{seq}")
    return receipt, checkpoint


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export", nargs="?", help="the export file (.jsonl or .csv)")
    parser.add_argument("manifest", nargs="?", help="the signed manifest (.manifest.json)")
    parser.add_argument("--public-key", required=True, help="the portal's public key (PEM), from /audit/public-key.pem")
    parser.add_argument(
        "--checkpoint", nargs="+", action="extend", default=[], metavar="FILE", help="signed checkpoints to check"
    )
    parser.add_argument(
        "--receipt", nargs="+", action="extend", default=[], metavar="FILE", help="signed receipts to check"
    )
    args = parser.parse_args(argv)
    if bool(args.export) != bool(args.manifest):
        parser.error("give both the export file and its manifest")
    if not (args.export or args.checkpoint or args.receipt):
        parser.error("give an export and its manifest, --checkpoint FILE or --receipt FILE")
    try:
        with open(args.public_key, "rb") as handle:
            pem = handle.read()
        expect, lines = {}, []
        for path in args.checkpoint:
            checkpoint = check_checkpoint(read_json(path, "checkpoint"), pem, path)
            expect.setdefault(checkpoint["seq"], []).append(
                (f"checkpoint {path}", checkpoint["hash"], checkpoint.get("created_at"))
            )
            lines.append(f"OK: checkpoint {path}: #{checkpoint['seq']} {checkpoint['hash']}, signature valid.")
        for path in args.receipt:
            receipt, checkpoint = check_receipt(read_json(path, "receipt"), pem, path)
            seq = receipt["event"]["seq"]
            expect.setdefault(seq, []).append((f"receipt {path}", receipt["hash"], None))
            expect.setdefault(checkpoint["seq"], []).append(
                (f"the checkpoint in receipt {path}", checkpoint["hash"], checkpoint.get("created_at"))
            )
            lines.append(
                f"OK: receipt {path}: event #{seq} ({receipt['event']['action']}), signature and hash valid, "
                f"covered by checkpoint #{checkpoint['seq']}."
            )
        if args.export:
            lines.append(verify(args.export, args.manifest, args.public_key, expect))
        elif expect:
            lines.append("(To check them against the trail, give a full export, or run manage.py verify_audit.)")
        print("\n".join(lines))
        return 0
    except Failed as failure:
        print(f"FAILED: {failure}")
        return 1
    except (OSError, KeyError) as error:
        print(f"FAILED: could not read the inputs ({error})")
        return 1


if __name__ == "__main__":
    sys.exit(main())
