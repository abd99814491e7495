"""The resolve fast path (one prepared statement) and the explaining path (`download_check`)
agree: for every case the fast path either answers the same "yes" or defers, never says yes
where the explaining path refuses. And its event is the one `record()` writes.
"""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accessgate.access.models import AccessPolicy, AccessRequest, Grant, GrantStatus, RequestKind
from accessgate.access.rules.downloads import download_check
from accessgate.accounts.auth import require_scope
from accessgate.accounts.models import ApiToken, TokenScope
from accessgate.accounts.services import token_create
from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.models import AuditEvent
from accessgate.audit.signals import event_recorded, heard
from accessgate.catalog.models import LicenseVersion, Model, ModelStatus, Release
from accessgate.core import ratelimit
from accessgate.core.errors import DomainError
from accessgate.downloads import fast, resolve
from accessgate.training.models import RecordStatus, Training, TrainingKind, TrainingRecord
from tests.support.applications import make_policy
from tests.support.identity import verify

from .. import factories

pytestmark = pytest.mark.django_db
PATH = "config.json"
META = RequestMeta(ip="10.0.0.1", user_agent="fast-path-test")


@pytest.fixture
def holder(postgres, licence):
    """A researcher with an active grant on a plain model and a download token."""
    model = factories.ModelFactory()
    make_policy(model, licence)
    factories.make_release(model)
    user = factories.UserFactory(profile__full_name="Fast Holder")
    grant = factories.GrantFactory(user=user, model=model)
    token, secret = token_create(actor=user, name="script", days=5)
    return {"user": user, "model": model, "grant": grant, "token": token, "secret": secret, "licence": licence}


def _explained(h) -> bool:
    """The explaining path's answer for the same token and file: everything the full resolve
    checks before it issues (token, scope, visibility, grant, licence, requirements, quota)."""
    token = ApiToken.objects.active().filter(pk=h["token"].pk).select_related("user").first()
    model = Model.objects.get(pk=h["model"].pk)
    release = Release.objects.get(model=model, version="1.0")
    if token is None or model.status != ModelStatus.PUBLISHED:
        return False
    try:
        require_scope(token, TokenScope.DOWNLOAD, model)
        grant = download_check(token.user, release, mfa_verified=token.created_with_mfa)
    except DomainError:
        return False
    cap = grant.model.policy.max_downloads_per_file
    counter = grant.download_counters.filter(weight_file__path=PATH).first()
    issued = counter.issued if counter is not None else 0
    return cap is None or issued < cap or (counter is not None and counter.counted_until > timezone.now())


def _fast(h, ref="1.0", **kwargs):
    model = h["model"]
    return fast.download_url_fast(
        secret=h["secret"], namespace=model.namespace, name=model.name, ref=ref, path=PATH, meta=META, **kwargs
    )


def _policy(h, **fields):
    AccessPolicy.objects.filter(model=h["model"]).update(**fields)


def _grant(h, **fields):
    Grant.objects.filter(pk=h["grant"].pk).update(**fields)


def _past(days=1):
    return timezone.now() - timedelta(days=days)


def _new_licence(h):
    new = LicenseVersion.objects.create(name=h["licence"].name, version="2.0", text="New terms.")
    _policy(h, license=new)


def _renewal_in_grace(h):
    _grant(h, granted_at=_past(40), expires_at=_past(1))
    AccessRequest.objects.create(
        user=h["user"], model=h["model"], intended_use="Still studying it.", kind=RequestKind.RENEWAL,
        renews=h["grant"], renewal_grace_until=timezone.now() + timedelta(days=3),
    )  # fmt: skip


def _token(h, **kwargs):
    h["token"], h["secret"] = token_create(actor=h["user"], name="other", days=5, **kwargs)


def _mfa_token(h):
    factories.add_totp(h["user"])
    _token(h, mfa_passed=True)


def _at_cap(h):
    _policy(h, max_downloads_per_file=1)
    weight_file = h["model"].releases.get().files.get(path=PATH)
    h["grant"].download_counters.create(weight_file=weight_file, issued=1, counted_until=_past())


def _expired_verification(h):
    verify(h["user"]).__class__.objects.filter(user=h["user"]).update(expires_at=_past())


def _training(h, *, passed, expires=None):
    training = Training.objects.create(name="Safety basics", kind=TrainingKind.QUIZ)
    policy = AccessPolicy.objects.get(model=h["model"])
    policy.required_trainings.add(training)
    _policy(h, require_training=True)
    if passed:
        TrainingRecord.objects.create(
            user=h["user"], training=training, status=RecordStatus.PASSED,
            expires_at=expires or timezone.now() + timedelta(days=30),
        )  # fmt: skip


