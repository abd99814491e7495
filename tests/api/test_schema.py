"""The OpenAPI document: valid, served, documented by vendored (no CDN) pages."""

import pytest
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_schema_is_served_and_valid():
    response = APIClient().get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)  # raises on an invalid OpenAPI 3 document
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/requests/" in schema["paths"] and "/api/v1/audit/events/" in schema["paths"]
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal access token (Account → Access tokens) with the scope the operation needs.",
    }
    apply = schema["paths"]["/api/v1/requests/"]["post"]
    assert "**Token scope:** `apply`." in apply["description"]
    assert apply["responses"]["409"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


@pytest.mark.parametrize("path", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_docs_pages_use_vendored_files(client, path):
    response = client.get(path)
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in page
    assert "cdn" not in page.lower() and "unpkg" not in page.lower()


def test_spectacular_validates_without_warnings(tmp_path):
    from django.core.management import call_command

    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))  # raises on any warning
    assert "/api/v1/review/requests/{id}/approve/" in out.read_text()
