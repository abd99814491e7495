"""What you may not see is not there: every route that takes a model × model state × role ×
file present or not.

A model the caller may not see (`catalog.selectors.visible_models`) answers exactly what a
name no model has answers (status and body class: the HTML 404 page, the API's `not_found`,
the Hugging Face `RepoNotFound`), whether the release or file asked for exists or not. The
routes are walked from the URLconf, so a new route that takes a model joins the matrix.
"""

import json
from urllib.parse import urlparse

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse

from accessgate.accounts.models import ApiToken, TokenScope
from accessgate.accounts.roles import Role
from accessgate.accounts.services import role_remove, token_create
from accessgate.catalog.models import Model, ModelStatus
from accessgate.catalog.selectors import model_visible, token_model_choices, visible_models
from tests import factories
from tests.support.applications import make_policy

pytestmark = pytest.mark.django_db

# Routes whose `<namespace>/<name>` names something other than a model.
NOT_A_MODEL = {"apply:collection"}

STATES = ["published", "unlisted", "draft"]
ROLES = [
    "anonymous",
    "researcher",
    "grant_holder",
    "reviewer",
    "former_reviewer",
    "publisher",
    "other_publisher",
    "admin",
]
# Who may see a model in each state; written out by hand so the rule itself is under test.
VISIBLE = {
    "published": set(ROLES),
    "unlisted": {"grant_holder", "reviewer", "publisher", "admin"},
    "draft": {"reviewer", "publisher", "admin"},
}
FILE, MISSING_FILE = "config.json", "missing.bin"
REF, MISSING_REF = "1.0", "9.9"
MISSING_MODEL = ("acme-lab", "no-such-model")
# Routes with no gate before the lookup: a signed-in caller's GET of a hidden model is a 404.
ALWAYS_404 = {"catalog:model_detail", "apply:form", "api_v1:model", "api_v1:release", "hf:model_info", "hf:tree"}


def _model_routes(resolver=None, namespace=None):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace and (f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace)
            yield from _model_routes(pattern, inner or namespace)
            continue
        converters = getattr(pattern.pattern, "converters", None)
        params = list(converters) if converters else list(pattern.pattern.regex.groupindex)
        route = f"{namespace}:{pattern.name}" if namespace else pattern.name
        if {"namespace", "name"} <= set(params) and route not in NOT_A_MODEL:
            yield route, tuple(params)


MODEL_ROUTES = dict(_model_routes())


def test_the_matrix_walks_every_surface():
    prefixes = {route.split(":")[0] for route in MODEL_ROUTES}
    assert prefixes >= {"catalog", "apply", "downloads", "hf", "hf_resolve", "api_v1", "publish"}
    assert {"downloads:resolve", "downloads:manifest_txt", "downloads:sha256sums", "api_v1:release"} <= set(
        MODEL_ROUTES
    )


@pytest.fixture
def world(licence):
    reviewer = factories.UserFactory(role="reviewer")
    former = factories.UserFactory(role="reviewer")
    publisher = factories.UserFactory(role="publisher")
    other_publisher = factories.UserFactory(role="publisher")
    admin = factories.UserFactory(role="admin")
    factories.ModelFactory(publishers=[other_publisher])
    holder = factories.UserFactory()
    models = {}
    for state in STATES:
        model = factories.ModelFactory(
            name=f"model-{state}",
            is_listed=state != "unlisted",
            status=ModelStatus.DRAFT if state == "draft" else ModelStatus.PUBLISHED,
            reviewers=[reviewer, former],
            publishers=[publisher],
        )
        make_policy(model, licence)
        factories.make_release(model)
        factories.GrantFactory(user=holder, model=model)
        models[state] = model
    role_remove(actor=None, user=former, role=Role.REVIEWER)
    users = {
        "anonymous": None,
        "researcher": factories.UserFactory(),
        "grant_holder": holder,
        "reviewer": reviewer,
        "former_reviewer": former,
        "publisher": publisher,
        "other_publisher": other_publisher,
        "admin": admin,
    }
    return {"models": models, "users": users}


def _url(route, params, namespace, name, *, missing: bool) -> str:
    values = {"namespace": namespace, "name": name}
    has_path = "path" in params
    for param in params:
        if param in values:
            continue
        if param == "path":
            values[param] = MISSING_FILE if missing else FILE
        elif param in {"ref", "revision", "version"}:
            values[param] = MISSING_REF if missing and not has_path else REF
        elif param == "status":
            values[param] = "pending"
        elif param == "action":
            values[param] = "withdraw"
        elif param == "decision":
            values[param] = "approve"
        else:  # primary keys
            values[param] = 1
    return reverse(route, kwargs=values)


def _shape(response, words) -> tuple:
    """Status and body class; a JSON body in full, with the address's own words masked."""
    if response.status_code in (301, 302):
        return response.status_code, urlparse(response["Location"]).path
    kind = response.get("Content-Type", "").split(";")[0]
    hf_code = response.get("X-Error-Code")
    body = None
    if kind == "application/json" and response.content:
        text = response.content.decode()
        for word in words:
            text = text.replace(word, "…")
        body = json.loads(text)
    return response.status_code, kind, hf_code, body