CASES = {
    # name: (arrange, the fast path answers)
    "active grant": (lambda h: None, True),
    "renewal in its grace period": (_renewal_in_grace, True),
    "MFA required, token from an MFA session": (lambda h: (_policy(h, require_mfa=True), _mfa_token(h)), True),
    "quota left": (lambda h: _policy(h, max_downloads_per_file=3), True),
    "expired grant": (lambda h: _grant(h, granted_at=_past(40), expires_at=_past(1)), False),
    "grant marked expired": (lambda h: _grant(h, status=GrantStatus.EXPIRED), False),
    "revoked grant": (lambda h: _grant(h, status=GrantStatus.REVOKED, ended_at=timezone.now()), False),
    "suspended grant": (lambda h: _grant(h, status=GrantStatus.SUSPENDED, suspended_reason="identity"), False),
    "pending grant": (lambda h: _grant(h, status=GrantStatus.PENDING), False),
    "licence not re-signed": (_new_licence, False),
    "withdrawn release": (lambda h: Release.objects.filter(model=h["model"]).update(is_active=False), False),
    "inactive user": (lambda h: type(h["user"]).objects.filter(pk=h["user"].pk).update(is_active=False), False),
    "token limited to another model": (lambda h: _token(h, models=[factories.ModelFactory()]), False),
    "token without the download scope": (lambda h: _token(h, scopes=["apply"]), False),
    "expired token": (lambda h: ApiToken.objects.filter(pk=h["token"].pk).update(expires_at=_past()), False),
    "revoked token": (lambda h: ApiToken.objects.filter(pk=h["token"].pk).update(revoked_at=timezone.now()), False),
    "MFA required, token without": (lambda h: _policy(h, require_mfa=True), False),
    "MFA required, no second factor left": (
        lambda h: (_policy(h, require_mfa=True), _token(h, mfa_passed=True)),
        False,
    ),
    "quota at its limit": (_at_cap, False),
    "a cap of zero downloads": (lambda h: _policy(h, max_downloads_per_file=0), False),
    "draft model": (lambda h: Model.objects.filter(pk=h["model"].pk).update(status=ModelStatus.DRAFT), False),
    "no grant at all": (lambda h: Grant.objects.filter(pk=h["grant"].pk).delete(), False),
    "a grant on another model only": (lambda h: _grant(h, model=factories.ModelFactory()), False),
    "identity required and verified": (lambda h: (_policy(h, require_identity=True), verify(h["user"])), True),
    "identity required, none": (lambda h: _policy(h, require_identity=True), False),
    "identity required, expired": (lambda h: (_policy(h, require_identity=True), _expired_verification(h)), False),
    "blocked countries, not the holder's": (lambda h: (_policy(h, blocked_countries=["KP"]), verify(h["user"])), True),
    "blocked country on the profile": (lambda h: _policy(h, blocked_countries=["nl"]), False),
    "blocked country of the document": (
        lambda h: (_policy(h, blocked_countries=["KP"]), verify(h["user"], country="KP")),
        False,
    ),
    "training required and valid": (lambda h: _training(h, passed=True), True),
    "training required, missing": (lambda h: _training(h, passed=False), False),
    "training required, expired": (lambda h: _training(h, passed=True, expires=_past()), False),
}


@pytest.mark.parametrize("case", list(CASES))
def test_fast_path_answers_yes_only_where_the_explaining_path_does(holder, case):
    arrange, answers = CASES[case]
    arrange(holder)
    explained = _explained(holder)
    result = _fast(holder)
    if result is not None:
        assert explained, f"{case}: the fast path allowed what download_check refuses"
    assert (result is not None) is answers, case
    if answers:
        assert explained, case


def test_main_and_revision_address_the_same_release(holder):
    release = holder["model"].releases.get()
    assert _fast(holder, ref="main", main=True)[1].release.pk == release.pk
    assert _fast(holder, ref=release.revision)[1].release.pk == release.pk
    assert _fast(holder, ref="no-such-version") is None


def test_a_path_matches_only_as_stored(holder):
    model = holder["model"]
    for path in ["CONFIG.json", "./config.json", "config.json/", "a/../config.json", "config.json\n", "ｃonfig.json"]:
        assert fast.download_url_fast(
            secret=holder["secret"], namespace=model.namespace, name=model.name, ref="1.0", path=path, meta=META
        ) is None, path  # fmt: skip
    assert _fast(holder, ref="1.0\n") is None and _fast(holder, ref="1.0 ") is None


