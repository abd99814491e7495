from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accessgate.access import rules as access_rules
from accessgate.access import services
from accessgate.access.models import RequestStatus
from accessgate.accounts.services import token_create
from accessgate.catalog.models import Release
from accessgate.core.errors import DomainError, PolicyNotMet, ValidationFailed
from accessgate.identity.models import IdentityVerification
from tests.support.applications import application, make_policy
from tests.support.identity import verify

from .. import factories

pytestmark = pytest.mark.django_db


def checklist(user, model):
    return {r.key: r.met for r in access_rules.requirements_for(user, model.policy)}


@pytest.fixture
def strict_auto(licence):
    model = factories.ModelFactory()
    make_policy(model, licence, gating="auto", require_identity=True, require_mfa=True)
    factories.make_release(model)
    return model


def test_auto_approval_only_when_every_requirement_holds(strict_auto):
    user = factories.UserFactory(profile__full_name="Ada Lovelace")
    assert checklist(user, strict_auto) == {"profile": True, "identity": False, "mfa": False}
    with pytest.raises(PolicyNotMet, match="verified identity.*Two-factor"):
        services.access_request_submit(actor=user, **application(strict_auto, typed_name="Ada Lovelace"))
    factories.add_totp(user)
    verify(user, name="Ada Lovelace")
    assert all(checklist(user, strict_auto).values())
    request = services.access_request_submit(actor=user, **application(strict_auto, typed_name="Ada Lovelace"))
    assert request.status == RequestStatus.APPROVED


def test_manual_policy_accepts_and_shows_the_reviewer_what_holds(licence, reviewer, client):
    model = factories.ModelFactory(reviewers=[reviewer])
    make_policy(model, licence, require_identity=True, require_orcid=True)
    user = factories.UserFactory(profile__full_name="Ada Lovelace")
    SocialAccount.objects.create(user=user, provider="orcid", uid="0000-0002-1825-0097")
    request = services.access_request_submit(actor=user, **application(model, typed_name="Ada Lovelace"))
    assert request.status == RequestStatus.SUBMITTED
    client.force_login(reviewer)
    page = client.get(reverse("review:detail", args=[request.pk])).content.decode()
    assert "A verified identity" in page and "To do:" in page
    assert "0000-0002-1825-0097" in page and "verified via ORCID" in page


@pytest.mark.parametrize(
    ("emails", "allowed", "met"),
    [
        (["ada@gmail.com"], [], False),
        (["ada@cs.ox.ac.uk"], [], True),
        (["ada@cs.ox.ac.uk"], ["ox.ac.uk"], True),
        (["ada@oxford.example"], ["ox.ac.uk"], False),
        (["ada@box.ac.uk"], ["ox.ac.uk"], False),
    ],
)
def test_institutional_email(licence, emails, allowed, met):
    model = factories.ModelFactory()
    make_policy(model, licence, require_institutional_email=True, institutional_domains=allowed)
    user = factories.UserFactory(email="ada@example.org")
    user.emailaddress_set.all().delete()
    for address in emails:
        EmailAddress.objects.create(user=user, email=address, verified=True)
    EmailAddress.objects.create(user=user, email="unverified@ox.ac.uk", verified=False)
    assert checklist(user, model)["institutional_email"] is met


def test_blocked_countries_refuse_by_profile_or_document(licence):
    model = factories.ModelFactory()
    make_policy(model, licence, blocked_countries=["kp", "IR"])
    by_profile = factories.UserFactory(profile__country="KP", profile__full_name="A B")
    with pytest.raises(PolicyNotMet, match="not available to researchers from KP"):
        services.access_request_submit(actor=by_profile, **application(model, typed_name="A B"))
    by_document = factories.UserFactory(profile__country="NL", profile__full_name="C D")
    verify(by_document, name="C D", country="IR")
    with pytest.raises(PolicyNotMet, match="from IR"):
        services.access_request_submit(actor=by_document, **application(model, typed_name="C D"))
    with pytest.raises(ValidationFailed, match="Unknown country codes: XX"):
        make_policy(model, licence, blocked_countries=["XX"])


