"""A real audit trail, a signed export of it, and the standalone verifier run on its files."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import transaction

from accessgate.audit import signing
from accessgate.audit.actions import AuditAction
from accessgate.audit.chainer import chain_all
from accessgate.audit.context import RequestMeta
from accessgate.audit.exports import audit_export_request
from accessgate.audit.services import record
from accessgate.core.storage import get_storage

from .. import factories

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "verify_audit_export.py"


@pytest.fixture(name="trail")
def trail_fixture():
    """A varied trail: logins, downloads from two IPs, a non-ASCII label (import `trail_fixture`
    into a test module to use the `trail` fixture)."""
    users = [factories.UserFactory(email=f"user{i}@example.org") for i in range(3)]
    with transaction.atomic():
        for i in range(30):
            user = users[i % 3]
            record(
                actor=user,
                action=AuditAction.DOWNLOAD_URL_ISSUED if i % 2 else AuditAction.ACCOUNT_LOGGED_IN,
                target=user,
                meta=RequestMeta(ip="198.51.100.7" if i % 4 else "2001:db8::5", user_agent="Ümlaut-Agent/1.0"),
                model="acme/frontier-7b" if i % 2 else "",
                n=i,
            )
    chain_all()  # what the on-commit step does after a real commit
    return users


def export_files(export, tmp_path):
    """Fetch the file and manifest the way an auditor does; return their paths and the key."""
    export.refresh_from_db()
    storage = get_storage()
    data = storage.open(export.storage_key).read()
    file_path = tmp_path / export.file_name
    file_path.write_bytes(data)
    manifest_path = tmp_path / f"{export.file_name}.manifest.json"
    manifest_path.write_text(json.dumps({"manifest": export.manifest, "signature": export.signature}))
    key_path = tmp_path / "public-key.pem"
    key_path.write_text(signing.public_key_pem())
    return file_path, manifest_path, key_path


def run_script(*paths):
    file_path, manifest_path, key_path = paths
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(file_path), str(manifest_path), "--public-key", str(key_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.returncode, result.stdout


def make_export(auditor, filters=None, format="jsonl", capture=None):
    with capture(execute=True):
        return audit_export_request(actor=auditor, filters=filters or {}, format=format)
