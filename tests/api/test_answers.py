"""Custom questions through /api/v1/ and the Hugging Face access-request `fields`."""

import pytest
from django.urls import reverse

from accessgate.access import services
from accessgate.access.services import QuestionSpec
from accessgate.accounts.services import token_create
from tests.support.api import apply_body
from tests.support.applications import application, make_policy

pytestmark = pytest.mark.django_db

QUESTIONS = [
    QuestionSpec("project", "Project name"),
    QuestionSpec("sector", "Sector", kind="single_choice", choices=["Academic", "Industry"]),
]


def test_the_policy_lists_its_questions_and_apply_takes_answers(as_researcher, model, licence, events):
    make_policy(model, licence, form_fields=QUESTIONS, approvals_required=2)
    policy = as_researcher.get(f"/api/v1/models/{model.full_name}/").json()["policy"]
    assert [(q["key"], q["kind"], q["choices"]) for q in policy["questions"]] == [
        ("project", "text", []),
        ("sector", "single_choice", ["Academic", "Industry"]),
    ]
    assert policy["approvals_required"] == 2
    missing = as_researcher.post("/api/v1/requests/", apply_body(model), format="json")
    assert missing.status_code == 400 and "Project name: this answer is required." in missing.content.decode()
    body = apply_body(model)
    body["answers"] = {"project": "Atlas", "sector": "Industry"}
    response = as_researcher.post("/api/v1/requests/", body, format="json")
    assert response.status_code == 201, response.content.decode()
    agreement = response.json()["agreements"][0]
    assert [(a["key"], a["value"]) for a in agreement["answers"]] == [("project", "Atlas"), ("sector", "Industry")]
    assert len(agreement["answers_sha256"]) == 64


def test_hf_access_request_fields_carry_the_answers(client, researcher, model, licence, reviewer):
    make_policy(model, licence, form_fields=QUESTIONS)
    services.access_request_submit(
        actor=researcher, answers={"project": "Atlas", "sector": "Academic"}, **application(model)
    )
    _, secret = token_create(actor=reviewer, name="bot", scopes=["review"], mfa_passed=True)
    url = reverse("hf:access_requests", args=[model.namespace, model.name, "pending"])
    entries = client.get(url, HTTP_AUTHORIZATION=f"Bearer {secret}").json()
    fields = entries[0]["fields"]
    assert fields["project"] == "Atlas" and fields["sector"] == "Academic"
    assert fields["intended_use"].startswith("Red-teaming")
