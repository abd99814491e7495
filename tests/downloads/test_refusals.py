"""Refused issuances and rejected tokens are audited, one event per caller, target, reason
and minute, carrying the count."""

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import DatabaseError, connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accessgate.access import services as access_services
from accessgate.access.models import AccessPolicy, Grant
from accessgate.accounts.models import ApiToken
from accessgate.accounts.services import token_create, token_revoke
from accessgate.audit import refusals, tasks
from accessgate.audit.models import AuditEvent, RefusalTally
from tests.support.applications import application, make_policy
from tests.support.downloads import file_url

from .. import factories

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 29, 10, 0, 30, tzinfo=UTC)


@pytest.fixture
def backend(settings):
    settings.ACCESSGATE_STORAGE_BACKEND = "local"
    return "local"


@pytest.fixture
def holder(release, reviewer):
    user = factories.UserFactory(profile__full_name="Grace Holder")
    request = access_services.access_request_submit(actor=user, **application(release.model, typed_name="Grace Holder"))
    access_services.access_request_approve(actor=reviewer, access_request=request)
    return user


@pytest.fixture
def clock(monkeypatch):
    """The refusal clock, pinned; `clock.move(seconds)` advances it."""

    class Clock:
        now = T0

        def move(self, seconds):
            self.now += timedelta(seconds=seconds)

    pinned = Clock()
    monkeypatch.setattr(refusals, "_clock", lambda: pinned.now)
    return pinned


def refused_events():
    return list(AuditEvent.objects.filter(action="download.refused").order_by("id"))


def flush_later(clock):
    clock.move(120)
    return refusals.refusals_flush()


def _revoke(release, holder, reviewer, **_):
    access_services.grant_revoke(actor=reviewer, grant=holder.grants.get(), reason="Paused.")


def _expire(release, holder, **_):
    past = timezone.now() - timedelta(days=2)
    Grant.objects.filter(user=holder).update(granted_at=past, expires_at=past + timedelta(days=1))


def _suspend(release, holder, **_):
    Grant.objects.filter(user=holder).update(status="suspended")


def _new_licence(release, licence, **_):
    from accessgate.catalog.services import license_publish

    make_policy(
        release.model,
        license_publish(actor=None, name=licence.name, version="2.0", text="New terms."),
        url_ttl_seconds=300,
    )


def _policy(**changes):
    return lambda release, **_: AccessPolicy.objects.filter(model=release.model).update(**changes)


def _block_country(release, holder, **_):
    holder.profile.country = "FR"
    holder.profile.save()
    AccessPolicy.objects.filter(model=release.model).update(blocked_countries=["FR"])


def _rate(release, settings, **_):
    settings.ACCESSGATE_DOWNLOAD_RATE_LIMIT = "1/3600"


def _quota(release, holder, **_):
    from accessgate.downloads.models import DownloadCounter

    AccessPolicy.objects.filter(model=release.model).update(max_downloads_per_file=1)
    # The one allowed download was counted, and its URL has expired.
    DownloadCounter.objects.create(
        grant=holder.grants.get(),
        weight_file=release.files.get(path="config.json"),
        issued=1,
        counted_until=timezone.now() - timedelta(seconds=1),
    )


@pytest.mark.parametrize(
    ("reason", "make_it_so", "status"),
    [
        ("revoked", _revoke, 403),
        ("expired", _expire, 403),
        ("suspended", _suspend, 403),
        ("licence_not_accepted", _new_licence, 403),
        ("mfa_required", _policy(require_mfa=True), 403),
        ("identity_required", _policy(require_identity=True), 403),
        ("country_blocked", _block_country, 403),
        ("rate_limited", _rate, 429),
        ("quota", _quota, 429),
    ],
)
def test_each_refusal_reason_becomes_one_counted_event(
    client, release, holder, reviewer, licence, settings, clock, reason, make_it_so, status
):
    make_it_so(release=release, holder=holder, reviewer=reviewer, licence=licence, settings=settings)
    client.force_login(holder)
    url = file_url(release, "config.json")
    if reason == "rate_limited":
        assert client.get(url, HTTP_USER_AGENT="curl/8").status_code == 302  # the one allowed
    answers = [client.get(url, HTTP_USER_AGENT="curl/8").status_code for _ in range(3)]
    assert answers == [status] * 3
    assert refused_events() == []  # the minute is still open
    assert flush_later(clock) == 1
    [event] = refused_events()
    weight_file = release.files.get(path="config.json")
    assert (event.actor_id, event.target_type, event.target_id) == (
        holder.pk,
        "catalog.weightfile",
        str(weight_file.pk),
    )
    assert event.user_agent == "curl/8" and event.ip == "127.0.0.1"
    assert event.details == {
        "reason": reason,
        "count": 3,
        "window_start": "2026-11-29T10:00:00+00:00",
        "first_at": T0.isoformat(),
        "last_at": T0.isoformat(),
        "caller": f"user:{holder.pk}",
        "model": release.model.full_name,
        "version": release.version,
        "via": "session",
        "token_prefix": "",
        "path": "config.json",
    }
    assert not AuditEvent.objects.filter(action="download.url_issued", id__gt=event.pk).exists()