def _through_view(client, h, monkeypatch, *, fast_path: bool):
    if not fast_path:
        monkeypatch.setattr(resolve, "download_url_fast", lambda **kwargs: None)
    model = h["model"]
    url = reverse("downloads:resolve", args=[model.namespace, model.name, "1.0", PATH])
    response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {h['secret']}", HTTP_USER_AGENT="agent/1")
    assert response.status_code == 302, response.content[-300:]
    return AuditEvent.objects.order_by("-id").first(), response


@pytest.mark.parametrize("cap", [None, 5])
def test_the_fast_path_writes_the_event_record_writes(holder, monkeypatch, cap):
    _policy(holder, max_downloads_per_file=cap)
    client = Client()
    slow, slow_response = _through_view(client, holder, monkeypatch, fast_path=False)
    monkeypatch.undo()
    quick, quick_response = _through_view(client, holder, monkeypatch, fast_path=True)
    assert quick.pk > slow.pk
    fields = ["actor_id", "actor_label", "action", "target_type", "target_id", "target_label", "ip", "user_agent"]
    assert [getattr(quick, f) for f in fields] == [getattr(slow, f) for f in fields]
    assert quick.seq is None and quick.hash is None  # for the chainer, as record() leaves them
    assert quick_response.get("X-Downloads-Remaining") == slow_response.get("X-Downloads-Remaining")
    # The second URL within the first one's lifetime is free (counted only without a cap: 0).
    assert (slow.details.pop("quota_counted"), quick.details.pop("quota_counted")) == ((1, 0) if cap else (0, 0))
    assert quick.details == slow.details


def test_quota_counts_in_the_statement_and_the_cap_refuses_the_long_way(holder):
    _policy(holder, max_downloads_per_file=2)
    first, _ = _fast(holder)
    assert first.remaining == 1
    counter = holder["grant"].download_counters.get()
    counter.counted_until = _past()  # the first URL has expired: the next one counts
    counter.save()
    assert _fast(holder)[0].remaining == 0
    counter.refresh_from_db()
    counter.counted_until = _past()
    counter.save()
    assert _fast(holder) is None  # at the cap: download_url_issue explains (and notes the refusal)


def test_one_statement_on_the_success_path(holder):
    client = Client()
    model = holder["model"]
    url = reverse("downloads:resolve", args=[model.namespace, model.name, "1.0", PATH])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {holder['secret']}")
    assert response.status_code == 302
    # The statement, inside the test's savepoint (BEGIN and COMMIT outside a test).
    # (A prepared statement's text is not logged: psycopg sends only its name and parameters.)
    statements = [q["sql"] for q in queries if "SAVEPOINT" not in (q["sql"] or "")]
    assert len(statements) == 1, statements
    assert len(queries) == 3


def test_the_token_is_stamped_at_most_once_a_minute(holder):
    _fast(holder)
    token = ApiToken.objects.get(pk=holder["token"].pk)
    assert token.last_used_ip == META.ip and token.last_used_at is not None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=token.last_used_at - timedelta(seconds=30))
    _fast(holder)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == token.last_used_at - timedelta(seconds=30)


def _resolve_url(h):
    return reverse("downloads:resolve", args=[h["model"].namespace, h["model"].name, "1.0", PATH])


def test_only_declared_receivers_let_an_event_go_without_a_transaction():
    assert not heard(AuditAction.DOWNLOAD_URL_ISSUED)  # the webhooks ignore downloads
    assert heard(AuditAction.GRANT_REVOKED)

    def anything(sender, event, **kwargs):
        pass

    event_recorded.connect(anything)
    try:
        assert heard(AuditAction.DOWNLOAD_URL_ISSUED)  # undeclared: may act on any action
    finally:
        event_recorded.disconnect(anything)


