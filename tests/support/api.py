"""Shared test helpers (plain functions and values, not fixtures)."""

from rest_framework.test import APIClient

from accessgate.accounts.services import token_create

ALL_RESEARCHER_SCOPES = ("download", "apply")


def bearer(user, scopes=ALL_RESEARCHER_SCOPES, models=()) -> APIClient:
    """An API client sending a fresh token of `user` with these scopes."""
    _, secret = token_create(actor=user, name="api test", scopes=list(scopes), models=list(models), mfa_passed=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    client.secret = secret
    return client


def error_of(response, status: int, code: str | None = None) -> dict:
    """Assert the one error shape and return its `error` object."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "help_url", "fields"}
    assert error["message"]
    if code:
        assert error["code"] == code, error
    return error


def apply_body(_model, **overrides) -> dict:
    policy = _model.policy
    body = {
        "model": _model.full_name,
        "license_sha256": policy.license.sha256,
        "statement_ids": sorted(policy.statements.filter(is_active=True).values_list("pk", flat=True)),
        "intended_use": "Red-teaming refusal behaviour for a university safety study.",
        "typed_name": "Rosalind Franklin",
    }
    body.update(overrides)

    return body
