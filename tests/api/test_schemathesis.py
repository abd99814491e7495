"""Property-based run of the whole API against its own schema (schemathesis, in-process WSGI).

For a researcher's and a reviewer's token: no response is a 5xx, and every response has a
documented status code, content type, headers and body shape. Then the stateful phase chains
operations through the links schemathesis infers from the schema (`POST /requests/` → its
`id` → `GET /requests/{id}/`, approve, withdraw…; the schema itself declares none), and a
depth/size fuzz posts nested and oversized JSON to every operation that takes a JSON body.

Deterministic: examples are derandomized, no deadline, and wall-clock time cannot change an
answer: the rate-limit clock is pinned and the download rate is set out of reach, so the
number of manifests a run asks for never meets `ACCESSGATE_DOWNLOAD_RATE_LIMIT` (its window
is fixed to the minute, so how many requests fell into one window depended on the machine's
speed: the cause of the runs that failed only under load). Bounded so CI stays fast.
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
EXAMPLES = {GenerationMode.POSITIVE: 6, GenerationMode.NEGATIVE: 4}


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
def steady(settings, monkeypatch):
    """No answer depends on how fast the machine is: one rate-limit window for the whole run,
    and a download rate the run cannot reach."""
    from accessgate.core import ratelimit

    monkeypatch.setattr(ratelimit, "_clock", lambda: 1_800_000_000.0)
    settings.ACCESSGATE_DOWNLOAD_RATE_LIMIT = "1000000/60"


@pytest.fixture
def world(keep_connection, steady, researcher, reviewer, model, auto_model):
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


# --- the stateful phase --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["researcher", "reviewer"])
def test_linked_operations_conform_statefully(request, world, role):
    """Chains of calls along the inferred links (create a request, then read, withdraw,
    approve, reject it…) answer as documented and never 5xx."""
    user = request.getfixturevalue(role)
    scopes = ("download", "apply") if role == "researcher" else ("review",)
    headers = {"Authorization": f"Bearer {bearer(user, scopes).secret}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)
    machine = schema.as_state_machine()
    links = [name for name in vars(machine) if not name.startswith(("RANDOM__", "_"))]
    assert any("POST_api_v1_requests___201" in name for name in links), "no create→read links inferred"
    calls = []

    class Run(machine):
        def get_call_kwargs(self, case):
            return {"headers": headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            calls.append((case.operation.label, response.status_code))
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    Run.run(
        settings=settings(
            max_examples=10,
            stateful_step_count=4,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    assert calls and not [code for _, code in calls if code >= 500]
    # The chains reached real rows: some linked call answered a success.
    assert any(200 <= code < 300 for _, code in calls), calls


# --- depth and size fuzz of JSON bodies ----------------------------------------------------------

NESTINGS = {"array": ("[", "]"), "object": ('{"a":', "}")}


def _json_body_operations(schema, world) -> list[tuple[str, str]]:
    """(method, path) of every operation whose schema takes a JSON body, path parameters filled
    with real rows; and the browser upload's and the Hugging Face protocol's JSON steps."""
    found = []
    for result in schema.get_all_operations():
        operation = result.ok()
        body = operation.definition.raw.get("requestBody", {})
        if "application/json" not in body.get("content", {}):
            continue
        path = operation.path
        for key, value in _known(operation, world).items():
            path = path.replace("{" + key + "}", str(value))
        found.append((operation.method.upper(), "/api/v1" + path if not path.startswith("/api/") else path))
    model = f"{world['namespace']}/{world['name']}"
    found += [
        ("POST", f"/publish/{model}/uploads/"),
        ("POST", f"/api/models/{model}/user-access-request/handle"),
        ("POST", f"/api/models/{model}/user-access-request/grant"),
        ("POST", "/identity/webhooks/stripe/"),
    ]
    return found


def test_nested_and_oversized_json_never_gives_a_server_error(world, admin_user, settings):
    """Arrays and objects nested up to 100,000 levels, and bodies over the JSON size limit,
    posted to every JSON endpoint: always a 4xx, never a 5xx."""
    from django.test import Client

    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)
    operations = _json_body_operations(schema, world)
    assert len(operations) >= 10, operations
    token = bearer(admin_user, ("download", "apply", "review", "audit")).secret
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT="application/json")
    client.force_login(admin_user)  # the browser upload's steps take the session
    answered = {}

    @given(
        target=st.sampled_from(operations),
        nesting=st.sampled_from(sorted(NESTINGS)),
        depth=st.one_of(st.integers(33, 200), st.integers(200, 100_000)),
        oversized=st.booleans(),
    )
    @settings_(max_examples=60)
    def fuzz(target, nesting, depth, oversized):
        method, path = target
        opening, closing = NESTINGS[nesting]
        if oversized:
            body = '{"notes": "' + "x" * (settings.ACCESSGATE_JSON_MAX_BYTES + depth) + '"}'
        else:
            body = opening * depth + "1" + closing * depth
        response = client.generic(method, path, body, content_type="application/json")
        answered.setdefault(path, set()).add(response.status_code)
        assert 400 <= response.status_code < 500, (method, path, depth, oversized, response.content[:200])

    fuzz()
    statuses = set().union(*answered.values())
    assert {400, 413} <= statuses, answered  # the guard answered, not only permissions


def settings_(**overrides):
    return settings(
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        **overrides,
    )