def _client(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _methods(route) -> list[str]:
    return ["GET", "HEAD", "POST"] if route.endswith("resolve") else ["GET", "POST"]


@pytest.mark.parametrize("route", sorted(MODEL_ROUTES))
def test_an_invisible_model_answers_like_no_model(world, route):
    params = MODEL_ROUTES[route]
    for role in ROLES:
        user = world["users"][role]
        client = _client(user)
        for state in STATES:
            model = world["models"][state]
            visible = role in VISIBLE[state]
            assert model_visible(user, model) is visible, (role, state)
            real = _url(route, params, model.namespace, model.name, missing=False)
            if visible:
                response = client.get(real)
                assert response.status_code < 500, (route, role, state, response.content[:300])
                continue
            missing = _url(route, params, model.namespace, model.name, missing=True)
            unknown = _url(route, params, *MISSING_MODEL, missing=False)
            words = [model.full_name, MISSING_MODEL[0] + "/" + MISSING_MODEL[1], FILE, MISSING_FILE, REF, MISSING_REF]
            words += [model.name, MISSING_MODEL[1]]
            for method in _methods(route):
                send = getattr(client, method.lower())
                shapes = {url: _shape(send(url), words) for url in (real, missing, unknown)}
                assert len(set(map(repr, shapes.values()))) == 1, (route, role, state, method, shapes)
                status = shapes[real][0]
                # 404, or a gate that answers before any model is looked up (sign in, role, method).
                assert status in {404, 302, 401, 403, 405}, (route, role, state, method, shapes)
                if method == "GET" and user is not None and route in ALWAYS_404:
                    assert status == 404, (route, role, state, method, shapes)


@pytest.mark.parametrize("route", ["catalog:model_detail", "api_v1:model"])
def test_a_visible_model_opens(world, route):
    for role in ROLES:
        client = _client(world["users"][role])
        for state in STATES:
            if role in VISIBLE[state]:
                model = world["models"][state]
                response = client.get(reverse(route, args=[model.namespace, model.name]))
                expected = 200 if role != "anonymous" or route.startswith("catalog") else 401
                assert response.status_code == expected, (route, role, state)


def test_the_set_and_the_per_object_rule_agree(world):
    models = list(Model.objects.all())
    for role, user in world["users"].items():
        in_set = set(visible_models(user))
        for model in models:
            assert (model in in_set) is model_visible(user, model), (role, model)


def test_lists_and_choices_hold_only_visible_models(world):
    for role, user in world["users"].items():
        expected = {state for state in STATES if role in VISIBLE[state]}
        client = _client(user)
        catalog = client.get(reverse("catalog:list")).content.decode()
        api = {m["full_name"] for m in client.get("/api/v1/models/").json().get("results", [])} if user else set()
        for state, model in world["models"].items():
            listed = state in expected and model.is_listed
            assert (f"/{model.full_name}/" in catalog) is listed, (role, state)
            if user is not None:
                assert (model.full_name in api) is listed, (role, state)
                assert (model in token_model_choices(user)) is (state in expected), (role, state)
        if user is not None:
            page = client.get(reverse("accounts:tokens")).content.decode()
            for state, model in world["models"].items():
                assert (model.full_name in page) is (state in expected), (role, state)


def test_a_token_does_not_echo_a_model_since_hidden(world):
    researcher = world["users"]["researcher"]
    published = world["models"]["published"]
    _, secret = token_create(actor=researcher, name="laptop", models=[published])
    me = Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {secret}").json()
    assert me["token"]["models"] == [published.full_name]
    Model.objects.filter(pk=published.pk).update(status=ModelStatus.DRAFT)
    me = Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {secret}").json()
    assert me["token"]["models"] == []


def test_a_token_cannot_be_limited_to_a_model_it_may_not_see(world):
    researcher = world["users"]["researcher"]
    client = _client(researcher)
    client.post(
        reverse("accounts:tokens"),
        {"name": "sneaky", "days": 30, "scopes": ["download"], "models": [world["models"]["draft"].pk]},
    )
    assert not ApiToken.objects.filter(user=researcher, name="sneaky").exists()


@pytest.mark.parametrize("case", ["apply_only", "other_model"])
def test_the_release_api_refuses_a_token_that_may_not_download_its_files(world, case):
    holder = world["users"]["grant_holder"]
    published = world["models"]["published"]
    if case == "apply_only":
        _, secret = token_create(actor=holder, name="t", scopes=[TokenScope.APPLY])
    else:
        _, secret = token_create(actor=holder, name="t", models=[world["models"]["unlisted"]])
    url = reverse("api_v1:release", args=[published.namespace, published.name, REF])
    response = Client().get(url, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 403, response.content
    assert "sha256" not in response.content.decode()
    hf = Client().get(f"/api/models/{published.full_name}", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert hf.status_code == 403  # the same refusal as the Hugging Face model_info
    # A download token for this model sees the files.
    _, good = token_create(actor=holder, name="good", models=[published])
    body = Client().get(url, HTTP_AUTHORIZATION=f"Bearer {good}").json()
    assert {f["path"] for f in body["files"]} == {"config.json", "model.safetensors"}
