import itertools

import pytest
from django.contrib.auth.models import AnonymousUser

from accessgate.access.rules import staff

from .. import factories

pytestmark = pytest.mark.django_db


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
        assert staff.can_review(user, target) is expected
        assert (target in staff.reviewable_models(user)) is expected
    for user, target in itertools.product([AnonymousUser()], [model]):
        assert not staff.can_review(user, target)