@pytest.mark.django_db(transaction=True)
def test_a_token_seen_before_resolves_in_one_statement_of_its_own(holder, settings):
    settings.ACCESSGATE_AUDIT_CHAIN_ON_COMMIT = False  # production's shape: the chainer links apart
    client, auth = Client(), {"HTTP_AUTHORIZATION": f"Bearer {holder['secret']}"}
    assert client.get(_resolve_url(holder), **auth).status_code == 302  # learns the owner
    in_transaction = []

    def spy(execute, sql, params, many, context):
        in_transaction.append(context["connection"].in_atomic_block)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        assert client.get(_resolve_url(holder), **auth).status_code == 302
    assert in_transaction == [False]  # one statement, autocommitted: no BEGIN, no COMMIT
    assert AuditEvent.objects.filter(action=AuditAction.DOWNLOAD_URL_ISSUED).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_receiver_for_every_action_keeps_the_transaction(holder):
    seen = []

    def receiver(sender, event, **kwargs):
        seen.append((event.action, connection.in_atomic_block))

    event_recorded.connect(receiver)
    try:
        client, auth = Client(), {"HTTP_AUTHORIZATION": f"Bearer {holder['secret']}"}
        for _ in range(2):
            assert client.get(_resolve_url(holder), **auth).status_code == 302
    finally:
        event_recorded.disconnect(receiver)
    assert seen == [(AuditAction.DOWNLOAD_URL_ISSUED, True)] * 2


@pytest.mark.django_db(transaction=True)
def test_a_deferred_request_counts_once_against_the_rate_limit(holder, settings, monkeypatch):
    settings.ACCESSGATE_DOWNLOAD_RATE_LIMIT = "5/60"
    monkeypatch.setattr(ratelimit, "_clock", lambda: 1_800_000_000.0)
    client, auth = Client(), {"HTTP_AUTHORIZATION": f"Bearer {holder['secret']}"}
    assert client.get(_resolve_url(holder), **auth).status_code == 302
    _grant(holder, status=GrantStatus.REVOKED, ended_at=timezone.now())
    response = client.get(_resolve_url(holder), **auth)  # counted, deferred, given back, refused
    assert response.status_code == 403 and "was revoked" in response.json()["error"]["message"]
    key = f"accessgate:rate:download:{holder['user'].pk}:{1_800_000_000 // 60}"
    assert cache.get(key) == 2


def _alter_elsewhere(length: int) -> None:
    """A migration run by another process (a deploy): it changes the type of a column the
    prepared statement returns, which PostgreSQL reports on the next execution of the plan."""
    import psycopg

    settings_dict = connection.settings_dict
    with psycopg.connect(
        dbname=settings_dict["NAME"], user=settings_dict["USER"], host=settings_dict["HOST"],
        port=settings_dict["PORT"] or 5432, password=settings_dict["PASSWORD"] or None, autocommit=True,
    ) as other:  # fmt: skip
        other.execute(f"ALTER TABLE catalog_weightfile ALTER COLUMN storage_key TYPE varchar({length})")


@pytest.mark.django_db(transaction=True)
def test_a_column_type_changed_by_a_migration_elsewhere_does_not_break_the_resolve(holder):
    client, auth = Client(), {"HTTP_AUTHORIZATION": f"Bearer {holder['secret']}"}
    assert client.get(_resolve_url(holder), **auth).status_code == 302  # prepared, owner learnt
    try:
        _alter_elsewhere(1025)
        for _ in range(2):  # the autocommitted form ("cached plan must not change result type")
            assert client.get(_resolve_url(holder), **auth).status_code == 302
        _alter_elsewhere(1024)
        _token(holder)  # a token this process has not seen: the transactional form
        auth = {"HTTP_AUTHORIZATION": f"Bearer {holder['secret']}"}
        for _ in range(2):
            assert client.get(_resolve_url(holder), **auth).status_code == 302
    finally:
        _alter_elsewhere(1024)
    assert AuditEvent.objects.filter(action=AuditAction.DOWNLOAD_URL_ISSUED).count() == 5


def test_every_download_time_requirement_is_one_the_statement_checks(holder):
    """The statement is a second copy of the download-time rules: a rule added to
    `requirements.evaluate(at_download=True)` must be added to download_sql.DECISION as well
    (and to CASES above), or the fast path would let through what `download_check` refuses."""
    from accessgate.access.rules import download_sql
    from accessgate.access.rules.requirements import Facts, evaluate

    _training(holder, passed=False)
    _policy(
        holder, require_identity=True, require_mfa=True, blocked_countries=["KP"], require_orcid=True,
        require_institutional_email=True, closeout_blocks_requests=True,
    )  # fmt: skip
    policy = AccessPolicy.objects.get(model=holder["model"])
    keys = {r.key for r in evaluate(policy, Facts(holder["user"]), at_download=True)}
    mirrored = {"identity": "p.require_identity", "mfa": "p.require_mfa", "country": "p.blocked_countries",
                "training": "p.require_training"}  # fmt: skip
    assert keys == set(mirrored)
    assert all(column in download_sql.DECISION for column in mirrored.values())
