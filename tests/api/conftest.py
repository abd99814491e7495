import pytest

from tests.support.api import bearer

ALL_RESEARCHER_SCOPES = ("download", "apply")


@pytest.fixture
def as_researcher(researcher):
    return bearer(researcher)


@pytest.fixture
def as_reviewer(reviewer):
    return bearer(reviewer, ("review",))


@pytest.fixture
def as_auditor(auditor):
    return bearer(auditor, ("audit",))
