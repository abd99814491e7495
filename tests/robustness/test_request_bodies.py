"""Request bodies are bounded before they are read or parsed, and crafted values give a 4xx.

Nested JSON is refused by depth, large bodies by size (413) from their Content-Length before
a byte is read, NUL in any JSON string is a 400, and cursors a client made up are a 404.
"""

import base64
import json

import pytest
from django.urls import reverse

from accessgate.access import services
from accessgate.audit.models import AuditEvent
from accessgate.core import json_body
from accessgate.core.errors import TooLarge, ValidationFailed
from accessgate.downloads.models import LOCAL_CHUNK_SIZE, ReleaseUpload
from accessgate.training.models import Training, TrainingKind
from tests.support.api import bearer, error_of
from tests.support.applications import application

from .. import factories

pytestmark = pytest.mark.django_db

NESTED = "[" * 1000 + "]" * 1000  # 2,000 bytes: exhausts Python's parser without the depth check


def _error(response, status, code=None):
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert set(body["error"]) >= {"code", "message"}
    if code:
        assert body["error"]["code"] == code
    return body["error"]


# --- the JSON guard itself -------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, depth",
    [
        (b"{}", 1),
        (b"[[1,[2]],{}]", 3),
        (b'{"a": "[[[[[[[["}', 1),  # brackets inside strings are text
        (b'["\\"[[[[", [[]]]', 3),  # an escaped quote does not end the string
        (b"3", 0),
        (NESTED.encode(), 1000),
    ],
)
def test_nesting_depth_is_counted_without_parsing(raw, depth):
    assert json_body.nesting_depth(raw) == depth


def test_a_hundred_thousand_levels_are_refused_quickly():
    raw = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(ValidationFailed, match="nests deeper"):
        json_body.load_json(raw)


def test_oversized_json_is_too_large(settings):
    settings.ACCESSGATE_JSON_MAX_BYTES = 100
    with pytest.raises(TooLarge):
        json_body.load_json(b'{"a": "' + b"x" * 200 + b'"}')


@pytest.mark.parametrize("raw", [b'{"a": "x\\u0000y"}', b'{"a\\u0000": 1}', b'[["\\u001b[31m"]]', b"\xff\xfe{"])
def test_control_characters_and_bad_bytes_are_refused(raw):
    with pytest.raises(ValidationFailed):
        json_body.load_json(raw)


def test_tabs_and_line_breaks_in_json_strings_are_fine():
    assert json_body.load_json(b'{"notes": "a\\tb\\r\\nc"}') == {"notes": "a\tb\r\nc"}


# --- the REST API ------------------------------------------------------------------------------


@pytest.fixture
def pending(researcher, model):
    return services.access_request_submit(actor=researcher, **application(model))


@pytest.fixture
def api_posts(pending, researcher, reviewer, auditor, admin_user, model):
    """Every POST of the API that reads a body (withdraw and a verification take none), each with a token that
    may use it, so the parser is what answers."""
    holder = factories.UserFactory()
    other = services.access_request_submit(actor=holder, **application(model, typed_name=holder.profile.full_name))
    grant = services.access_request_approve(actor=reviewer, access_request=other)
    as_researcher, as_holder = bearer(researcher), bearer(holder)
    as_reviewer, as_auditor = bearer(reviewer, ("review",)), bearer(auditor, ("audit",))
    return [
        (as_researcher, reverse("api_v1:requests")),
        (as_researcher, reverse("api_v1:request_resubmit", args=[pending.pk])),
        (as_holder, reverse("api_v1:grant_accept_licence", args=[grant.pk])),
        (as_reviewer, reverse("api_v1:review_approve", args=[pending.pk])),
        (as_reviewer, reverse("api_v1:review_reject", args=[pending.pk])),
        (as_reviewer, reverse("api_v1:review_changes", args=[pending.pk])),
        (bearer(admin_user, ("review",)), reverse("api_v1:review_reviewer_add", args=[pending.pk])),
        (as_reviewer, reverse("api_v1:review_revoke", args=[grant.pk])),
        (as_auditor, reverse("api_v1:audit_exports")),
    ]


@pytest.mark.parametrize(
    "body, status, code",
    [
        (NESTED, 400, "parse_error"),
        ('{"a": ' * 40 + "1" + "}" * 40, 400, "parse_error"),
        ('{"intended_use": "x\\u0000"}', 400, "parse_error"),
    ],
)
def test_api_refuses_bad_json_on_every_post_and_changes_nothing(api_posts, body, status, code):
    before = AuditEvent.objects.count()
    for client, url in api_posts:
        response = client.post(url, body, content_type="application/json")
        assert response.status_code == status, (url, response.status_code, response.content[:200])
        error_of(response, status, code)
    assert AuditEvent.objects.count() == before


