"""Custom application questions: kinds, required/optional, versioning, frozen answers."""

import pytest
from django.urls import reverse

from accessgate.access import services
from accessgate.access.models import Agreement
from accessgate.access.models.formfields import FormField, canonical_sha256
from accessgate.access.services import QuestionSpec
from accessgate.audit.models import AuditEvent
from accessgate.core.errors import ValidationFailed
from tests.support.applications import application, make_policy

from .. import factories

pytestmark = pytest.mark.django_db

QUESTIONS = [
    QuestionSpec("project", "Project name"),
    QuestionSpec("plan", "Research plan", kind="long_text", help_text="Two paragraphs."),
    QuestionSpec("sector", "Sector", kind="single_choice", choices=["Academic", "Industry", "Government"]),
    QuestionSpec("uses", "Uses", kind="multiple_choice", choices=["Evaluation", "Fine-tuning"], required=False),
    QuestionSpec("ethics", "An ethics board approved the study", kind="checkbox"),
    QuestionSpec("where", "Country of work", kind="country"),
    QuestionSpec("start", "Start date", kind="date"),
    QuestionSpec("site", "Lab web page", kind="url", required=False),
]
ANSWERS = {
    "project": "Refusals",
    "plan": "We measure refusals.",
    "sector": "Academic",
    "uses": ["Fine-tuning", "Evaluation"],
    "ethics": True,
    "where": "nl",
    "start": "2027-01-15",
    "site": "https://lab.example/",
}


@pytest.fixture
def questioned(model, licence):
    make_policy(model, licence, form_fields=QUESTIONS)
    return model


def test_answers_are_frozen_hashed_and_audited(researcher, questioned, events):
    request = services.access_request_submit(actor=researcher, answers=ANSWERS, **application(questioned))
    agreement = request.agreements.get()
    values = {a["key"]: a["value"] for a in agreement.answers}
    assert values == {**ANSWERS, "uses": ["Evaluation", "Fine-tuning"], "where": "NL"}
    questions = list(questioned.policy.form_fields.all())
    assert [a["field_sha256"] for a in agreement.answers] == [q.sha256 for q in questions]
    assert agreement.answers_sha256 == canonical_sha256(agreement.answers)
    event = AuditEvent.objects.get(action="access.request.submitted")
    assert event.details["answers"] == values and event.details["answers_sha256"] == agreement.answers_sha256


def test_optional_questions_may_be_left_empty(researcher, questioned):
    answers = {k: v for k, v in ANSWERS.items() if k not in ("uses", "site")}
    request = services.access_request_submit(actor=researcher, answers=answers, **application(questioned))
    values = {a["key"]: a["value"] for a in request.agreements.get().answers}
    assert (values["uses"], values["site"]) == ([], "")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"project": " "}, "Project name: this answer is required."),
        ({"ethics": False}, "An ethics board approved the study: tick this box to apply."),
        ({"sector": "Hobby"}, "Sector: choose one of: Academic, Industry, Government."),
        ({"uses": ["Weapons"]}, "Uses: not one of the choices: Weapons."),
        ({"where": "XX"}, "Country of work: choose a country."),
        ({"start": "15/01/2027"}, "Start date: a date as YYYY-MM-DD."),
        ({"site": "ftp://lab"}, "Lab web page: a web address starting with http:// or https://."),
        ({"project": "x" * 501}, "Project name: at most 500 characters."),
        ({"unknown": "x"}, "These are not questions of this form: unknown."),
    ],
)
def test_bad_answers_are_refused(researcher, questioned, change, message, events):
    with pytest.raises(ValidationFailed) as error:
        services.access_request_submit(actor=researcher, answers={**ANSWERS, **change}, **application(questioned))
    assert error.value.message == message
    assert events() == [] and not Agreement.objects.exists()


def test_questions_are_versioned_like_statements(questioned, licence, researcher):
    first = questioned.policy.form_fields.get(key="project")
    services.access_request_submit(actor=researcher, answers=ANSWERS, **application(questioned))
    with pytest.raises(TypeError, match="cannot change; retire it"):
        first.label = "Project title"
        first.save()
    changed = [QuestionSpec("project", "Project title"), *QUESTIONS[1:]]
    make_policy(questioned, licence, form_fields=changed)
    first.refresh_from_db()
    assert first.is_active is False
    active = questioned.policy.form_fields.filter(is_active=True)
    assert [q.key for q in active] == [q.key for q in QUESTIONS]
    assert active.get(key="project").label == "Project title"
    # The earlier answer still names the retired question's hash.
    assert researcher.agreements.get().answers[0]["field_sha256"] == first.sha256
    assert FormField.objects.filter(policy=questioned.policy).count() == len(QUESTIONS) + 1
    event = AuditEvent.objects.filter(action="access.policy.updated").order_by("-id").first()
    assert "form_fields" in event.details["fields"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (QuestionSpec("k", "Pick", kind="single_choice", choices=["only"]), "needs at least two choices"),
        (QuestionSpec("k", "Text", choices=["a", "b"]), "Only choice questions have choices"),
        (QuestionSpec("bad key", "Label"), "needs a key"),
    ],
)
def test_bad_questions_are_refused(model, licence, spec, message):
    with pytest.raises(ValidationFailed, match=message):
        make_policy(model, licence, form_fields=[spec])


def test_same_key_twice_is_refused(model, licence):
    with pytest.raises(ValidationFailed, match="Two questions have the same key."):
        make_policy(model, licence, form_fields=[QuestionSpec("a", "One"), QuestionSpec("a", "Two")])


def test_reviewer_sees_the_answers(client, researcher, questioned, reviewer):
    request = services.access_request_submit(actor=researcher, answers=ANSWERS, **application(questioned))
    client.force_login(reviewer)
    page = client.get(reverse("review:detail", args=[request.pk])).content.decode()
    assert "Research plan" in page and "We measure refusals." in page and "Evaluation, Fine-tuning" in page
    assert request.agreements.get().answers_sha256 in page


def test_the_apply_page_asks_them(client, questioned):
    applicant = factories.UserFactory(profile__full_name="Ada Lovelace")
    client.force_login(applicant)
    url = reverse("apply:form", args=[questioned.namespace, questioned.name])
    page = client.get(url).content.decode()
    assert "Research plan" in page and "Two paragraphs." in page and 'type="date"' in page
    data = {
        "intended_use": "Red-teaming refusal behaviour for a university safety study.",
        "typed_name": "Ada Lovelace",
        **{f"statement_{s.pk}": "on" for s in questioned.policy.statements.all()},
        "field_project": "Refusals",
        "field_plan": "Plan.",
        "field_sector": "Industry",
        "field_uses": ["Evaluation"],
        "field_ethics": "on",
        "field_where": "DE",
        "field_start": "2027-02-01",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    values = {a["key"]: a["value"] for a in applicant.agreements.get().answers}
    assert values["sector"] == "Industry" and values["start"] == "2027-02-01" and values["ethics"] is True
