"""verify_audit reads only what the portal writes under the checkpoint prefix: objects named
as checkpoints directly under it. Anything else there is reported by name and skipped; a
checkpoint-named object that is not a valid checkpoint fails verification; nothing crashes."""

import json
import tempfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from accessgate.audit.checkpoints import MANUAL, checkpoint_create
from accessgate.core.storage import get_storage
from tests.support.audit import append

pytestmark = pytest.mark.django_db(transaction=True)

PREFIX = "audit-checkpoints/"


@pytest.fixture(autouse=True)
def _own_bucket(backend, settings, tmp_path):
    """The s3rver bucket outlives a test: each test here writes into a bucket of its own, so the
    junk it leaves under the checkpoint prefix never reaches another test's verification."""
    if backend == "s3":
        bucket = f"listing-{tmp_path.name.lower().replace('_', '-')[-40:]}"
        get_storage().client.create_bucket(Bucket=bucket)
        settings.ACCESSGATE_S3 = {**settings.ACCESSGATE_S3, "bucket": bucket}


def put(key: str, body: bytes) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "f"
        path.write_bytes(body)
        get_storage().put_file(key, path)


def verify():
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit", stdout=out, stderr=err)
        code = 0
    except SystemExit as exit:
        code = exit.code
    return code, out.getvalue(), err.getvalue()


JUNK = {
    # What a publisher's release under a namespace `audit-checkpoints` would have stored.
    f"{PREFIX}x/1.0/config.json": json.dumps({"checkpoint": {"seq": 10**30, "hash": "x"}, "signature": "x"}).encode(),
    f"{PREFIX}x/1.0/model.safetensors": b"\x00" * 100_000,
    f"{PREFIX}notes.txt": b"hello",
    f"{PREFIX}latest.json": b"[1, 2",
}


def test_junk_under_the_prefix_is_reported_by_name_and_skipped(backend):
    append(2)
    checkpoint_create(actor=None, reason=MANUAL)
    for key, body in JUNK.items():
        put(key, body)
    code, out, err = verify()
    assert code == 0, err
    for key in JUNK:
        assert f"SKIPPED checkpoint storage:{key}: not a checkpoint (skipped)" in err
    assert "All 1 checkpoints match the chain." in out


@pytest.mark.parametrize(
    "body, says",
    [
        (json.dumps({"checkpoint": {"seq": 10**30, "hash": "x"}, "signature": "x"}).encode(), "not an event number"),
        (json.dumps({"checkpoint": {"seq": True, "hash": "x"}, "signature": "x"}).encode(), "not an event number"),
        (b"\xff\xfe not json", "unreadable"),
        (b"{" * 100_000, "too large to be a checkpoint"),
        (
            json.dumps({"checkpoint": {"seq": 1e400}, "signature": "x"}).replace("Infinity", "1e400").encode(),
            "unreadable",
        ),
    ],
)
def test_a_checkpoint_named_object_that_is_not_one_fails_without_crashing(backend, body, says):
    append(2)
    checkpoint_create(actor=None, reason=MANUAL)
    put(f"{PREFIX}000000000099-0123456789abcdef.json", body)
    code, out, err = verify()
    assert code == 1
    assert f"FAILED checkpoint storage:{PREFIX}000000000099-0123456789abcdef.json" in err and says in err
