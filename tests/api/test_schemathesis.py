"""Property-based run of the whole API against its own schema (schemathesis, in-process WSGI).

For a researcher's and a reviewer's token: no response is a 5xx, and every response has a
documented status code, content type, headers and body shape. Bounded (a few examples per
operation and mode, no deadline) so CI stays fast.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accessgate.access import services
from accessgate.wsgi import application
from tests.support.api import bearer
from tests.support.applications import application as application_args

from .. import factories

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = {GenerationMode.POSITIVE: 10, GenerationMode.NEGATIVE: 5}


@pytest.fixture
def keep_connection():
    """Requests go through the real WSGI handler, whose request signals close "old" database
    connections: that would close the test's transaction on PostgreSQL. Django's test client
    disconnects the same receiver while it calls the app."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(keep_connection, researcher, reviewer, model, auto_model):
    pending = services.access_request_submit(actor=researcher, **application_args(model))
    granted = factories.UserFactory()
    request = services.access_request_submit(
        actor=granted, **application_args(model, typed_name=granted.profile.full_name)
    )
    grant = services.access_request_approve(actor=reviewer, access_request=request)
    services.access_request_submit(actor=researcher, **application_args(auto_model))
    # Real objects for the path parameters, so the run reaches the services, not only 404s.
    return {
        "namespace": model.namespace,
        "name": model.name,
        "ref": "1.0",
        "request_id": pending.pk,
        "grant_id": grant.pk,
    }


def _known(operation, world) -> dict:
    ids = world["grant_id"] if "/grants/" in operation.path else world["request_id"]
    return {"namespace": world["namespace"], "name": world["name"], "ref": world["ref"], "id": ids}


def _run(schema, operation, mode, headers, failures, seen, world):
    known = _known(operation, world)

    @given(case=operation.as_strategy(generation_mode=mode), use_known=st.booleans())
    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case, use_known):
        if use_known and case.path_parameters:
            case.path_parameters = {key: known.get(key, value) for key, value in case.path_parameters.items()}
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        seen.setdefault(response.status_code, set()).add(operation.label)

    try:
        check()
    except Exception as error:  # collect every operation's failure, report them together
        failures.append(f"{mode.value} {operation.label}: {error}")


@pytest.mark.parametrize("role", ["researcher", "reviewer"])
def test_api_conforms_to_its_schema(request, world, role):
    user = request.getfixturevalue(role)
    scopes = ("download", "apply") if role == "researcher" else ("review",)
    headers = {"Authorization": f"Bearer {bearer(user, scopes).secret}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)
    failures, seen = [], {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20
    for operation in operations:
        for mode in EXAMPLES:
            _run(schema, operation, mode, headers, failures, seen, world)
    assert not failures, "\n\n".join(failures)
    # The run reached the endpoints: successes and refusals both, and never a server error.
    assert 200 in seen and 400 in seen and 404 in seen, sorted(seen)
    assert not [code for code in seen if code >= 500]
    print(role, {code: len(labels) for code, labels in sorted(seen.items())})
