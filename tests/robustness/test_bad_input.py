"""Bad input gets a clear 4xx and changes nothing."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accessgate.access import services
from accessgate.audit.models import AuditEvent
from accessgate.core.storage import content_disposition, get_storage
from tests.support.applications import application

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/models/?q=%00",
        "/models/?q=abc%01def",
        "/models/?%00=1",
        "/models/%00/",
        "/review/?q=%1b[31m",
        "/dl/token/model%0d%0a.bin",
        "/dl/token/model%00.bin",
    ],
)
def test_control_character_in_path_or_query_is_400(client, url):
    response = client.get(url)
    assert response.status_code == 400
    assert b"control character" in response.content


def test_control_character_in_query_answers_json_to_api_clients(client):
    response = client.get("/models/?q=%00", HTTP_AUTHORIZATION="Bearer x")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


def test_control_character_in_form_field_is_400_and_changes_nothing(client, researcher, model):
    client.force_login(researcher)
    before = AuditEvent.objects.count()
    response = client.post(
        reverse("apply:form", args=[model.namespace, model.name]),
        {"intended_use": "Red-teaming\x00 refusal behaviour for a safety study.", "typed_name": "Rosalind Franklin"},
    )
    assert response.status_code == 400
    assert AuditEvent.objects.count() == before
    assert not researcher.access_requests.exists()


def test_line_breaks_and_tabs_in_form_fields_are_fine(client, researcher, model):
    client.force_login(researcher)
    response = client.post(
        reverse("apply:form", args=[model.namespace, model.name]),
        {"intended_use": "line one\r\nline\ttwo"},
    )
    assert b"control character" not in response.content


@pytest.fixture
def holder_url(researcher, auto_model):
    services.access_request_submit(actor=researcher, **application(auto_model))
    weight_file = auto_model.releases.get().files.get(path="model.safetensors")
    url = get_storage().signed_url(
        weight_file.storage_key,
        filename="model.safetensors",
        sha256=weight_file.sha256,
        ttl_seconds=60,
        now=timezone.now(),
    )
    return url, weight_file


def test_huge_range_is_416_not_500(client, holder_url):
    url, weight_file = holder_url
    response = client.get(url, HTTP_RANGE="bytes=" + "9" * 5000 + "-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{weight_file.size}"


def test_huge_range_end_is_clamped(client, holder_url):
    url, weight_file = holder_url
    response = client.get(url, HTTP_RANGE="bytes=0-" + "9" * 5000)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 0-{weight_file.size - 1}/{weight_file.size}"


def test_dl_serves_only_under_the_files_own_name(client, holder_url):
    url, _ = holder_url
    assert client.get(url).status_code == 200
    token_path = url.rsplit("/", 1)[0]
    for other in ["invoice.pdf.exe", "model.safetensors.exe", "MODEL.safetensors"]:
        response = client.get(f"{token_path}/{other}")
        assert response.status_code == 404, other


def test_dl_control_characters_in_the_name_are_400(client, holder_url):
    url, _ = holder_url
    token_path = url.rsplit("/", 1)[0]
    for name in ["model%0d%0aX-Evil:%201", "model%00.safetensors", "a%0ab"]:
        assert client.get(f"{token_path}/{name}").status_code == 400


def test_dl_serves_with_rfc6266_disposition(client, holder_url):
    url, _ = holder_url
    response = client.get(url)
    assert response["Content-Disposition"] == 'attachment; filename="model.safetensors"'


@pytest.mark.parametrize(
    "name, expected",
    [
        ("model.bin", 'attachment; filename="model.bin"'),
        ('a"b\\c.bin', "attachment; filename=\"a_b_c.bin\"; filename*=UTF-8''a%22b%5Cc.bin"),
        ("modèle.bin", "attachment; filename=\"mod_le.bin\"; filename*=UTF-8''mod%C3%A8le.bin"),
        ("a\r\nb\x00c\x7f.bin", 'attachment; filename="abc.bin"'),
        ("\x00", 'attachment; filename="download"'),
    ],
)
def test_content_disposition_is_rfc6266_without_control_characters(name, expected):
    header = content_disposition(name)
    assert header == expected
    assert not any(ord(ch) < 32 or ord(ch) == 127 for ch in header)


def test_concurrent_approval_loser_gets_409_not_400(client, reviewer, model, researcher):
    request = services.access_request_submit(actor=researcher, **application(model))
    services.access_request_approve(actor=reviewer, access_request=request)
    client.force_login(reviewer)
    response = client.post(reverse("review:decide", args=[request.pk, "approve"]), {"message": ""})
    assert response.status_code == 409
    assert b"already" in response.content.lower() or b"approved" in response.content.lower()


def test_malformed_multipart_is_400(client, researcher, model):
    client.force_login(researcher)
    response = client.generic(
        "POST",
        reverse("apply:form", args=[model.namespace, model.name]),
        b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue-without-end',
        content_type="multipart/form-data",  # no boundary
    )
    assert response.status_code == 400
