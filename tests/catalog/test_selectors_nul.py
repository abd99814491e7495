"""Selectors answer a NUL byte themselves (PostgreSQL fails any query holding one), whatever
the middleware in front of them lets through (JSON bodies, management commands)."""

import pytest

from accessgate.catalog.selectors import listed_models, model_by_name, release_by_ref

from .. import factories

pytestmark = pytest.mark.django_db


def test_nul_bytes_never_reach_a_query():
    model = factories.ModelFactory()
    assert model_by_name(model.namespace + "\x00", model.name) is None
    assert model_by_name(model.namespace, model.name) == model
    assert release_by_ref(model, "1.0\x00") is None
    assert list(listed_models(search="\x00")) == [model]
