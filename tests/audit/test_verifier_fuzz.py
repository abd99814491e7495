"""The standalone verifier fails closed: any changed export, manifest, checkpoint or receipt
gives one `FAILED:` line and exit 1, never a traceback and never a false OK.

No-op changes (the verifier may answer OK): in the JSON files (manifest, checkpoint, receipt)
what leaves the parsed document equal — whitespace (CRLF included), key order, escapes such as
`\\u0041` for `A`. Nothing in an export file is a no-op: its sha256 is signed, and each row
must be written exactly as the portal writes it. With the manifest re-signed (a stolen key),
dropping a row from the middle of a filtered export is not detectable offline (a filtered
export proves its rows, not that every matching event is there); nor is a valid new value in
a signed field the checks do not hold to anything (FREE below).
"""

import contextlib
import hashlib
import importlib.util
import io
import json
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accessgate.audit import signing
from accessgate.audit.checkpoints import MANUAL, checkpoint_create, checkpoint_file
from accessgate.audit.models import AuditEvent
from accessgate.audit.receipts import receipt_issue
from tests.support.exports import SCRIPT, export_files, make_export, trail_fixture  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

_spec = importlib.util.spec_from_file_location("verify_audit_export", SCRIPT)
verifier = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(verifier)

KINDS = ("full.jsonl", "filtered.jsonl", "full.csv", "filtered.csv")
# Signed fields whose value may change (keeping its type) under a valid signature: nothing in
# an export, checkpoint or receipt is checked against them.
FREE = {
    "manifest": {"export_id", "file_name", "requested_by", "requested_at", "finished_at", "filters"},
    "checkpoint": {"created_at", "reason", "portal"},
    "receipt": {"issued_at"},
}
SENTINEL = "\x00replaced\x00"


@pytest.fixture
def material(trail, auditor, tmp_path, django_capture_on_commit_callbacks):
    """Real files: a checkpoint, a receipt of an early event, and four exports signed after them."""
    checkpoint, _ = checkpoint_create(actor=auditor, reason=MANUAL)
    receipt = receipt_issue(event=AuditEvent.objects.get(seq=3), actor=auditor)
    files = {"checkpoint": checkpoint_file(checkpoint), "receipt": json.dumps(receipt, indent=2).encode()}
    for kind in KINDS:
        scope, format = kind.split(".")
        filters = {"ip": "198.51.100.7"} if scope == "filtered" else {}
        export = make_export(auditor, filters=filters, format=format, capture=django_capture_on_commit_callbacks)
        (tmp_path / kind).mkdir()
        rows, manifest, key = export_files(export, tmp_path / kind)
        files[kind], files[f"{kind}.manifest"] = rows.read_bytes(), manifest.read_bytes()
    files["key"] = key.read_bytes()
    return files


def write(directory, files, kind):
    directory.mkdir(exist_ok=True)
    names = {"rows": kind, "manifest": f"{kind}.manifest", "checkpoint": "checkpoint", "receipt": "receipt"}
    paths = {}
    for role, name in [*names.items(), ("key", "key")]:
        paths[role] = directory / f"{role}.input"
        paths[role].write_bytes(files[name])
    return [
        str(paths["rows"]),
        str(paths["manifest"]),
        "--public-key",
        str(paths["key"]),
        "--checkpoint",
        str(paths["checkpoint"]),
        "--receipt",
        str(paths["receipt"]),
    ]


