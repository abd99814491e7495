"""Every refusal of every download surface is counted in the trail with its reason code: the
portal's resolve (GET and HEAD), the Hugging Face resolve (GET and HEAD), the manifest, the
REST API's manifest, the HF file listings and the local storage's /dl/ links. On PostgreSQL a
token's GET first meets the fast path, which hands every "no" to the explaining path."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accessgate.access import services as access_services
from accessgate.access.models import Grant
from accessgate.accounts.services import token_create
from accessgate.audit import refusals
from accessgate.audit.models import AuditEvent
from accessgate.downloads.models import DownloadCounter
from tests.support.applications import application
from tests.support.downloads import file_url

from .. import factories

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 29, 10, 0, 30, tzinfo=UTC)
PATH = "config.json"


@pytest.fixture
def backend(settings):
    settings.ACCESSGATE_STORAGE_BACKEND = "local"
    return "local"


@pytest.fixture
def clock(monkeypatch):
    class Clock:
        now = T0

    pinned = Clock()
    monkeypatch.setattr(refusals, "_clock", lambda: pinned.now)
    return pinned


def _applicant(release, reviewer):
    user = factories.UserFactory(profile__full_name="Grace Holder")
    request = access_services.access_request_submit(actor=user, **application(release.model, typed_name="Grace Holder"))
    access_services.access_request_approve(actor=reviewer, access_request=request)
    return user


def _grant(user, **fields):
    Grant.objects.filter(user=user).update(**fields)


def _no_grant(release, reviewer):
    return factories.UserFactory()


def _pending(release, reviewer):
    user = _applicant(release, reviewer)
    _grant(user, status="pending", waiting_for=["Identity verification"])
    return user


def _suspended_identity(release, reviewer):
    user = _applicant(release, reviewer)
    _grant(user, status="suspended", suspended_reason="identity_expired")
    return user


def _suspended_by_hand(release, reviewer):
    user = _applicant(release, reviewer)
    access_services.grant_suspend(actor=reviewer, grant=user.grants.get(), reason="Paused while we look into it.")
    return user


def _training_lapsed(release, reviewer):
    user = _applicant(release, reviewer)
    _grant(user, status="suspended", suspended_reason="training_expired")
    return user


def _ended(release, reviewer):
    user = _applicant(release, reviewer)
    _grant(user, status="ended", ended_at=timezone.now() - timedelta(days=1))
    return user


def _revoked(release, reviewer):
    user = _applicant(release, reviewer)
    access_services.grant_revoke(actor=reviewer, grant=user.grants.get(), reason="Paused.")
    return user


def _direct_unsigned(release, reviewer):
    user = factories.UserFactory()
    access_services.grant_create_direct(actor=reviewer, user=user, model=release.model)
    return user


REASONS = {
    "no_grant": _no_grant,
    "pending": _pending,
    "suspended": _suspended_identity,
    "suspended_by_hand": _suspended_by_hand,
    "training_expired": _training_lapsed,
    "ended": _ended,
    "revoked": _revoked,
    "not_signed": _direct_unsigned,
}


def _hf(release, path=PATH):
    return reverse("hf_resolve:resolve", args=[release.model.namespace, release.model.name, release.version, path])


def _manifest(release):
    return reverse("downloads:manifest", args=[release.model.namespace, release.model.name, release.version])


# (method, url, what the event targets, details the surface adds)
SURFACES = {
    "portal_get": ("get", lambda r: file_url(r, PATH), "file", {"path": PATH}),
    "portal_head": ("head", lambda r: file_url(r, PATH), "file", {"path": PATH, "method": "HEAD"}),
    "hf_get": ("get", _hf, "file", {"path": PATH}),
    "hf_head": ("head", _hf, "file", {"path": PATH, "method": "HEAD"}),
    "manifest": ("get", _manifest, "release", {"format": "json"}),
}


def _events():
    return list(AuditEvent.objects.filter(action="download.refused").order_by("id"))


def _flushed(clock):
    clock.now += timedelta(minutes=2)
    refusals.refusals_flush()
    return _events()


def assert_refused_and_counted(release, reviewer, clock, reason, surface):
    user = REASONS[reason](release, reviewer)
    token, secret = token_create(actor=user, name="script")
    method, url, targets, extra = SURFACES[surface]
    api = Client()
    answers = [getattr(api, method)(url(release), HTTP_AUTHORIZATION=f"Bearer {secret}") for _ in range(2)]
    assert [a.status_code for a in answers] == [403, 403]
    assert "Location" not in answers[0]  # no URL issued
    assert not DownloadCounter.objects.exists()  # no quota spent
    [event] = _flushed(clock)
    target = release.files.get(path=PATH) if targets == "file" else release
    assert (event.action, event.actor_id) == ("download.refused", user.pk)
    assert (event.target_type, event.target_id) == (target._meta.label_lower, str(target.pk))
    assert event.details["reason"] == reason and event.details["count"] == 2
    assert event.details["via"] == "token" and event.details["token_prefix"] == token.prefix
    assert extra.items() <= event.details.items()
    assert not AuditEvent.objects.filter(action__in=["download.url_issued", "download.manifest_issued"]).exists()


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("reason", REASONS)
def test_every_refusal_is_counted_with_its_reason(release, reviewer, clock, reason, surface):
    assert_refused_and_counted(release, reviewer, clock, reason, surface)


@pytest.mark.parametrize("surface", ["portal_get", "hf_get", "manifest"])
@pytest.mark.parametrize("reason", REASONS)
def test_fast_path_hands_every_refusal_to_the_explaining_path(postgres, release, reviewer, clock, reason, surface):
    assert_refused_and_counted(release, reviewer, clock, reason, surface)


def test_rest_api_manifest_refusals_are_counted(release, reviewer, clock):
    user = _pending(release, reviewer)
    _token, secret = token_create(actor=user, name="script")
    url = reverse("api_v1:manifest", args=[release.model.namespace, release.model.name, release.version])
    assert Client().get(url, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 403
    [event] = _flushed(clock)
    assert (event.target_type, event.details["reason"]) == ("catalog.release", "pending")


def test_rest_api_token_limited_to_other_models_is_counted(release, reviewer, clock):
    user = _applicant(release, reviewer)
    other = factories.ModelFactory()
    _token, secret = token_create(actor=user, name="script", models=[other])
    url = reverse("api_v1:manifest", args=[release.model.namespace, release.model.name, release.version])
    assert Client().get(url, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 403
    [event] = _flushed(clock)
    assert event.details["reason"] == "token_model"


@pytest.mark.parametrize("route", ["hf:model_info", "hf:tree"])
def test_hf_listings_count_their_refusals(release, reviewer, clock, route):
    user = _suspended_by_hand(release, reviewer)
    _token, secret = token_create(actor=user, name="script")
    args = [release.model.namespace, release.model.name] + ([release.version] if route == "hf:tree" else [])
    response = Client().get(reverse(route, args=args), HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 403
    [event] = _flushed(clock)
    assert (event.target_type, event.details["reason"]) == ("catalog.release", "suspended_by_hand")
    assert event.details["surface"] == "hf" and event.details["method"] == "GET"


def test_a_download_page_refusal_is_counted(client, release, reviewer, clock):
    user = _ended(release, reviewer)
    client.force_login(user)
    url = reverse("downloads:sha256sums", args=[release.model.namespace, release.model.name, release.version])
    assert client.get(url).status_code == 403
    [event] = _flushed(clock)
    assert (event.details["reason"], event.details["page"], event.details["via"]) == ("ended", "sha256sums", "session")


@pytest.mark.parametrize(("link", "reason"), [("not-a-token", "link_invalid")])
def test_local_links_count_their_refusals(client, release, clock, link, reason):
    response = client.get(reverse("downloads:local_file", args=[link, PATH]))
    assert response.status_code == 403
    [event] = _flushed(clock)
    assert (event.actor_id, event.details["reason"], event.details["caller"]) == (None, reason, "ip:127.0.0.1")
    assert event.details["filename"] == PATH and event.details["via"] == "link"


def test_an_expired_local_link_is_counted(client, release, reviewer, clock):
    user = _applicant(release, reviewer)
    client.force_login(user)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        location = client.get(file_url(release, PATH))["Location"]
        traveller.shift(timedelta(hours=2))
        assert client.get(location).status_code == 403
    [event] = _flushed(clock)
    assert (event.details["reason"], event.details["via"]) == ("link_expired", "link")
