"""Signed receipts: a researcher's agreement and a reviewer's decision, verifiable offline."""

import json
import subprocess
import sys

import pytest
from django.urls import reverse

from accessgate.access import services
from accessgate.audit import signing
from accessgate.audit.models import AuditEvent, Checkpoint
from tests.support.applications import application
from tests.support.audit import rewrite_history, run_verify
from tests.support.exports import SCRIPT

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(researcher, model):
    return services.access_request_submit(actor=researcher, **application(model))


def download(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.content
    assert response["Content-Disposition"].startswith('attachment; filename="audit-receipt-')
    assert response["Cache-Control"] == "private, no-store"
    return response.json()


def script(tmp_path, *paths):
    key = tmp_path / "public-key.pem"
    key.write_text(signing.public_key_pem())
    args = [arg for path in paths for arg in ("--receipt", str(path))]
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *args, "--public-key", str(key)], capture_output=True, text=True, timeout=60
    )
    return result.returncode, result.stdout


def test_researcher_receipt_covers_the_agreement(client, researcher, submitted, events, tmp_path):
    client.force_login(researcher)
    document = download(client, reverse("access:request_receipt", args=[submitted.pk]))
    receipt = document["receipt"]
    agreement = submitted.agreements.get()
    event = AuditEvent.objects.get(action="access.request.submitted")
    assert receipt["event"]["seq"] == event.seq and receipt["hash"] == event.hash
    assert receipt["event"]["details"]["agreement_id"] == agreement.pk
    assert receipt["event"]["details"]["license_sha256"] == agreement.license_sha256
    assert signing.verify(receipt, document["signature"])
    # No checkpoint covered the event yet: one was signed on demand, and audited.
    checkpoint = Checkpoint.objects.get()
    assert receipt["checkpoint"] == checkpoint.signed and checkpoint.reason == "receipt"
    assert events()[-1] == "audit.checkpoint.created"
    # A second download reuses the covering checkpoint.
    again = download(client, reverse("access:request_receipt", args=[submitted.pk]))
    assert again["receipt"]["checkpoint"] == checkpoint.signed and Checkpoint.objects.count() == 1
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(document))
    code, output = script(tmp_path, path)
    assert code == 0, output
    assert f"OK: receipt {path}: event #{event.seq} (access.request.submitted), signature and hash valid" in output
    code, output = run_verify("--receipt", str(path))
    assert code == 0 and f"Receipt {path} holds." in output


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["receipt"]["event"]["details"].update(license_sha256="0" * 64),
        lambda d: d["receipt"].update(hash="f" * 64),
        lambda d: d["receipt"]["checkpoint"]["checkpoint"].update(seq=1),
        lambda d: d.update(signature=d["signature"][:-4] + "AAA="),
    ],
)
def test_tampered_receipt_fails(client, researcher, submitted, tmp_path, change):
    client.force_login(researcher)
    document = download(client, reverse("access:request_receipt", args=[submitted.pk]))
    change(document)
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(document))
    code, output = script(tmp_path, path)
    assert code == 1 and output.startswith(f"FAILED: receipt {path}"), output
    code, output = run_verify("--receipt", str(path))
    assert code == 1 and f"FAILED receipt {path}" in output


def test_receipt_exposes_an_event_rewritten_later(client, researcher, submitted, tmp_path):
    client.force_login(researcher)
    document = download(client, reverse("access:request_receipt", args=[submitted.pk]))
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(document))
    seq = document["receipt"]["event"]["seq"]
    # The database owner rewrites the agreement's event and every hash after it.
    rewrite_history(seq, actor_label="someone-else@example.org")
    code, output = run_verify("--no-stored-checkpoints", "--receipt", str(path))
    assert "The chain is whole" in output
    assert code == 1
    assert f"FAILED receipt {path}: event #{seq} was changed after this receipt was issued" in output
    assert f"FAILED checkpoint {path}#checkpoint" in output and "does not match" in output


def test_reviewer_receipt_of_a_decision(client, reviewer, submitted, tmp_path):
    url = reverse("review:decision_receipt", args=[submitted.pk])
    client.force_login(reviewer)
    assert client.get(url).status_code == 404  # not decided yet
    services.access_request_approve(actor=reviewer, access_request=submitted)
    page = client.get(reverse("review:detail", args=[submitted.pk])).content.decode()
    assert url in page
    document = download(client, url)
    event = AuditEvent.objects.get(action="access.request.approved")
    assert document["receipt"]["event"]["seq"] == event.seq
    assert document["receipt"]["event"]["actor_id"] == reviewer.pk
    path = tmp_path / "decision.json"
    path.write_text(json.dumps(document))
    assert script(tmp_path, path)[0] == 0


def test_receipt_links_on_the_pages(client, researcher, submitted):
    client.force_login(researcher)
    url = reverse("access:request_receipt", args=[submitted.pk])
    assert url in client.get(reverse("access:request_detail", args=[submitted.pk])).content.decode()