def test_download_needs_mfa_in_the_session_or_the_token(licence, reviewer):
    model = factories.ModelFactory(reviewers=[reviewer])
    make_policy(model, licence, require_mfa=True)
    release = factories.make_release(model)
    user = factories.UserFactory(profile__full_name="Ada Lovelace")
    secret = factories.add_totp(user)
    request = services.access_request_submit(actor=user, **application(model, typed_name="Ada Lovelace"))
    services.access_request_approve(actor=reviewer, access_request=request)
    url = reverse("downloads:resolve", args=[model.namespace, model.name, release.version, "config.json"])

    browser = Client()
    browser.force_login(user)  # a session that did not pass a second factor
    response = browser.get(url)
    assert response.status_code == 403 and "two-factor" in response.content.decode()

    browser = Client()  # the real login: password, then the authenticator code
    response = browser.post(reverse("account_login"), {"login": user.email, "password": factories.PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    browser.post(reverse("mfa_authenticate"), {"code": factories.totp_code(secret)})
    response = browser.get(url)
    assert response.status_code == 302, response.content.decode()[-1500:]

    _, plain = token_create(actor=user, name="no mfa")
    _, strong = token_create(actor=user, name="mfa", mfa_passed=True)
    assert Client().get(url, HTTP_AUTHORIZATION=f"Bearer {plain}").status_code == 403
    assert Client().get(url, HTTP_AUTHORIZATION=f"Bearer {strong}").status_code == 302


def test_download_needs_identity_not_expired(licence, reviewer):
    model = factories.ModelFactory(reviewers=[reviewer])
    make_policy(model, licence, require_identity=True)
    release = factories.make_release(model)
    user = factories.UserFactory(profile__full_name="Ada Lovelace")
    verify(user, name="Ada Lovelace")
    request = services.access_request_submit(actor=user, **application(model, typed_name="Ada Lovelace"))
    services.access_request_approve(actor=reviewer, access_request=request)
    client = Client()
    client.force_login(user)
    url = reverse("downloads:resolve", args=[model.namespace, model.name, release.version, "config.json"])
    assert client.get(url).status_code == 302
    IdentityVerification.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(url)
    assert response.status_code == 403 and "missing or expired" in response.content.decode()


def test_the_download_check_follows_the_requirements(licence, reviewer):
    plain, identity, mfa = (factories.ModelFactory(reviewers=[reviewer]) for _ in range(3))
    make_policy(plain, licence)
    make_policy(identity, licence, require_identity=True)
    make_policy(mfa, licence, require_mfa=True)
    for model in (plain, identity, mfa):
        factories.make_release(model)
    user = factories.UserFactory(profile__full_name="Ada Lovelace")
    verify(user, name="Ada Lovelace")
    factories.add_totp(user)
    for model in (plain, identity, mfa):
        request = services.access_request_submit(actor=user, **application(model, typed_name="Ada Lovelace"))
        services.access_request_approve(actor=reviewer, access_request=request)

    expected = {
        (False, False): {plain, identity},
        (False, True): {plain, identity, mfa},
        (True, False): {plain},
        (True, True): {plain, mfa},
    }
    for expire_identity in (False, True):
        if expire_identity:
            IdentityVerification.objects.update(status="expired")
        for mfa_verified in (False, True):
            allowed = set()
            for release in Release.objects.select_related("model"):
                try:
                    access_rules.download_check(user, release, mfa_verified=mfa_verified)
                except DomainError:
                    continue
                allowed.add(release.model)
            assert allowed == expected[expire_identity, mfa_verified]


def test_apply_page_shows_the_checklist_with_links(client, strict_auto):
    user = factories.UserFactory()
    client.force_login(user)
    page = client.get(reverse("apply:form", args=[strict_auto.namespace, strict_auto.name])).content.decode()
    assert "To do:" in page and reverse("identity:status") in page and reverse("mfa_index") in page