def test_api_refuses_an_oversized_json_body_with_413(settings, researcher):
    settings.ACCESSGATE_JSON_MAX_BYTES = 1000
    response = bearer(researcher).post(
        reverse("api_v1:requests"), json.dumps({"intended_use": "x" * 2000}), content_type="application/json"
    )
    error_of(response, 413, "payload_too_large")


# --- cursors -------------------------------------------------------------------------------------


def _cursor(text: str | bytes) -> str:
    return base64.b64encode(text.encode() if isinstance(text, str) else text).decode()


CRAFTED_CURSORS = {
    "bad base64": "%%%not-base64",
    "bad date": "cD0yMDI2LTEzLTQ1",  # p=2026-13-45
    "not a number": _cursor("p=abc"),
    "non-UTF-8": _cursor(b"p=\xff\xfe"),
    "huge": _cursor("p=" + "9" * 5000),
    "huge integer": _cursor("p=" + "9" * 30),
    "negative offset": _cursor("o=-1"),
    "bad reverse flag": _cursor("r=x"),
    "NUL in a text position": _cursor("p=a\x00b"),
    "too long": "A" * 5000,
}


@pytest.mark.parametrize("case", CRAFTED_CURSORS)
@pytest.mark.parametrize(
    "who, route",
    [
        ("researcher", "api_v1:models"),  # by name
        ("researcher", "api_v1:requests"),  # by id
        ("researcher", "api_v1:grants"),
        ("reviewer", "api_v1:review_queue"),  # by submitted_at
        ("reviewer", "api_v1:review_grants"),  # by granted_at
        ("auditor", "api_v1:audit_events"),  # by seq
    ],
)
def test_crafted_cursors_are_404_never_500(request, pending, case, who, route):
    scopes = {"researcher": ("download", "apply"), "reviewer": ("review",), "auditor": ("audit",)}[who]
    client = bearer(request.getfixturevalue(who), scopes)
    response = client.get(reverse(route), {"cursor": CRAFTED_CURSORS[case]})
    # Models are ordered by name: any printable text is a position there (an empty page).
    text_position = route == "api_v1:models" and case in {"bad date", "not a number", "huge integer"}
    expected = {200} if text_position else {404}
    assert response.status_code in expected, (case, response.status_code, response.content[:200])
    if response.status_code == 404:
        assert response.json()["error"]["code"] == "not_found"


def test_a_real_cursor_still_walks_the_pages(reviewer, researcher, model, auto_model):
    for _ in range(3):
        user = factories.UserFactory()
        services.access_request_submit(actor=user, **application(model, typed_name=user.profile.full_name))
    client = bearer(reviewer, ("review",))
    first = client.get(reverse("api_v1:review_queue"), {"page_size": 2}).json()
    second = client.get(first["next"]).json()
    assert first["results"] and second["results"]
    assert {r["id"] for r in first["results"]}.isdisjoint(r["id"] for r in second["results"])


# --- the browser upload's JSON steps -------------------------------------------------------------


@pytest.fixture
def owned(model, publisher):
    model.publishers.add(publisher)
    return model