def test_no_grant_on_a_manifest_by_token(release, clock):
    stranger = factories.UserFactory()
    token, secret = token_create(actor=stranger, name="script")
    api = Client()
    url = reverse("downloads:manifest", args=[release.model.namespace, release.model.name, release.version])
    assert api.get(url, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 403
    flush_later(clock)
    [event] = refused_events()
    assert (event.actor_id, event.target_type, event.target_id) == (stranger.pk, "catalog.release", str(release.pk))
    assert event.details["reason"] == "no_grant" and event.details["via"] == "token"
    assert event.details["token_prefix"] == token.prefix and event.details["format"] == "json"


def test_aggregation_per_caller_target_reason_and_minute(client, release, clock):
    stranger, other = factories.UserFactory(), factories.UserFactory()
    config, vocab = file_url(release, "config.json"), file_url(release, "tokenizer/vocab.json")
    client.force_login(stranger)
    for _ in range(5):
        client.get(config)
    client.get(vocab)  # another target
    clock.move(30)  # 10:01:00, the next minute
    client.get(config)
    client.force_login(other)  # another caller
    client.get(config)
    assert RefusalTally.objects.count() == 4
    assert flush_later(clock) == 4
    counts = [
        (e.actor_id, e.details["path"], e.details["window_start"][11:16], e.details["count"]) for e in refused_events()
    ]
    assert counts == [
        (stranger.pk, "config.json", "10:00", 5),
        (stranger.pk, "tokenizer/vocab.json", "10:00", 1),
        (stranger.pk, "config.json", "10:01", 1),
        (other.pk, "config.json", "10:01", 1),
    ]
    assert refusals.refusals_flush() == 0  # each window is recorded once
    assert tasks.flush_refusals() == "recorded 0 refusal windows"


def test_a_later_refusal_records_closed_windows_and_late_counts_move_on(client, release, clock):
    stranger = factories.UserFactory()
    client.force_login(stranger)
    url = file_url(release, "config.json")
    client.get(url)
    clock.move(90)  # 10:02:00: the 10:00 window has been closed a whole minute
    client.get(url)
    [event] = refused_events()
    assert event.details["window_start"] == "2026-11-29T10:00:00+00:00" and event.details["count"] == 1
    # A slow request still counting in the recorded 10:00 window lands in the next one.
    clock.now = T0
    client.get(url)
    tally = RefusalTally.objects.get(window_start=T0.replace(second=0) + timedelta(minutes=1))
    assert tally.count == 1 and tally.recorded_seq is None


def test_counting_failure_still_refuses(client, release, clock, monkeypatch):
    def broken(*args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(RefusalTally.objects, "get_or_create", broken)
    client.force_login(factories.UserFactory())
    assert client.get(file_url(release, "config.json")).status_code == 403  # fails closed
    assert not RefusalTally.objects.exists()


# --- tokens --------------------------------------------------------------------------------


def rejected_events():
    return list(AuditEvent.objects.filter(action="account.token.rejected").order_by("id"))


def test_rejected_tokens_are_audited_without_their_secret(release, holder, clock):
    api = Client()
    url = file_url(release, "config.json")
    revoked, revoked_secret = token_create(actor=holder, name="old")
    token_revoke(actor=holder, token=revoked)
    expired, expired_secret = token_create(actor=holder, name="expired")
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    for header in ["Basic abc", "Bearer agt_wrong", "Bearer agt_wrong2", "Bearer nope"]:
        assert api.get(url, HTTP_AUTHORIZATION=header, REMOTE_ADDR="203.0.113.5").status_code == 401
    assert api.get(url, HTTP_AUTHORIZATION=f"Bearer {revoked_secret}").status_code == 401
    assert api.get(url, HTTP_AUTHORIZATION=f"Bearer {expired_secret}").status_code == 401
    flush_later(clock)
    events = rejected_events()
    summary = [(e.details["reason"], e.actor_id, e.target_id, e.details["count"], e.ip) for e in events]
    assert summary == [
        ("bad_token", None, "", 4, "203.0.113.5"),  # unknown tokens: keyed by IP, one event
        ("revoked_token", holder.pk, str(revoked.pk), 1, "127.0.0.1"),
        ("expired_token", holder.pk, str(expired.pk), 1, "127.0.0.1"),
    ]
    assert events[0].details["caller"] == "ip:203.0.113.5" and events[0].details["token_prefix"] == ""
    assert events[0].details["scheme"] == "Basic"  # the first refusal's details are kept
    text = json.dumps([e.details for e in events]) + "".join(e.target_label for e in events)
    for secret in ("agt_wrong", revoked_secret, expired_secret):
        assert secret not in text


def test_inactive_owner_token(release, holder, clock):
    token, secret = token_create(actor=holder, name="laptop")
    holder.is_active = False
    holder.save()
    assert Client().get(file_url(release, "config.json"), HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401
    flush_later(clock)
    [event] = rejected_events()
    assert event.details["reason"] == "inactive_user" and event.actor_id == holder.pk


# --- the auditor's view -------------------------------------------------------------------


def test_auditor_filters_refusals_by_action_and_reason(client, release, holder, auditor, clock):
    stranger = factories.UserFactory()
    client.force_login(stranger)
    client.get(file_url(release, "config.json"))
    Client().get(file_url(release, "config.json"), HTTP_AUTHORIZATION="Bearer agt_nope")
    flush_later(clock)
    from accessgate.audit.chainer import chain_all

    chain_all()  # the trail lists linked events: the on-commit step, had the test committed
    client.force_login(auditor)
    page = client.get(reverse("audit:trail"), {"action": "download.refused", "reason": "no_grant"})
    rows = page.context["events"]
    assert [e.action for e in rows] == ["download.refused"]
    page = client.get(reverse("audit:trail"), {"reason": "bad_token"})
    assert [e.action for e in page.context["events"]] == ["account.token.rejected"]
    assert client.get(reverse("audit:trail"), {"reason": "quota"}).context["events"] == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_refusals_count_exactly(postgres, clock):
    """8 threads refusing the same caller and target in one minute: one row, exact count."""
    user = factories.UserFactory()
    errors = []

    def worker():
        try:
            for _ in range(10):
                refusals.refusal_note(action="download.refused", reason="no_grant", actor=user, path="x")
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    [tally] = RefusalTally.objects.all()
    assert tally.count == 80
    assert flush_later(clock) == 1
    [event] = refused_events()
    assert event.details["count"] == 80


def test_recorded_counters_are_pruned_after_a_day(client, release, clock):
    client.force_login(factories.UserFactory())
    client.get(file_url(release, "config.json"))
    assert flush_later(clock) == 1
    assert RefusalTally.objects.get().recorded_seq is not None
    clock.move(23 * 3600)
    refusals.refusals_flush()
    assert RefusalTally.objects.count() == 1  # kept a day
    clock.move(3600)
    refusals.refusals_flush()
    assert not RefusalTally.objects.exists()
    assert len(refused_events()) == 1  # the event stays


def test_token_without_the_download_scope_is_a_counted_refusal(release, holder, clock):
    token, secret = token_create(actor=holder, name="apply only", scopes=["apply"])
    assert Client().get(file_url(release, "config.json"), HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 403
    flush_later(clock)
    [event] = refused_events()
    assert event.details["reason"] == "token_scope" and event.details["token_prefix"] == token.prefix
