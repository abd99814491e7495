"""Every URL, every role: who gets the page, who is sent to log in, who is refused."""

import pytest
from django.urls import reverse

from accessgate.access import services

from . import factories
from .conftest import application

ROLES = [
    "anonymous",
    "researcher",
    "other_researcher",
    "grant_holder",
    "reviewer",
    "other_reviewer",
    "auditor",
    "admin",
]
OK, LOGIN, FORBIDDEN, NOT_FOUND, REDIRECT = 200, "login", 403, 404, 302


@pytest.fixture
def world(db, researcher, other_researcher, reviewer, auditor, admin_user, model):
    request = services.access_request_submit(actor=researcher, **application(model))
    approved = services.access_request_submit(
        actor=other_researcher, **application(model, typed_name=other_researcher.profile.full_name)
    )
    grant = services.access_request_approve(actor=reviewer, access_request=approved)
    from accessgate.accounts.services import token_create
    from accessgate.audit.chainer import chain_all
    from accessgate.audit.models import AuditExport, VerificationRun
    from accessgate.audit.services import audit_export_run

    token, _ = token_create(actor=researcher, name="laptop")
    chain_all()  # the on-commit step, had the test's transaction committed: event #1 exists
    export = audit_export_run(AuditExport.objects.create(requested_by=auditor, requested_by_label=auditor.email))
    run = VerificationRun.objects.create(requested_by=auditor)
    return {
        "token": token,
        "export": export,
        "run": run,
        "users": {
            "anonymous": None,
            "researcher": researcher,
            "other_researcher": factories.UserFactory(),
            "grant_holder": other_researcher,
            "reviewer": reviewer,
            "other_reviewer": factories.UserFactory(role="reviewer"),
            "auditor": auditor,
            "admin": admin_user,
        },
        "model": model,
        "request": request,
        "grant": grant,
    }


def urls(world):
    model, request, grant = world["model"], world["request"], world["grant"]
    release_args = [model.namespace, model.name, model.releases.get().version]
    return {
        "catalog": (reverse("catalog:list"), dict.fromkeys(ROLES, OK)),
        "model": (
            reverse("catalog:model_detail", args=[model.namespace, model.name]),
            dict.fromkeys(ROLES, OK),
        ),
        # The researcher already has an open request, so the apply page sends them to it.
        "apply": (
            reverse("catalog:apply", args=[model.namespace, model.name]),
            {**dict.fromkeys(ROLES, OK), "anonymous": LOGIN, "researcher": REDIRECT, "grant_holder": REDIRECT},
        ),
        "my_access": (reverse("access:my_access"), {**dict.fromkeys(ROLES, OK), "anonymous": LOGIN}),
        "request_detail": (
            reverse("access:request_detail", args=[request.pk]),
            {**dict.fromkeys(ROLES, NOT_FOUND), "anonymous": LOGIN, "researcher": OK},
        ),
        "request_withdraw": (
            reverse("access:request_withdraw", args=[request.pk]),
            {**dict.fromkeys(ROLES, NOT_FOUND), "anonymous": LOGIN, "researcher": OK},
        ),
        "request_resubmit": (
            reverse("access:request_resubmit", args=[request.pk]),
            {**dict.fromkeys(ROLES, NOT_FOUND), "anonymous": LOGIN, "researcher": REDIRECT},
        ),
        "profile": (reverse("accounts:profile"), {**dict.fromkeys(ROLES, OK), "anonymous": LOGIN}),
        "review_queue": (reverse("review:queue"), _staff(OK)),
        "review_detail": (reverse("review:detail", args=[request.pk]), {**_staff(OK), "other_reviewer": NOT_FOUND}),
        "review_grants": (reverse("review:grants"), _staff(OK)),
        "grant_revoke": (
            reverse("review:grant_revoke", args=[grant.pk]),
            {**_staff(OK), "other_reviewer": NOT_FOUND},
        ),
        "admin": (reverse("admin:index"), {**dict.fromkeys(ROLES, LOGIN), "admin": OK}),
        "audit_trail": (reverse("audit:trail"), _auditors()),
        "audit_event": (reverse("audit:event", args=[1]), _auditors()),
        "audit_exports": (reverse("audit:exports"), _auditors()),
        "audit_export": (reverse("audit:export", args=[world["export"].pk]), _auditors()),
        "audit_export_manifest": (reverse("audit:export_manifest", args=[world["export"].pk]), _auditors()),
        "audit_export_download": (
            reverse("audit:export_download", args=[world["export"].pk]),
            {**_auditors(), "auditor": REDIRECT, "admin": REDIRECT},
        ),
        "audit_verification": (reverse("audit:verification", args=[world["run"].pk]), _auditors()),
        "token_revoke": (
            reverse("accounts:token_revoke", args=[world["token"].pk]),
            {**dict.fromkeys(ROLES, NOT_FOUND), "anonymous": LOGIN, "researcher": OK},
        ),
        "audit_public_key": (reverse("audit:public_key"), dict.fromkeys(ROLES, OK)),
        "identity_status": (reverse("identity:status"), {**dict.fromkeys(ROLES, OK), "anonymous": LOGIN}),
        "identity_return": (reverse("identity:returned"), {**dict.fromkeys(ROLES, REDIRECT), "anonymous": LOGIN}),
        # The webhook is POST-only and authenticates by signature, not by session.
        "identity_webhook": (reverse("identity:stripe_webhook"), dict.fromkeys(ROLES, 405)),
        # The dev provider's page: only the session's owner, only in development.
        "identity_dev": (
            reverse("identity:dev_session", args=["dev_nobody"]),
            {**dict.fromkeys(ROLES, NOT_FOUND), "anonymous": LOGIN},
        ),
        "tokens": (reverse("accounts:tokens"), {**dict.fromkeys(ROLES, OK), "anonymous": LOGIN}),
        # Downloads: only the grant holder (other_researcher, approved in `world`).
        "download_page": (
            reverse("downloads:release", args=release_args),
            {**dict.fromkeys(ROLES, FORBIDDEN), "anonymous": LOGIN, "grant_holder": OK},
        ),
        "resolve": (
            reverse("downloads:resolve", args=[*release_args, "config.json"]),
            {**dict.fromkeys(ROLES, FORBIDDEN), "anonymous": LOGIN, "grant_holder": REDIRECT},
        ),
        "manifest": (
            reverse("downloads:manifest", args=release_args),
            {**dict.fromkeys(ROLES, FORBIDDEN), "anonymous": LOGIN, "grant_holder": OK},
        ),
        "manifest_txt": (
            reverse("downloads:manifest_txt", args=release_args),
            {**dict.fromkeys(ROLES, FORBIDDEN), "anonymous": LOGIN, "grant_holder": OK},
        ),
        "sha256sums": (
            reverse("downloads:sha256sums", args=release_args),
            {**dict.fromkeys(ROLES, FORBIDDEN), "anonymous": LOGIN, "grant_holder": OK},
        ),
        "licence_accept": (
            reverse("access:licence_accept", args=[grant.pk]),
            {**dict.fromkeys(ROLES, NOT_FOUND), "anonymous": LOGIN, "grant_holder": OK},
        ),
    }


