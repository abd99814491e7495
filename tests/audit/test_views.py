import re

import pytest
from cryptography.hazmat.primitives import serialization
from django.db import transaction
from django.urls import reverse

from accessgate.audit import signing
from accessgate.audit.actions import AuditAction
from accessgate.audit.chainer import chain_all
from accessgate.audit.context import RequestMeta
from accessgate.audit.models import AuditEvent, VerificationRun
from accessgate.audit.services import record
from tests.support.audit import tamper

pytestmark = pytest.mark.django_db


@pytest.fixture
def many_events():
    with transaction.atomic():
        for i in range(120):
            record(
                actor=None,
                action=AuditAction.DOWNLOAD_URL_ISSUED if i % 3 == 0 else AuditAction.GRANT_EXPIRED,
                meta=RequestMeta(ip="192.0.2.1" if i < 60 else "192.0.2.2"),
                model="acme/alpha" if i % 2 else "acme/beta",
                n=i,
            )
    chain_all()  # what the on-commit step does after a real commit


def seqs(page):
    return [int(s) for s in re.findall(r'href="/audit/events/(\d+)/"', page)]


def test_keyset_pagination_newest_first(client, auditor, many_events):
    client.force_login(auditor)
    first = client.get(reverse("audit:trail")).content.decode()
    top = AuditEvent.objects.filter(seq__isnull=False).order_by("-seq").first().seq
    assert seqs(first) == list(range(top, top - 50, -1))
    assert f"before={top - 49}" in first and "after=" not in first
    second = client.get(reverse("audit:trail"), {"before": top - 49}).content.decode()
    assert seqs(second) == list(range(top - 50, top - 100, -1))
    back = client.get(reverse("audit:trail"), {"after": top - 50}).content.decode()
    assert seqs(back) == seqs(first)


def test_filters(client, auditor, many_events):
    client.force_login(auditor)
    page = client.get(reverse("audit:trail"), {"action": "download.", "ip": "192.0.2.2", "model": "acme/alpha"})
    found = seqs(page.content.decode())
    expected = AuditEvent.objects.filter(
        action="download.url_issued", ip="192.0.2.2", details__model="acme/alpha"
    ).values_list("seq", flat=True)
    assert found and sorted(found) == sorted(expected)
    bad = client.get(reverse("audit:trail"), {"ip": "nope", "since": "2026-13-01"})
    assert bad.status_code == 200 and "Enter a valid" in bad.content.decode()


def test_event_detail_shows_the_hashes(client, auditor, many_events):
    client.force_login(auditor)
    event = AuditEvent.objects.get(seq=5)
    page = client.get(reverse("audit:event", args=[5])).content.decode()
    assert event.hash in page and event.prev_hash in page and "&quot;seq&quot;:5" in page
    assert client.get(reverse("audit:event", args=[99999])).status_code == 404


@pytest.mark.parametrize("broken", [False, True])
def test_verify_now(client, auditor, many_events, broken, django_capture_on_commit_callbacks):
    if broken:
        tamper("UPDATE audit_auditevent SET actor_label = 'mallory' WHERE seq = 17")
    client.force_login(auditor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("audit:verify"))
    run = VerificationRun.objects.get()
    assert response["Location"] == reverse("audit:verification", args=[run.pk])
    page = client.get(response["Location"]).content.decode()
    assert run.ok is (not broken)
    if broken:
        assert "broken at #17" in page and reverse("audit:event", args=[17]) in page
    else:
        assert f"The chain is whole: {run.checked} events" in page and run.checked >= 120
    event = AuditEvent.objects.filter(action="audit.chain.verified").get()
    assert event.actor == auditor and event.details["ok"] is (not broken)


def test_public_key_is_public_and_matches_the_signatures(client):
    response = client.get(reverse("audit:public_key"))
    assert response.status_code == 200 and response["X-Key-Id"] == signing.key_id()
    key = serialization.load_pem_public_key(response.content)
    key.verify(__import__("base64").b64decode(signing.sign({"a": 1})), b'{"a":1}')


def test_the_page_lists_linked_events_and_counts_those_waiting(client, auditor, many_events):
    with transaction.atomic():
        waiting = record(actor=None, action=AuditAction.GRANT_EXPIRED)  # committed, chainer not run yet
    client.force_login(auditor)
    page = client.get(reverse("audit:trail")).content.decode()
    from accessgate.audit.chainer import pending_count

    count = pending_count()  # this one and the log-in's
    assert count >= 1 and f"{count} event{'s' if count > 1 else ''} not yet chained; the oldest is " in page
    assert seqs(page)[0] == AuditEvent.objects.filter(seq__isnull=False).order_by("-seq").first().seq
    chain_all()
    page = client.get(reverse("audit:trail")).content.decode()
    assert "not yet chained" not in page
    assert AuditEvent.objects.get(pk=waiting.pk).seq in seqs(page)
