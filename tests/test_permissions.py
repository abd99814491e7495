"""Every URL, every role: who gets the page, who is sent to log in, who is refused.

The rows are keyed by route name and checked against the URLconf itself: a route added
without a row here fails `test_every_route_has_a_row`.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accessgate.access import services
from accessgate.accounts.services import token_create
from accessgate.audit.models import AuditExport, VerificationRun
from tests.support.applications import application
from tests.support.permissions import (
    LOGIN,
    ROLES,
    SCOPES,
    api_operations,
    publish_urls,
    routes,
    token_urls,
    urls,
)


def test_every_route_has_a_row(world):
    rows, names = set(urls(world)), routes()
    assert not names - rows, f"Add these routes to the permission matrix, for every role: {sorted(names - rows)}"
    assert not rows - names, f"These rows name no route: {sorted(rows - names)}"


def test_the_route_walk_sees_nested_includes():
    # Guard the guard: a walk that stopped at the first level would find none of these.
    assert {"catalog:list", "review:decide", "downloads:resolve", "admin:index"} <= routes()
    assert not any(name.startswith(("account_", "mfa_", "socialaccount_")) for name in routes())


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


@pytest.mark.parametrize(
    ("route", "args", "field"),
    [
        ("review:recuse", ["request"], "reason"),
        ("review:assign", ["request"], "assignee"),
        ("review:note_add", ["request"], "text"),
        ("review:appeal_decide", ["request", "grant"], "message"),
        ("review:grant_suspend", ["grant"], "reason"),
        ("review:grant_reinstate", ["grant"], "reason"),
    ],
)
def test_new_review_posts_refuse_non_reviewers(client, world, events, route, args, field):
    url = reverse(route, args=[world[a].pk if a in world else a for a in args])
    expectations = {"anonymous": LOGIN, "researcher": 403, "grant_holder": 403, "auditor": 403, "other_reviewer": 404}
    for role, status in expectations.items():
        client.logout()
        if world["users"][role]:
            client.force_login(world["users"][role])
        response = client.post(url, {field: "x"})
        if status == LOGIN:
            assert response.status_code == 302 and "login" in response["Location"], role
        else:
            assert response.status_code == status, role
    assert [e for e in events() if e != "account.logged_in"] == []


def test_bulk_post_refuses_non_reviewers_and_other_reviewers_get_per_request_refusals(client, world, events):
    url = reverse("review:bulk")
    for role in ("researcher", "grant_holder", "auditor"):
        client.force_login(world["users"][role])
        assert client.post(url, {"ids": [world["request"].pk], "decision": "approve"}).status_code == 403, role
    client.force_login(world["users"]["other_reviewer"])
    page = client.post(url, {"ids": [world["request"].pk], "decision": "approve"}).content.decode()
    assert "Not done:" in page and "You are not a reviewer of" in page
    assert [e for e in events() if e != "account.logged_in"] == []


def test_appeal_post_refuses_everyone_but_the_applicant(client, world, events):
    url = reverse("access:request_appeal", args=[world["request"].pk])
    for role in ("other_researcher", "grant_holder", "reviewer", "auditor", "admin"):
        client.force_login(world["users"][role])
        assert client.post(url, {"message": "please"}).status_code == 404, role
    assert [e for e in events() if e != "account.logged_in"] == []


def test_reviewer_cannot_decide_own_request(client, world):
    reviewer = world["users"]["reviewer"]
    own = services.access_request_submit(
        actor=reviewer, **application(world["model"], typed_name=reviewer.profile.full_name)
    )
    client.force_login(reviewer)
    page = client.get(reverse("review:detail", args=[own.pk])).content.decode()
    assert "This is your own request" in page
    response = client.post(reverse("review:decide", args=[own.pk, "approve"]), {"message": ""})
    assert response.status_code == 403  # the domain error's own status (AccessDenied)
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
    before = (VerificationRun.objects.count(), AuditExport.objects.count())
    for role in ("researcher", "reviewer", "grant_holder"):
        client.force_login(world["users"][role])
        assert client.post(reverse("audit:verify")).status_code == 403
        assert client.post(reverse("audit:exports"), {"format": "jsonl"}).status_code == 403
        assert client.post(reverse("audit:checkpoint_now")).status_code == 403
    assert (VerificationRun.objects.count(), AuditExport.objects.count()) == before


def test_signoff_link_refuses_bad_expired_and_used_tokens(client, world):
    signoff = world["signoff"]
    good = services.signoff_token(signoff)
    for role in ("anonymous", "researcher", "admin"):
        client.logout()
        if world["users"][role]:
            client.force_login(world["users"][role])
        assert client.get(reverse("access:signoff_sign", args=[good[:-2] + "xx"])).status_code == 404, role
        assert client.get(reverse("access:signoff_sign", args=["not-a-token"])).status_code == 404, role
    type(signoff).objects.filter(pk=signoff.pk).update(expires_at=timezone.now())
    client.logout()
    assert client.get(reverse("access:signoff_sign", args=[good])).status_code == 409
    assert client.post(reverse("access:signoff_sign", args=[good]), {"typed_name": "Dean Jones"}).status_code == 409
    type(signoff).objects.filter(pk=signoff.pk).update(expires_at=timezone.now() + timedelta(days=1))
    assert client.post(reverse("access:signoff_sign", args=[good]), {"typed_name": "Dean Jones"}).status_code == 200
    assert client.get(reverse("access:signoff_sign", args=[good])).status_code == 409  # used
    signoff.refresh_from_db()
    assert signoff.status == "signed"


def test_console_posts_refuse_other_roles(client, world):
    """Every POST of the console, as each role that may not use it: nothing changes."""
    before = (world["request"].status, world["grant"].status, world["model"].releases.get().is_active)
    rows = publish_urls(world)
    expectations = {"researcher": 403, "reviewer": 403, "auditor": 403, "grant_holder": 403, "other_publisher": 404}
    for name, (url, expected) in rows.items():
        if expected["publisher"] != 405:
            continue
        for role, status in expectations.items():
            client.force_login(world["users"][role])
            response = client.post(url, {"message": "x", "reason": "x", "etag": "x"})
            assert response.status_code == status, f"{name} as {role}: {response.status_code}"
    world["request"].refresh_from_db()
    world["grant"].refresh_from_db()
    assert (world["request"].status, world["grant"].status, world["model"].releases.get().is_active) == before


def test_token_scope_matrix(client, world):
    """A grant holder who is also the model's reviewer and an auditor, with one token per scope:
    each route answers only the scope it needs."""
    from accessgate.accounts.services import role_grant

    user = world["users"]["grant_holder"]
    role_grant(actor=None, user=user, role="reviewer")
    role_grant(actor=None, user=user, role="auditor")
    world["model"].reviewers.add(user)
    secrets = {scope: token_create(actor=user, name=scope, scopes=[scope], mfa_passed=True)[1] for scope in SCOPES}
    failures = []
    for name, (url, expected_by_scope) in token_urls(world).items():
        for scope in SCOPES:
            response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {secrets[scope]}")
            expected = expected_by_scope[scope]
            ok = response.status_code in (200, 302) if expected == "ok" else response.status_code == expected
            if not ok:
                failures.append(f"{name} with {scope}: got {response.status_code}, expected {expected}")
    assert not failures, "\n".join(failures)


def test_api_scope_matrix(world):
    """Every operation refuses a token without its scope (and nothing changes), and lets one with it through."""
    from rest_framework.test import APIClient

    from accessgate.accounts.selectors import token_scope_choices
    from accessgate.audit.models import AuditEvent

    def client_with(user, scopes):
        _, secret = token_create(actor=user, name="matrix", scopes=scopes, mfa_passed=True)
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return api

    failures = []
    for name, method, url, scope, role in api_operations(world):
        user = world["users"][role]
        allowed = [value for value, _ in token_scope_choices(user)]
        others = [value for value in allowed if value != scope]
        if scope is not None and others:
            before = AuditEvent.objects.count()
            response = getattr(client_with(user, others), method)(url, {}, format="json")
            message = response.json()["error"]["message"] if response.status_code == 403 else ""
            if response.status_code != 403 or f"'{scope}' scope" not in message:
                failures.append(f"{name} without '{scope}': got {response.status_code} {message}")
            if AuditEvent.objects.count() != before + 1:  # only the token's creation
                failures.append(f"{name} without '{scope}' changed something")
        single = [scope] if scope else [allowed[0]]
        response = getattr(client_with(user, single), method)(url, {}, format="json")
        if response.status_code in (401, 403) and "scope" in response.content.decode():
            failures.append(f"{name} with {single}: refused for scope ({response.status_code})")
    assert not failures, "\n".join(failures)
