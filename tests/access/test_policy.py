import itertools
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from accessgate.access import policy, services
from accessgate.access.models import Grant
from accessgate.catalog.models import Release
from tests.support.applications import make_policy

from .. import factories

pytestmark = pytest.mark.django_db


def test_can_download_agrees_with_downloadable_releases(licence, reviewer):
    """The per-object check and the set query must never drift apart."""
    users = [factories.UserFactory(profile__full_name=f"User {i}") for i in range(4)]
    models = []
    for i in range(3):
        model = factories.ModelFactory(reviewers=[reviewer])
        make_policy(model, licence)
        factories.make_release(model, "1.0")
        factories.make_release(model, "2.0", files={"other.bin": f"{i}".encode()})
        models.append(model)
    Release.objects.filter(model=models[2], version="2.0").update(is_active=False)

    grant = factories.GrantFactory

    grant(user=users[0], model=models[0])
    grant(user=users[0], model=models[2])
    revoked = grant(user=users[1], model=models[1])
    services.grant_revoke(actor=reviewer, grant=revoked, reason="r")
    lapsed = grant(user=users[2], model=models[0])
    Grant.objects.filter(pk=lapsed.pk).update(
        granted_at=timezone.now() - timedelta(days=60), expires_at=timezone.now() - timedelta(days=1)
    )
    grant(user=users[3], model=models[1])
    users[3].is_active = False
    users[3].save()

    releases = list(Release.objects.all())
    for user in [*users, AnonymousUser()]:
        expected = {r.pk for r in releases if policy.can_download(user, r)}
        assert set(policy.downloadable_releases(user).values_list("pk", flat=True)) == expected
    assert {r.model_id for r in policy.downloadable_releases(users[0])} == {models[0].pk, models[2].pk}
    assert not policy.downloadable_releases(users[1]).exists()
    assert not policy.downloadable_releases(users[2]).exists()
    assert not policy.downloadable_releases(users[3]).exists()
    assert policy.downloadable_releases(users[0]).filter(model=models[2]).count() == 1


def test_review_rights(model, reviewer, admin_user, auditor, researcher):
    other_model = factories.ModelFactory()
    matrix = {
        (reviewer, model): True,
        (reviewer, other_model): False,
        (admin_user, model): True,
        (admin_user, other_model): True,
        (auditor, model): False,
        (researcher, model): False,
    }
    for (user, target), expected in matrix.items():
        assert policy.can_review(user, target) is expected
        assert (target in policy.reviewable_models(user)) is expected
    for user, target in itertools.product([AnonymousUser()], [model]):
        assert not policy.can_review(user, target)
