"""The audit trail answers "everything about a person" and "everything about this request,
grant or model", and links each event to its target."""

import re

import pytest
from django.urls import reverse

from accessgate.access import services
from accessgate.audit.chainer import chain_all
from accessgate.audit.models import AuditEvent
from accessgate.core.errors import DomainError
from tests.support.applications import application

pytestmark = pytest.mark.django_db


def seqs(page):
    return sorted(int(s) for s in re.findall(r'href="/audit/events/(\d+)/"', page))


@pytest.fixture
def decided(researcher, other_researcher, reviewer, model):
    """The researcher applies, the reviewer approves and later revokes; another researcher applies too."""
    mine = services.access_request_submit(actor=researcher, **application(model))
    grant = services.access_request_approve(actor=reviewer, access_request=mine)
    services.grant_revoke(actor=reviewer, grant=grant, reason="Project ended.")
    try:
        theirs = services.access_request_submit(
            actor=other_researcher, **application(model, typed_name=other_researcher.profile.full_name)
        )
    except DomainError:  # the other researcher's profile may not be complete in this factory
        theirs = None
    chain_all()  # the trail lists linked events: the on-commit step, had the test committed
    return mine, grant, theirs


def test_person_filter_finds_what_others_did_to_their_request_and_grant(client, auditor, researcher, decided):
    mine, grant, theirs = decided
    client.force_login(auditor)
    page = client.get(reverse("audit:trail"), {"person": researcher.email}).content.decode()
    about = (
        AuditEvent.objects.filter(actor_id=researcher.pk)
        | AuditEvent.objects.filter(target_type="access.accessrequest", target_id=str(mine.pk))
        | AuditEvent.objects.filter(target_type="access.grant", target_id=str(grant.pk))
        | AuditEvent.objects.filter(
            target_type="access.agreement", target_id__in=[str(a.pk) for a in mine.agreements.all()]
        )
        | AuditEvent.objects.filter(target_type="accounts.user", target_id=str(researcher.pk))
    )
    expected = sorted(about.values_list("seq", flat=True))
    assert seqs(page) == expected
    # The reviewer's approval and revocation are in it, though the reviewer acted.
    actions = set(AuditEvent.objects.filter(seq__in=expected).values_list("action", flat=True))
    assert {"access.request.approved", "grant.created", "grant.revoked"} <= actions
    if theirs is not None:
        other = AuditEvent.objects.filter(target_type="access.accessrequest", target_id=str(theirs.pk))
        assert not set(other.values_list("seq", flat=True)) & set(expected)


def test_person_filter_for_an_unknown_address_matches_the_actor_label_only(client, auditor, decided):
    client.force_login(auditor)
    page = client.get(reverse("audit:trail"), {"person": "gone@example.org"}).content.decode()
    assert seqs(page) == [] and "No events match." in page


def test_target_filter_and_links(client, auditor, decided):
    mine, grant, _ = decided
    client.force_login(auditor)
    page = client.get(reverse("audit:trail"), {"target": f"access.grant:{grant.pk}"}).content.decode()
    expected = AuditEvent.objects.filter(target_type="access.grant", target_id=str(grant.pk))
    assert seqs(page) == sorted(expected.values_list("seq", flat=True)) and expected.count() >= 2
    # Each event links to every event about its target.
    assert f'href="?target=access.grant:{grant.pk}"' in page
    bad = client.get(reverse("audit:trail"), {"target": "no spaces allowed"}).content.decode()
    assert "Write the target as type:id" in bad
    # The event page links to the target's own page and to its trail.
    event = AuditEvent.objects.filter(target_type="access.accessrequest", target_id=str(mine.pk)).first()
    detail = client.get(reverse("audit:event", args=[event.seq])).content.decode()
    assert reverse("review:detail", args=[mine.pk]) in detail
    assert f"?target=access.accessrequest:{mine.pk}" in detail


def test_review_pages_link_auditors_to_the_trail(client, admin_user, reviewer, decided):
    mine, grant, _ = decided
    # An admin is a reviewer and an auditor: the links show.
    client.force_login(admin_user)
    detail = client.get(reverse("review:detail", args=[mine.pk])).content.decode()
    assert f"?target=access.accessrequest:{mine.pk}" in detail and "?person=" in detail
    # A reviewer who is not an auditor does not get links to pages they cannot open.
    client.force_login(reviewer)
    detail = client.get(reverse("review:detail", args=[mine.pk])).content.decode()
    assert "/audit/" not in detail


def test_export_records_the_resolved_person_filter(
    client, auditor, researcher, decided, django_capture_on_commit_callbacks
):
    client.force_login(auditor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("audit:exports"), {"person": researcher.email, "format": "jsonl"})
    assert response.status_code == 302
    from accessgate.audit.models import AuditExport

    export = AuditExport.objects.get()
    assert export.filters["person"] == researcher.email and export.filters["person_id"] == researcher.pk
    assert not export.is_full
