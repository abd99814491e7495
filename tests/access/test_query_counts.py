"""The pages that evaluate a policy run a fixed number of queries, whatever it requires.

Every requirement is switched on, so a rule that re-read a fact (the profile, the identity
check, the second factor) would add a query and fail these counts.
"""

import pytest
from allauth.account.models import EmailAddress
from django.db import connection
from django.test import Client
from django.urls import reverse

from accessgate.accounts.services import token_create
from tests.support.applications import make_policy
from tests.support.identity import verify

from .. import factories

pytestmark = pytest.mark.django_db
COUNTS = {
    # session, user, model, policy (with licence and model), grant, open request, profile,
    # statements, identity, MFA, ORCID, e-mails, roles (for the menu), custom questions
    "apply": 14,
    # session, user, roles, MFA (the staff gate), request, agreements, licences, reviews, policy,
    # identity, the applicant's MFA, ORCID, e-mails, the applicant's other requests, the
    # reviewer's own decision event (the receipt link), approvals so far, recusals, internal
    # notes, the request's grants, the reviewer's profile (conflicts)
    "review": 21,  # one more: the request's escalations in this round
}
RESOLVE_COUNTS = {
    # One prepared statement decides, counts, stamps the token and inserts the event (the
    # resolve fast path), inside the service's savepoint and its release.
    "postgresql": 3,
    # The explaining path: token, token stamp, file, savepoint, the token's models, grant,
    # identity, MFA, profile, the event, release of the savepoint.
    "sqlite": 11,
}

EVERYTHING = {
    "require_identity": True,
    "require_mfa": True,
    "require_orcid": True,
    "require_institutional_email": True,
    "institutional_domains": ["example.org"],
    "blocked_countries": ["KP"],
}


@pytest.fixture
def strict_model(licence, reviewer):
    model = factories.ModelFactory(reviewers=[reviewer])
    make_policy(model, licence, **EVERYTHING)
    factories.make_release(model)
    return model


@pytest.fixture
def applicant():
    user = factories.UserFactory(profile__full_name="Grace Holder")
    EmailAddress.objects.filter(user=user).update(verified=True)
    factories.add_totp(user)
    verify(user, name="Grace Holder")
    return user


def test_apply_page(client, applicant, strict_model, django_assert_num_queries):
    client.force_login(applicant)
    url = reverse("apply:form", args=[strict_model.namespace, strict_model.name])
    with django_assert_num_queries(COUNTS["apply"]):
        response = client.get(url)
    assert response.status_code == 200 and "A verified identity" in response.content.decode()


def test_review_page(client, applicant, reviewer, strict_model, django_assert_num_queries):
    access_request = factories.AgreementFactory(request__user=applicant, request__model=strict_model).request
    client.force_login(reviewer)
    url = reverse("review:detail", args=[access_request.pk])
    with django_assert_num_queries(COUNTS["review"]):
        response = client.get(url)
    assert response.status_code == 200 and "Grace Holder" in response.content.decode()


def test_resolve(applicant, strict_model, django_assert_num_queries):
    factories.GrantFactory(user=applicant, model=strict_model)
    _, secret = token_create(actor=applicant, name="script", days=1, mfa_passed=True)
    release = strict_model.releases.get()
    url = reverse("downloads:resolve", args=[strict_model.namespace, strict_model.name, release.version, "config.json"])
    client = Client()
    with django_assert_num_queries(RESOLVE_COUNTS[connection.vendor]):
        response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 302, response.content.decode()[-500:]
