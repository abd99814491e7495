#!/usr/bin/env python3
"""Verify an accessgate audit export against its signed manifest.

    python verify_audit_export.py EXPORT_FILE MANIFEST_FILE --public-key public-key.pem \
        [--checkpoint CHECKPOINT.json …] [--receipt RECEIPT.json …]
    python verify_audit_export.py --public-key public-key.pem --receipt RECEIPT.json

Needs only Python 3.9+ and the `cryptography` package; no access to the portal. Checks:
  1. the manifest's Ed25519 signature, with the portal's public key (/audit/public-key.pem),
     and every manifest field's type;
  2. the file's sha256 and row count against the manifest, and its first and last events;
  3. every row: its fields and their types, that it is written exactly as the portal writes
     it, and its hash: sha256(prev_hash || canonical JSON of the row's event fields);
  4. the rows' order: seq strictly increasing (a duplicated or moved row fails), each row
     whose seq follows the previous row's links to it, #1 links to 64 zeros; for a full
     (unfiltered) export, the chain itself: consecutive seq from #1 without gaps.
  5. each checkpoint's and receipt's signature and fields, each receipt's event hash and that
     its checkpoint covers it; with an export, that the export's event at each checkpoint's and
     receipt's seq has the signed hash (a full export that ends before a checkpoint signed
     before the export was asked for means history was cut).
Exits 0 and prints "OK: …" when everything holds; at the first problem prints one line
"FAILED: …" (naming the file, row and field) and exits 1, whatever the input (see
docs/verifier.md). A usage error exits 2.

CSV cells: a value that begins with =, +, -, @, a tab, a carriage return or ' is written with
one extra leading ' (so spreadsheets show it as text); remove exactly one leading ' to get
the hashed value back. JSON Lines files hold the exact values.

The canonical JSON: UTF-8, keys sorted at every level, no whitespace, non-ASCII kept, no
floats, fields seq, created_at, actor_id, actor_label, action, target_type, target_id,
target_label, ip, user_agent, details (see docs/audit.md, "The chain").
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import json
import re
import sys

GENESIS = "0" * 64
EVENT_FIELDS = (
    "seq", "created_at", "actor_id", "actor_label", "action", "target_type", "target_id",
    "target_label", "ip", "user_agent", "details",
)  # fmt: skip
ROW_FIELDS = (*EVENT_FIELDS, "prev_hash", "hash")
MANIFEST_FORMAT = "accessgate-audit-export/1"
CHECKPOINT_FORMAT = "accessgate-audit-checkpoint/1"
RECEIPT_FORMAT = "accessgate-audit-receipt/1"
FILE_FORMATS = ("jsonl", "csv")
CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")
MAX_INT = 2**63 - 1
HEX64 = re.compile(r"[0-9a-f]{64}\Z")
MOMENT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z\Z")


class Failed(Exception):
    pass


# --- values and their types -------------------------------------------------------------------


def shown(value, limit: int = 40) -> str:
    """A short, printable rendering of an input value for a message."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**30:
        return f"an integer of {len(str(abs(value)))} digits"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def described(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return shown(value)
    if isinstance(value, str):
        return f"the text {shown(value)}"
    return {list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


def _int(value, least: int) -> bool:
    return type(value) is int and least <= value <= MAX_INT


STR = (lambda v: isinstance(v, str), "a string")
OBJECT = (lambda v: isinstance(v, dict), "an object")
BOOL = (lambda v: isinstance(v, bool), "true or false")
COUNT = (lambda v: _int(v, 0), "an integer from 0 to 2**63-1")
SEQ = (lambda v: _int(v, 1), "an integer from 1 to 2**63-1")
HASH = (lambda v: isinstance(v, str) and HEX64.match(v) is not None, "64 lowercase hex digits")
TIME = (lambda v: isinstance(v, str) and MOMENT.match(v) is not None, "a UTC time like 2026-01-31T12:00:00.000000Z")


def nullable(check):
    return (lambda v: v is None or check[0](v), f"{check[1]} or null")


def field(document: dict, name: str, check, where: str):
    if name not in document:
        raise Failed(f"{where}: no field '{name}'")
    value = document[name]
    if not check[0](value):
        raise Failed(f"{where}: field '{name}' is {described(value)}, expected {check[1]}")
    return value


def only(document: dict, names, where: str) -> None:
    unknown = sorted(str(name) for name in document if name not in names)
    if unknown:
        raise Failed(f"{where}: unknown field {shown(unknown[0])}")
    for name in names:
        if name not in document:
            raise Failed(f"{where}: no field '{name}'")


EVENT_CHECKS = {
    "seq": SEQ,
    "created_at": TIME,
    "actor_id": nullable(COUNT),
    "actor_label": STR,
    "action": STR,
    "target_type": STR,
    "target_id": STR,
    "target_label": STR,
    "ip": nullable(STR),
    "user_agent": STR,
    "details": OBJECT,
    "prev_hash": HASH,
    "hash": HASH,
}


def checked_event(event, where: str, names=EVENT_FIELDS) -> dict:
    if not isinstance(event, dict):
        raise Failed(f"{where} is {described(event)}, expected an object")
    only(event, names, where)
    for name in names:
        field(event, name, EVENT_CHECKS[name], where)
    return event


# --- JSON -------------------------------------------------------------------------------------


def canonical_json(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def chain_hash(prev_hash: str, payload: dict) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_json(payload)).hexdigest()


def _no_float(text):
    raise ValueError(f"holds the number {shown(text)}; the format has no fractions or exponents")


def _no_constant(text):
    raise ValueError(f"holds {text}, which JSON does not allow")


def _unique_keys(pairs):
    document = {}
    for key, value in pairs:
        if key in document:
            raise ValueError(f"holds the key {shown(key)} twice")
        document[key] = value
    return document


def parse_json(text: str, where: str, unique_keys: bool = True):
    """Strict JSON: no NaN or Infinity, no floats, (with `unique_keys`) no repeated key, text
    that encodes back to UTF-8, nesting the encoder can handle."""
    try:
        value = json.loads(
            text,
            parse_float=_no_float,
            parse_constant=_no_constant,
            object_pairs_hook=_unique_keys if unique_keys else None,
        )
        canonical_json(value)
    except RecursionError:
        raise Failed(f"{where} is nested too deeply") from None
    except UnicodeEncodeError:
        raise Failed(f"{where} holds text that is not valid Unicode (a lone surrogate)") from None
    except ValueError as error:
        raise Failed(f"{where} is not valid JSON ({error})") from None
    return value


def decoded(data: bytes, where: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise Failed(f"{where}: line {line} is not UTF-8 (byte {error.start})") from None
    if text.startswith("\ufeff"):
        raise Failed(f"{where} starts with a byte order mark")
    return text


def read(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as error:
        raise Failed(f"{what} {path} could not be read ({error.strerror or error})") from None


def read_json(path: str, what: str):
    where = f"{what} {path}"
    data = read(path, what)
    if not data.strip():
        raise Failed(f"{where} is empty")
    return parse_json(decoded(data, where), where)


# --- signatures -------------------------------------------------------------------------------


def load_public_key(path: str):
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    pem = read(path, "public key")
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise Failed(f"public key {path} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise Failed(f"public key {path} is not an Ed25519 key")
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return key, hashlib.sha256(raw).hexdigest()[:16]


def check_signature(document, public_key, kind: str, where: str) -> dict:
    """The signed `kind` object of `{kind: {...}, "signature": base64}`, once its signature holds."""
    from cryptography.exceptions import InvalidSignature

    if not isinstance(document, dict):
        raise Failed(f"{where} is {described(document)}, expected an object with '{kind}' and 'signature'")
    only(document, (kind, "signature"), where)
    signed = field(document, kind, OBJECT, where)
    signature = field(document, "signature", STR, where)
    key, key_id = public_key
    try:
        key.verify(base64.b64decode(signature, validate=True), canonical_json(signed))
    except (InvalidSignature, ValueError):
        named = signed.get("key_id")
        if named is not None and named != key_id:
            raise Failed(f"{where}: bad signature: the {kind} names key {shown(named)}, this public key is {key_id}")
        raise Failed(f"{where}: bad signature: the {kind} was changed, or signed with another key") from None
    return signed


def same_key(document: dict, public_key, kind: str, where: str) -> None:
    if document["key_id"] != public_key[1]:
        raise Failed(f"{where}: the {kind} names key {shown(document['key_id'])}, but key {public_key[1]} signed it")


def format_of(document: dict, expected: str, what: str, where: str) -> None:
    value = field(document, "format", STR, where)
    if value != expected:
        raise Failed(f"{where}: unknown {what} format {shown(value)} (this verifier reads {expected})")


# --- rows -------------------------------------------------------------------------------------

CHECKPOINT_FIELDS = ("format", "seq", "hash", "created_at", "key_id", "signature_algorithm", "reason", "portal")
RECEIPT_FIELDS = ("format", "issued_at", "key_id", "event", "prev_hash", "hash", "checkpoint")
MANIFEST_CHECKS = {
    "format": STR,
    "export_id": COUNT,
    "file_name": STR,
    "file_format": STR,
    "sha256": HASH,
    "row_count": COUNT,
    "full": BOOL,
    "filters": OBJECT,
    "first_seq": nullable(SEQ),
    "last_seq": nullable(SEQ),
    "first_prev_hash": nullable(HASH),
    "first_hash": nullable(HASH),
    "last_hash": nullable(HASH),
    "requested_by": STR,
    "requested_at": TIME,
    "finished_at": TIME,
    "signature_algorithm": STR,
    "key_id": STR,
}
ENDS = ("first_seq", "last_seq", "first_prev_hash", "first_hash", "last_hash")


def csv_cell(value) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(CSV_FORMULA_STARTS) else text


def csv_line(cells) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()


def jsonl_rows(text: str, where: str):
    """(row number, row) of a JSON Lines export; each line must be its row's canonical JSON."""
    lines = text.split("\n")
    if lines[-1]:
        raise Failed(f"{where}: line {len(lines)} is cut off (no line end)")
    for number, line in enumerate(lines[:-1], 1):
        at = f"{where}, row {number}"
        if not line:
            raise Failed(f"{at} is an empty line")
        row = checked_event(parse_json(line, at, unique_keys=False), at, ROW_FIELDS)
        if canonical_json(row) != line.encode():
            raise Failed(f"{at} is not written as the portal writes rows (canonical JSON)")
        yield number, row


def csv_rows(text: str, where: str):
    """(row number, row) of a CSV export; each line must be exactly as the portal writes it."""
    csv.field_size_limit(2**31 - 1)
    reader = csv.reader(io.StringIO(text, newline=""))
    position, number = 0, 0
    try:
        for cells in reader:
            at = f"{where}, row {number} (line {reader.line_num})" if number else f"{where}: the header"
            if len(cells) != len(ROW_FIELDS):
                raise Failed(f"{at} has {len(cells)} cells, expected {len(ROW_FIELDS)}")
            line = csv_line(cells)
            if text[position : position + len(line)] != line:
                raise Failed(f"{at} is not written as the portal writes CSV rows")
            position += len(line)
            if number == 0:
                if cells != list(ROW_FIELDS):
                    raise Failed(f"{at} is not {','.join(ROW_FIELDS)}")
                number = 1
                continue
            yield number, csv_row({name: cells[i] for i, name in enumerate(ROW_FIELDS)}, at)
            number += 1
    except csv.Error as error:
        raise Failed(f"{where}: line {reader.line_num} is not CSV ({error})") from None
    if number == 0:
        raise Failed(f"{where} has no header line")
    if position != len(text):
        raise Failed(f"{where}: text after row {number - 1} is not CSV rows")


def csv_row(cells: dict, at: str) -> dict:
    row = {name: (cell[1:] if cell.startswith("'") else cell) for name, cell in cells.items()}
    for name, nullable_int in (("seq", False), ("actor_id", True)):
        if nullable_int and row[name] == "":
            row[name] = None
            continue
        try:
            row[name] = int(row[name])
        except ValueError:
            raise Failed(f"{at}: field '{name}' is {described(row[name][:40])}, expected an integer") from None
    row["ip"] = row["ip"] or None
    row["details"] = parse_json(row["details"], f"{at}: field 'details'")
    checked_event(row, at, ROW_FIELDS)
    written = {**row, "details": canonical_json(row["details"]).decode()}
    for name in ROW_FIELDS:
        if csv_cell(written[name]) != cells[name]:
            raise Failed(f"{at}: field '{name}' is not written as the portal writes it")
    return row


# --- the checks -------------------------------------------------------------------------------


def check_manifest(document, public_key, where: str) -> dict:
    manifest = check_signature(document, public_key, "manifest", where)
    format_of(manifest, MANIFEST_FORMAT, "manifest", where)
    only(manifest, MANIFEST_CHECKS, where)
    for name, check in MANIFEST_CHECKS.items():
        field(manifest, name, check, where)
    if manifest["file_format"] not in FILE_FORMATS:
        raise Failed(f"{where}: unknown row format {shown(manifest['file_format'])} (expected jsonl or csv)")
    if manifest["signature_algorithm"] != "Ed25519":
        raise Failed(f"{where}: unknown signature algorithm {shown(manifest['signature_algorithm'])}")
    same_key(manifest, public_key, "manifest", where)
    empty = [name for name in ENDS if manifest[name] is None]
    if empty and (manifest["row_count"] or len(empty) != len(ENDS)):
        raise Failed(f"{where}: field '{empty[0]}' is null, but the export has rows")
    if not empty and not manifest["row_count"]:
        raise Failed(f"{where}: the export has no rows, but field 'first_seq' is not null")
    return manifest


def verify(export_path: str, manifest_path: str, public_key, expect: dict | None = None) -> str:
    """`expect`: {seq: [(name, hash, created_at)]} from checkpoints and receipts to hold the export to."""
    expect = expect or {}
    manifest = check_manifest(read_json(manifest_path, "manifest"), public_key, f"manifest {manifest_path}")
    where = f"export {export_path}"
    data = read(export_path, "export")
    digest = hashlib.sha256(data).hexdigest()
    if digest != manifest["sha256"]:
        raise Failed(f"{where}: the file's sha256 is {digest}, the manifest says {manifest['sha256']}")
    text = decoded(data, where)
    rows = jsonl_rows(text, where) if manifest["file_format"] == "jsonl" else csv_rows(text, where)
    count, first, previous, seen = 0, None, None, set()
    for number, row in rows:
        count, at, seq = number, f"{where}, row {number}", row["seq"]
        payload = {name: row[name] for name in EVENT_FIELDS}
        if chain_hash(row["prev_hash"], payload) != row["hash"]:
            raise Failed(f"{at}: event #{seq} does not match its hash")
        if previous is not None and seq <= previous["seq"]:
            raise Failed(f"{at}: event #{seq} comes after #{previous['seq']} (rows are duplicated or out of order)")
        if manifest["full"] and seq != (previous["seq"] + 1 if previous else 1):
            expected = previous["seq"] + 1 if previous else 1
            raise Failed(f"{at}: event #{expected} is missing (row {number} is #{seq})")
        follows = previous["seq"] + 1 == seq if previous else False
        if (follows and row["prev_hash"] != previous["hash"]) or (seq == 1 and row["prev_hash"] != GENESIS):
            raise Failed(f"{at}: event #{seq} does not link to the event before it")
        if seq in expect:
            seen.add(seq)
        for name, expected_hash, _ in expect.get(seq, ()):
            if row["hash"] != expected_hash:
                raise Failed(
                    f"{name} does not match: event #{seq} has hash {row['hash'][:16]}…, "
                    f"it signed {expected_hash[:16]}… (history up to it was rewritten)"
                )
        first = first or row
        previous = row
    if count != manifest["row_count"]:
        raise Failed(f"{where} has {count} rows, the manifest says {manifest['row_count']}")
    if count:
        ends = {
            "first_seq": first["seq"],
            "last_seq": previous["seq"],
            "first_prev_hash": first["prev_hash"],
            "first_hash": first["hash"],
            "last_hash": previous["hash"],
        }
        for name, value in ends.items():
            if manifest[name] != value:
                raise Failed(f"{where}: the first or last event differs from the manifest's '{name}'")
    last_seq = previous["seq"] if previous else 0
    notes = []
    for seq, claims in sorted(expect.items()):
        for name, _, created_at in claims:
            if seq > last_seq and manifest["full"] and created_at and created_at < manifest["requested_at"]:
                raise Failed(
                    f"the export ends at #{last_seq}, before {name} (#{seq}), which was signed before "
                    "the export was requested (history was cut)"
                )
            notes.append(f"{name} (#{seq}) " + ("matches" if seq in seen else "is not in this export"))
    scope = (
        "the full chain links"
        if manifest["full"]
        else "every row's hash holds and rows are in order (filtered export: gaps not checked)"
    )
    scope += "".join(f"; {note}" for note in notes)
    return (
        f"OK: export #{manifest['export_id']}, {count} events"
        + (f" #{manifest['first_seq']}..#{manifest['last_seq']}" if count else "")
        + f", signature by key {manifest['key_id']} valid, sha256 matches, {scope}."
    )


def check_checkpoint(document, public_key, where: str) -> dict:
    """A checkpoint's own validity: its signature and its fields."""
    checkpoint = check_signature(document, public_key, "checkpoint", where)
    format_of(checkpoint, CHECKPOINT_FORMAT, "checkpoint", where)
    only(checkpoint, CHECKPOINT_FIELDS, where)
    for name, check in (("seq", SEQ), ("hash", HASH), ("created_at", TIME), ("key_id", STR)):
        field(checkpoint, name, check, where)
    for name in ("signature_algorithm", "reason", "portal"):
        field(checkpoint, name, STR, where)
    same_key(checkpoint, public_key, "checkpoint", where)
    return checkpoint


def check_receipt(document, public_key, where: str) -> tuple[dict, dict]:
    """A receipt's own validity: signatures, the event's hash, the checkpoint covering it."""
    receipt = check_signature(document, public_key, "receipt", where)
    format_of(receipt, RECEIPT_FORMAT, "receipt", where)
    only(receipt, RECEIPT_FIELDS, where)
    for name, check in (("issued_at", TIME), ("key_id", STR), ("prev_hash", HASH), ("hash", HASH)):
        field(receipt, name, check, where)
    same_key(receipt, public_key, "receipt", where)
    event = checked_event(receipt["event"], f"{where}: field 'event'")
    seq, claimed = event["seq"], receipt["hash"]
    checkpoint = check_checkpoint(receipt["checkpoint"], public_key, f"{where}: field 'checkpoint'")
    if chain_hash(receipt["prev_hash"], event) != claimed:
        raise Failed(f"{where}: event #{seq} does not match the receipt's hash (the receipt was changed)")
    if seq == 1 and receipt["prev_hash"] != GENESIS:
        raise Failed(f"{where}: event #1 does not link to the start of the chain")
    if checkpoint["seq"] < seq:
        raise Failed(f"{where}: its checkpoint (#{checkpoint['seq']}) does not cover event #{seq}")
    if checkpoint["seq"] == seq and checkpoint["hash"] != claimed:
        raise Failed(f"{where}: its checkpoint signs another hash for event #{seq}")
    return receipt, checkpoint


def run(args) -> str:
    public_key = load_public_key(args.public_key)
    expect, lines = {}, []
    for path in args.checkpoint:
        checkpoint = check_checkpoint(read_json(path, "checkpoint"), public_key, f"checkpoint {path}")
        expect.setdefault(checkpoint["seq"], []).append(
            (f"checkpoint {path}", checkpoint["hash"], checkpoint["created_at"])
        )
        lines.append(f"OK: checkpoint {path}: #{checkpoint['seq']} {checkpoint['hash']}, signature valid.")
    for path in args.receipt:
        receipt, checkpoint = check_receipt(read_json(path, "receipt"), public_key, f"receipt {path}")
        seq = receipt["event"]["seq"]
        expect.setdefault(seq, []).append((f"receipt {path}", receipt["hash"], None))
        expect.setdefault(checkpoint["seq"], []).append(
            (f"the checkpoint in receipt {path}", checkpoint["hash"], checkpoint["created_at"])
        )
        lines.append(
            f"OK: receipt {path}: event #{seq} ({receipt['event']['action']}), signature and hash valid, "
            f"covered by checkpoint #{checkpoint['seq']}."
        )
    if args.export:
        lines.append(verify(args.export, args.manifest, public_key, expect))
    elif expect:
        lines.append("(To check them against the trail, give a full export, or run manage.py verify_audit.)")
    return "\n".join(lines)


def one_line(text: str, limit: int = 1000) -> str:
    """`text` with every unprintable character escaped (so a message is exactly one line)."""
    text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def emit(text: str) -> None:
    try:
        print(text)
    except UnicodeEncodeError:  # a terminal that cannot show some character
        print(text.encode("ascii", "backslashreplace").decode("ascii"))


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
        output = run(args)
    except Failed as failure:
        emit(f"FAILED: {one_line(str(failure))}")
        return 1
    except RecursionError:
        emit("FAILED: an input is nested too deeply")
        return 1
    except Exception as error:  # fail closed: a check this script did not foresee is not an OK
        emit(f"FAILED: unexpected error, the inputs were not verified ({one_line(type(error).__name__)})")
        return 1
    emit(output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