def _start(client, model, body):
    url = reverse("publish:upload_start", args=[model.namespace, model.name])
    return client.post(url, body if isinstance(body, str) else json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(
    "body, status",
    [
        (NESTED, 400),
        ('["not", "an", "object"]', 400),
        ({"version": "2.0", "files": "model.bin"}, 400),
        ({"version": "2.0", "files": [{"path": "model.bin", "size": 2**63}]}, 400),
        ({"version": "2.0", "files": [{"path": "model.bin", "size": -1}]}, 400),
        ({"version": "2.0", "files": [{"path": "model.bin", "size": True}]}, 400),
        ('{"version": "2.0", "files": [{"path": "model.bin", "size": 1e400}]}', 400),
        ({"version": "2.0", "files": [{"path": "model.bin\x00.txt", "size": 3}]}, 400),
        ({"version": "2.\x001", "files": [{"path": "model.bin", "size": 3}]}, 400),
    ],
)
def test_upload_start_refuses_bad_bodies_and_changes_nothing(client, owned, publisher, body, status):
    client.force_login(publisher)
    before = AuditEvent.objects.count()
    response = _start(client, owned, body)
    _error(response, status)
    assert not ReleaseUpload.objects.exists()
    assert AuditEvent.objects.count() == before


def test_upload_size_over_the_maximum_names_the_field(client, owned, publisher, settings):
    settings.ACCESSGATE_UPLOAD_MAX_FILE_BYTES = 1000
    client.force_login(publisher)
    error = _error(_start(client, owned, {"version": "2.0", "files": [{"path": "m.bin", "size": 1001}]}), 400)
    assert "size" in error["message"] and "1000" in error["message"]
    assert _start(client, owned, {"version": "2.0", "files": [{"path": "m.bin", "size": 1000}]}).status_code == 201


def test_a_chunk_may_be_as_large_as_the_chunk_size_but_no_larger(client, owned, publisher):
    client.force_login(publisher)
    state = _start(client, owned, {"version": "2.0", "files": [{"path": "m.bin", "size": 10}]}).json()
    url = reverse("publish:upload_chunk", args=[owned.namespace, owned.name, state["id"], state["files"][0]["id"]])
    ok = client.post(url + "?offset=0", b"0123456789", content_type="application/octet-stream")
    assert ok.status_code == 200, ok.content
    too_big = client.post(
        url + "?offset=10",
        b"x",
        content_type="application/octet-stream",
        CONTENT_LENGTH=str(LOCAL_CHUNK_SIZE + 1),
        HTTP_ACCEPT="application/json",
    )
    _error(too_big, 413, "payload_too_large")


# --- the Hugging Face endpoints and the Stripe webhook -------------------------------------------


@pytest.mark.parametrize("route", ["hf:access_handle", "hf:access_grant"])
@pytest.mark.parametrize("body", [NESTED, '{"user": "a\\u0000b"}'])
def test_hf_endpoints_refuse_nested_json(client, reviewer, model, route, body):
    secret = bearer(reviewer, ("review",)).secret
    response = client.post(
        reverse(route, args=[model.namespace, model.name]),
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 400, response.content[:200]
    assert "JSON" in response.json()["error"]


def test_stripe_webhook_refuses_nested_json_before_the_signature(client):
    response = client.post(reverse("identity:stripe_webhook"), NESTED, content_type="application/json")
    assert response.status_code == 400
    assert b"deeper" in response.content


# --- bodies limited before they are read ---------------------------------------------------------


@pytest.fixture
def certificate_training(db):
    return Training.objects.create(name="Safety course", kind=TrainingKind.CERTIFICATE, is_active=True)


def test_a_300_mb_certificate_is_refused_from_its_length_before_it_is_read(client, researcher, certificate_training):
    client.force_login(researcher)
    url = reverse("training:detail", args=[certificate_training.pk])

    class Unreadable:
        def read(self, *args):  # the body must never be read
            raise AssertionError("the body was read")

        readline = read

    response = client.generic(
        "POST",
        url,
        b"",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(300 * 1000 * 1000),
        **{"wsgi.input": Unreadable()},
    )
    assert response.status_code == 413
    assert "larger" in response.content.decode()


def test_a_certificate_within_its_limit_reaches_the_form(client, researcher, certificate_training, settings):
    settings.ACCESSGATE_TRAINING_CERTIFICATE_MAX_BYTES = 5_000_000
    client.force_login(researcher)
    url = reverse("training:detail", args=[certificate_training.pk])
    from django.core.files.uploadedfile import SimpleUploadedFile

    pdf = SimpleUploadedFile("c.pdf", b"%PDF-1.4\n" + b"0" * 3_000_000, content_type="application/pdf")
    response = client.post(url, {"certificate": pdf, "completed_on": "2020-01-01"})
    assert response.status_code != 413


def test_other_routes_take_the_default_limit(client, researcher, model, settings):
    settings.ACCESSGATE_MAX_REQUEST_BYTES = 1000
    client.force_login(researcher)
    url = reverse("apply:form", args=[model.namespace, model.name])
    response = client.post(url, {"intended_use": "x" * 2000})
    assert response.status_code == 413
    assert not researcher.access_requests.exists()


@pytest.mark.parametrize("length, status", [("abc", 400), ("-1", 400), ("9" * 40, 400)])
def test_a_content_length_that_is_not_a_number_is_400(client, length, status):
    response = client.generic(
        "POST", "/api/v1/requests/", b"{}", content_type="application/json", CONTENT_LENGTH=length
    )
    assert response.status_code == status


def test_a_chunked_body_without_a_length_is_411(client):
    response = client.generic(
        "POST", "/api/v1/requests/", b"", content_type="application/json", HTTP_TRANSFER_ENCODING="chunked"
    )
    assert response.status_code == 411