def in_process(argv):
    """The verifier's main() in this process: (exit code, stdout); an exception escapes it."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = verifier.main(argv)
    return code, out.getvalue()


def in_subprocess(argv):
    result = subprocess.run([sys.executable, str(SCRIPT), *argv], capture_output=True, text=True, timeout=60)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr == ""
    return result.returncode, result.stdout


def assert_answer(code, out, *, may_pass):
    lines = out.splitlines()
    if code == 0:
        assert may_pass, f"a changed input verified: {out}"
        assert lines and all(line.startswith(("OK: ", "(")) for line in lines), out
        return
    assert code == 1, out
    assert len(lines) == 1 and lines[0].startswith("FAILED: "), out
    assert "unexpected error" not in out, out


# --- the reference: what counts as the same JSON document ----------------------------------------


def strict_load(data: bytes):
    """The document `data` holds, or None when it is not strict JSON (BOM, bad UTF-8, floats,
    NaN, a repeated key, too deep)."""

    def unique(pairs):
        keys = [key for key, _ in pairs]
        if len(keys) != len(set(keys)):
            raise ValueError("repeated key")
        return dict(pairs)

    def refuse(text):
        raise ValueError(text)

    try:
        text = data.decode("utf-8")
        if text.startswith("\ufeff"):
            return None
        value = json.loads(text, object_pairs_hook=unique, parse_float=refuse, parse_constant=refuse)
        json.dumps(value, ensure_ascii=False).encode()
    except (ValueError, RecursionError):
        return None
    return value


def same_document(a: bytes, b: bytes) -> bool:
    loaded = strict_load(b)
    return loaded is not None and json.dumps(loaded, sort_keys=True) == json.dumps(strict_load(a), sort_keys=True)


def json_type(value):
    return type(value).__name__


# --- the mutations -------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
json_texts = st.one_of(
    json_values.map(json.dumps),
    st.integers(1, 100_000).map(lambda n: "[" * n + "]" * n),  # deep nesting
    st.integers(1, 2_000).map(lambda n: '{"a":' * n + "1" + "}" * n),
    st.integers(19, 6_000).map(lambda n: "9" * n),  # huge numbers
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1.5", "1e400", "-0.0", '"\\ud800"', '"x\\u0000"', "[]", "{}"]),
)


def paths_of(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from paths_of(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from paths_of(child, (*prefix, index))


def replaced(document, path, text: str) -> str:
    """`document` as JSON, with the value at `path` replaced by the JSON text `text`."""
    document = json.loads(json.dumps(document))
    if not path:
        return text
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = SENTINEL
    return json.dumps(document, indent=1).replace(json.dumps(SENTINEL), text)


def resigned(text: str, kind: str) -> str | None:
    """The document in `text` with its `kind` object signed again (a stolen key), when it parses."""
    document = strict_load(text.encode())
    if not isinstance(document, dict) or not isinstance(document.get(kind), dict):
        return None
    try:
        return json.dumps({**document, "signature": signing.sign(document[kind])})
    except (ValueError, RecursionError):
        return None


@st.composite
def byte_changes(draw, data: bytes) -> bytes:
    index = draw(st.integers(0, max(len(data) - 1, 0)))
    change = draw(st.sampled_from(["flip", "truncate", "insert", "bom", "crlf"]))
    if change == "flip" and data:
        return data[:index] + bytes([data[index] ^ draw(st.integers(1, 255))]) + data[index + 1 :]
    if change == "truncate":
        return data[:index]
    if change == "insert":
        return data[:index] + draw(st.binary(min_size=1, max_size=8)) + data[index:]
    if change == "bom":
        return b"\xef\xbb\xbf" + data
    return data.replace(b"\n", b"\r\n")


@st.composite
def row_changes(draw, data: bytes, csv: bool) -> tuple[bytes, str]:
    """(new rows, what was done): a row duplicated, moved, dropped or one of its values replaced."""
    lines = data.split(b"\n")[:-1]
    header, rows = (lines[:1], lines[1:]) if csv else ([], lines)
    i = draw(st.integers(0, len(rows) - 1))
    j = draw(st.integers(0, len(rows) - 1))
    change = draw(st.sampled_from(["duplicate", "swap", "drop", "value"] if not csv else ["duplicate", "swap", "drop"]))
    if change == "duplicate":
        rows.insert(j, rows[i])
    elif change == "swap":
        rows[i], rows[j] = rows[j], rows[i]
    elif change == "drop":
        change = "drop-middle" if 0 < i < len(rows) - 1 else "drop-end"
        del rows[i]
    else:
        row = json.loads(rows[i])
        path = draw(st.sampled_from([p for p in paths_of(row) if p]))
        rows[i] = replaced(row, path, draw(json_texts)).replace("\n", "").encode()
    return b"".join(line + b"\n" for line in header + rows), change


def resign_manifest(files, kind, rows: bytes):
    document = json.loads(files[f"{kind}.manifest"])
    manifest = document["manifest"]
    manifest["sha256"] = hashlib.sha256(rows).hexdigest()
    manifest["row_count"] = rows.count(b"\n") - (1 if kind.endswith("csv") else 0)
    return json.dumps({"manifest": manifest, "signature": signing.sign(manifest)}).encode()


@st.composite
def mutations(draw, files):
    """(changed files, export kind, whether the verifier may answer OK)."""
    kind = draw(st.sampled_from(KINDS))
    target = draw(st.sampled_from(["rows", "rows-resigned", "manifest", "checkpoint", "receipt"]))
    changed = dict(files)
    if target.startswith("rows"):
        original = files[kind]
        if draw(st.booleans()):
            new, change = draw(row_changes(original, kind.endswith("csv")))
        else:
            new, change = draw(byte_changes(original)), "bytes"
        changed[kind] = new
        if target == "rows-resigned":
            changed[f"{kind}.manifest"] = resign_manifest(files, kind, new)
            may_pass = new == original or (change == "drop-middle" and kind.startswith("filtered"))
        else:
            may_pass = new == original
        return changed, kind, may_pass
    name = f"{kind}.manifest" if target == "manifest" else target
    original = files[name]
    if draw(st.booleans()):
        new = draw(byte_changes(original))
        changed[name] = new
        return changed, kind, same_document(original, new)
    document = json.loads(original)
    path = draw(st.sampled_from(list(paths_of(document))))
    text = draw(json_texts)
    new_text = replaced(document, path, text)
    may_pass = same_document(original, new_text.encode())
    if draw(st.booleans()) and len(path) >= 1 and path[0] == target:
        signed = resigned(new_text, target)
        if signed is not None:
            new_text = signed
            try:
                before = document[target]
                for step in path[1:]:
                    before = before[step]
                new_value = json.loads(text)
            except (ValueError, RecursionError):
                new_value = object()
            field = path[1] if len(path) > 1 else None
            free = field in FREE[target] and (len(path) > 2 or json_type(new_value) == json_type(before))
            may_pass = may_pass or free or json.dumps(new_value, sort_keys=True) == json.dumps(before, sort_keys=True)
    changed[name] = new_text.encode()
    return changed, kind, may_pass


# --- the properties ------------------------------------------------------------------------------


def test_the_real_files_verify(material, tmp_path):
    for kind in KINDS:
        code, out = in_process(write(tmp_path / "inputs", material, kind))
        assert code == 0, out
        assert f"checkpoint {tmp_path / 'inputs' / 'checkpoint.input'} (#" in out


def test_fuzz_in_process(material, tmp_path):
    @settings(max_examples=400, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def check(data):
        files, kind, may_pass = data.draw(mutations(material))
        code, out = in_process(write(tmp_path / "inputs", files, kind))
        assert_answer(code, out, may_pass=may_pass)

    check()


def test_fuzz_as_a_subprocess(material, tmp_path):
    @settings(max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def check(data):
        files, kind, may_pass = data.draw(mutations(material))
        code, out = in_subprocess(write(tmp_path / "inputs", files, kind))
        assert_answer(code, out, may_pass=may_pass)

    check()


# --- the cases found by hand, replayed -----------------------------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000


def resigned_manifest(files, kind, **changes):
    document = json.loads(files[f"{kind}.manifest"])
    manifest = {**document["manifest"], **changes}
    return json.dumps({"manifest": manifest, "signature": signing.sign(manifest)}).encode()


def failure(tmp_path, files, kind="full.jsonl"):
    code, out = in_subprocess(write(tmp_path / "inputs", files, kind))
    assert_answer(code, out, may_pass=False)
    return out


@pytest.mark.parametrize("name", ["full.jsonl.manifest", "checkpoint", "receipt"])
def test_deeply_nested_json_fails(material, tmp_path, name):
    assert "nested too deeply" in failure(tmp_path, {**material, name: DEEP.encode()})
    inner = name.split(".")[-1] if name != "full.jsonl.manifest" else "manifest"
    document = json.loads(material[name])
    document[inner]["format"] = SENTINEL
    nested = json.dumps(document).replace(json.dumps(SENTINEL), DEEP).encode()
    assert "nested too deeply" in failure(tmp_path, {**material, name: nested})


def test_nested_json_in_a_signed_field_fails(material, tmp_path):
    nested = json.loads("[" * 300 + "]" * 300)
    out = failure(
        tmp_path, {**material, "full.jsonl.manifest": resigned_manifest(material, "full.jsonl", sha256=nested)}
    )
    assert "field 'sha256' is a list, expected 64 lowercase hex digits" in out


def other_keys():
    private = ec.generate_private_key(ec.SECP256R1())
    ed = Ed25519PrivateKey.generate()
    pem = serialization.Encoding.PEM
    return {
        "garbage": b"-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n",
        "empty": b"",
        "binary": b"\xff\xfe\x00\x01",
        "an EC key": private.public_key().public_bytes(pem, serialization.PublicFormat.SubjectPublicKeyInfo),
        "a private key": ed.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    }


def test_a_bad_public_key_fails(material, tmp_path):
    for name, pem in other_keys().items():
        out = failure(tmp_path, {**material, "key": pem})
        assert "public key" in out and ("not a PEM public key" in out or "not an Ed25519 key" in out), name


def test_an_unknown_row_format_fails(material, tmp_path):
    files = {**material, "full.jsonl.manifest": resigned_manifest(material, "full.jsonl", file_format="xml")}
    assert "unknown row format 'xml'" in failure(tmp_path, files)


@pytest.mark.parametrize("kind", ["filtered.jsonl", "filtered.csv", "full.jsonl", "full.csv"])
@pytest.mark.parametrize("change", ["duplicate", "swap"])
def test_a_duplicated_or_moved_row_fails_even_re_signed(material, tmp_path, kind, change):
    lines = material[kind].split(b"\n")[:-1]
    header, rows = (lines[:1], lines[1:]) if kind.endswith("csv") else ([], lines)
    if change == "duplicate":
        rows.insert(3, rows[2])
    else:
        rows[2], rows[3] = rows[3], rows[2]
    data = b"".join(line + b"\n" for line in header + rows)
    files = {**material, kind: data, f"{kind}.manifest": resign_manifest(material, kind, data)}
    out = failure(tmp_path, files, kind)
    assert "rows are duplicated or out of order" in out or (kind.startswith("full") and "is missing" in out)


def test_a_filtered_row_that_follows_another_must_link_to_it(material, tmp_path):
    """Events #n and #n+1 in a filtered export: #n+1's prev_hash is #n's hash."""
    rows = [json.loads(line) for line in material["filtered.jsonl"].split(b"\n")[:-1]]
    assert rows[1]["seq"] == rows[0]["seq"] + 1 and rows[1]["prev_hash"] == rows[0]["hash"]
    forged = {**rows[1], "prev_hash": "e" * 64}
    forged["hash"] = verifier.chain_hash(forged["prev_hash"], {n: forged[n] for n in verifier.EVENT_FIELDS})
    rows[1] = forged
    data = b"".join(verifier.canonical_json(row) + b"\n" for row in rows)
    files = {**material, "filtered.jsonl": data}
    files["filtered.jsonl.manifest"] = resign_manifest(material, "filtered.jsonl", data)
    assert "does not link to the event before it" in failure(tmp_path, files, "filtered.jsonl")