def _auditors():
    return {**dict.fromkeys(ROLES, FORBIDDEN), "anonymous": LOGIN, "auditor": OK, "admin": OK}


def _staff(ok):
    return {
        **dict.fromkeys(ROLES, FORBIDDEN),
        "anonymous": LOGIN,
        "reviewer": ok,
        "other_reviewer": ok,
        "admin": ok,
    }


def test_permission_matrix(client, world):
    failures = []
    for name, (url, expected_by_role) in urls(world).items():
        for role in ROLES:
            client.logout()
            user = world["users"][role]
            if user is not None:
                client.force_login(user)
            response = client.get(url)
            expected = expected_by_role[role]
            if expected == LOGIN:
                ok = response.status_code == 302 and "login" in response["Location"]
            else:
                ok = response.status_code == expected
            if not ok:
                failures.append(f"{name} as {role}: got {response.status_code}, expected {expected}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("decision", ["approve", "reject", "changes"])
def test_review_posts_refuse_non_reviewers(client, world, decision):
    url = reverse("review:decide", args=[world["request"].pk, decision])
    expectations = {"researcher": 403, "auditor": 403, "other_reviewer": 404}
    for role, status in expectations.items():
        client.force_login(world["users"][role])
        assert client.post(url, {"message": "x"}).status_code == status
    world["request"].refresh_from_db()
    assert world["request"].status == "submitted"


def test_reviewer_cannot_decide_own_request(client, world):
    reviewer = world["users"]["reviewer"]
    own = services.access_request_submit(
        actor=reviewer, **application(world["model"], typed_name=reviewer.profile.full_name)
    )
    client.force_login(reviewer)
    page = client.get(reverse("review:detail", args=[own.pk])).content.decode()
    assert "This is your own request" in page
    response = client.post(reverse("review:decide", args=[own.pk, "approve"]), {"message": ""})
    assert response.status_code == 400
    assert "Nobody can review their own request." in response.content.decode()
    own.refresh_from_db()
    assert own.status == "submitted"


def test_files_are_listed_only_with_a_grant(client, world):
    model = world["model"]
    url = reverse("catalog:model_detail", args=[model.namespace, model.name])
    file_path = model.releases.get().files.first().path
    expectations = {"anonymous": False, "researcher": False, "reviewer": False, "auditor": False, "admin": True}
    for role, visible in expectations.items():
        client.logout()
        if world["users"][role]:
            client.force_login(world["users"][role])
        assert (file_path in client.get(url).content.decode()) is visible, role
    client.force_login(world["grant"].user)
    assert file_path in client.get(url).content.decode()


def test_audit_actions_refuse_non_auditors(client, world):
    from accessgate.audit.models import AuditExport, VerificationRun

    before = (VerificationRun.objects.count(), AuditExport.objects.count())
    for role in ("researcher", "reviewer", "grant_holder"):
        client.force_login(world["users"][role])
        assert client.post(reverse("audit:verify")).status_code == 403
        assert client.post(reverse("audit:exports"), {"format": "jsonl"}).status_code == 403
    assert (VerificationRun.objects.count(), AuditExport.objects.count()) == before