MANIFEST_FIELDS = (
    ({"row_count": "30"}, "field 'row_count' is the text '30', expected an integer"),
    ({"full": 1}, "field 'full' is 1, expected true or false"),
    ({"first_seq": [1]}, "field 'first_seq' is a list"),
    ({"row_count": 10**40}, "field 'row_count' is an integer of 41 digits"),
    ({"filters": []}, "field 'filters' is a list, expected an object"),
    ({"requested_at": "yesterday"}, "field 'requested_at' is the text 'yesterday'"),
    ({"format": "accessgate-audit-export/2"}, "unknown manifest format"),
    ({"key_id": "0" * 16}, "the manifest names key '0000000000000000'"),
    ({"extra": 1}, "unknown field 'extra'"),
)


def test_a_wrong_field_in_a_re_signed_manifest_fails(material, tmp_path):
    for changes, message in MANIFEST_FIELDS:
        files = {**material, "full.jsonl.manifest": resigned_manifest(material, "full.jsonl", **changes)}
        out = failure(tmp_path, files)
        assert message in out and "manifest.input" in out


MANIFEST_TEXTS = (
    ('{"manifest": NaN, "signature": ""}', "NaN, which JSON does not allow"),
    ('{"manifest": Infinity, "signature": ""}', "Infinity"),
    ('{"manifest": 1.5, "signature": ""}', "no fractions or exponents"),
    ('{"manifest": 1' + "0" * 5000 + ', "signature": ""}', "is not valid JSON"),
    ('{"manifest": {}, "manifest": {}, "signature": ""}', "holds the key 'manifest' twice"),
    ("", "is empty"),
    ("[]", "is a list, expected an object with 'manifest' and 'signature'"),
)


def test_malformed_manifest_text_fails(material, tmp_path):
    for text, message in MANIFEST_TEXTS:
        assert message in failure(tmp_path, {**material, "full.jsonl.manifest": text.encode()})


def test_encodings_and_line_ends(material, tmp_path):
    manifest = material["full.jsonl.manifest"]
    assert "byte order mark" in failure(tmp_path, {**material, "full.jsonl.manifest": b"\xef\xbb\xbf" + manifest})
    assert "is not UTF-8" in failure(tmp_path, {**material, "full.jsonl.manifest": manifest[:-2] + b"\xff}"})
    # CRLF in a JSON document is whitespace: the same document, it verifies.
    code, out = in_subprocess(
        write(tmp_path / "crlf", {**material, "receipt": material["receipt"].replace(b"\n", b"\r\n")}, "full.jsonl")
    )
    assert code == 0, out
    # In an export, every byte is signed and each row is written exactly as the portal writes it.
    for kind in ("full.jsonl", "full.csv"):
        for data in (
            material[kind].replace(b"\n", b"\r\n"),
            b"\xef\xbb\xbf" + material[kind],
            material[kind][:-1] + b"\xff\n",
            material[kind][:-7],
        ):
            assert "sha256" in failure(tmp_path, {**material, kind: data}, kind)
            files = {**material, kind: data, f"{kind}.manifest": resign_manifest(material, kind, data)}
            failure(tmp_path, files, kind)


def test_a_missing_or_unreadable_file_fails(material, tmp_path):
    argv = write(tmp_path / "inputs", material, "full.jsonl")
    for index in (0, 1, 3, 5, 7):
        missing = [*argv]
        missing[index] = str(tmp_path / "nowhere.json")
        code, out = in_subprocess(missing)
        assert_answer(code, out, may_pass=False)
        assert "nowhere.json could not be read (No such file or directory)" in out
    directory = [*argv]
    directory[1] = str(tmp_path)
    assert_answer(*in_subprocess(directory), may_pass=False)


def test_a_failure_is_one_line_whatever_the_input_holds(material, tmp_path):
    files = {**material, "full.jsonl.manifest": resigned_manifest(material, "full.jsonl", file_format="x\nOK: \x1b[2J")}
    out = failure(tmp_path, files)
    assert "\\n" in out and "\x1b" not in out
