"""Decisions in a real browser: two-person approval, recusal, cooldown and appeal, suspension."""

from datetime import timedelta

import pytest

from accessgate.access import services
from accessgate.access.models import Grant, RequestStatus
from accessgate.access.services import QuestionSpec
from tests.support.applications import application, make_policy
from tests.support.browser import log_in

from .. import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def second_reviewer(model):
    second = factories.UserFactory(role="reviewer", email="second@review.example")
    model.reviewers.add(second)
    return second


def apply(model):
    applicant = factories.UserFactory(email="grace@example.org", profile__full_name="Grace Holder")
    return services.access_request_submit(actor=applicant, **application(model, typed_name="Grace Holder"))


def staff_page(new_page, user):
    page = new_page()
    log_in(page, user.email, factories.PASSWORD, user.totp_secret)
    return page


def test_two_person_approval(new_page, model, licence, reviewer, second_reviewer):
    make_policy(model, licence, approvals_required=2)
    request = apply(model)

    first = staff_page(new_page, reviewer)
    first.goto(f"/review/requests/{request.pk}/")
    assert first.get_by_text("0 of 2 approvals").is_visible()
    first.get_by_role("button", name="Approve").click()
    assert first.get_by_text("Your approval is recorded: 1 of 2 approvals.").is_visible()
    first.goto(f"/review/requests/{request.pk}/")
    assert first.locator("#approvals").inner_text().startswith(f"1 of 2 approvals — approved by {reviewer.email}")
    # The same reviewer cannot be the second approval.
    first.get_by_role("button", name="Approve").click()
    assert first.get_by_text("You have already approved this request; a second, different reviewer").is_visible()
    assert not Grant.objects.exists()

    second = staff_page(new_page, second_reviewer)
    second.goto(f"/review/requests/{request.pk}/")
    second.get_by_role("button", name="Approve").click()
    assert second.get_by_text("Approved; the applicant has access now.").is_visible()
    grant = Grant.objects.get(request=request)

    researcher = new_page()
    log_in(researcher, "grace@example.org", factories.PASSWORD)
    researcher.goto("/access/")
    assert researcher.get_by_text(grant.expires_at.strftime("%Y-%m-%d %H:%M")).is_visible()
    assert researcher.locator(".badge-active").is_visible()


def test_a_recused_reviewer_cannot_decide(new_page, model, reviewer):
    request = apply(model)
    page = staff_page(new_page, reviewer)
    page.goto(f"/review/requests/{request.pk}/")
    page.get_by_label("Reason").fill("I supervised the applicant's thesis.")
    page.get_by_role("button", name="Recuse myself").click()
    assert page.get_by_text(f"You recused yourself from request #{request.pk}.").is_visible()
    page.goto(f"/review/requests/{request.pk}/")
    assert page.get_by_text("You recused yourself from this request; another reviewer must decide it.").is_visible()
    assert page.get_by_role("button", name="Approve").count() == 0
    request.refresh_from_db()
    assert request.status == RequestStatus.SUBMITTED


def test_cooldown_date_and_an_appeal_to_a_different_reviewer(new_page, model, licence, reviewer, second_reviewer):
    make_policy(model, licence, reapply_cooldown_days=14)
    request = apply(model)
    first = staff_page(new_page, reviewer)
    first.goto(f"/review/requests/{request.pk}/")
    first.get_by_label("Message to the applicant").fill("The intended use is too vague.")
    first.once("dialog", lambda dialog: dialog.accept())  # Reject asks to confirm
    first.get_by_role("button", name="Reject").click()
    assert first.get_by_text("Rejected; the applicant sees your reason.").is_visible()

    request.refresh_from_db()
    researcher = new_page()
    log_in(researcher, "grace@example.org", factories.PASSWORD)
    researcher.goto(f"/access/requests/{request.pk}/")
    until = request.decided_at + timedelta(days=14)
    assert researcher.locator("#cooldown").inner_text() == (
        f"You may apply for {model.full_name} again from {until:%Y-%m-%d %H:%M} UTC."
    )
    researcher.get_by_label("Why should the decision change?").fill("Our ethics board approved the study plan.")
    researcher.get_by_role("button", name="Send appeal").click()
    assert researcher.get_by_text("Your appeal is sent").is_visible()

    # The reviewer who rejected cannot decide the appeal.
    first.goto(f"/review/requests/{request.pk}/")
    assert first.get_by_text("Our ethics board approved the study plan.").is_visible()
    first.get_by_label("Message to the applicant").fill("Fine.")
    first.get_by_role("button", name="Grant appeal").click()
    assert first.get_by_text("You rejected this request; a different reviewer or an admin decides").is_visible()

    second = staff_page(new_page, second_reviewer)
    second.goto(f"/review/requests/{request.pk}/")
    second.get_by_label("Message to the applicant").fill("The plan is convincing.")
    second.get_by_role("button", name="Grant appeal").click()
    assert second.get_by_text("Appeal granted; the request is approved.").is_visible()
    assert Grant.objects.filter(request=request).exists()
    researcher.goto(f"/access/requests/{request.pk}/")
    assert researcher.get_by_text("This outcome is final.").is_visible()


def test_a_suspended_grant_refuses_downloads_with_its_reason(new_page, model, reviewer):
    request = apply(model)
    grant = services.access_request_approve(actor=reviewer, access_request=request)
    release = model.releases.get()
    staff = staff_page(new_page, reviewer)
    staff.goto("/review/grants/")
    staff.get_by_role("link", name="Suspend…").click()
    staff.get_by_label("Reason").fill("A copy of the weights was reported on a public mirror.")
    staff.get_by_role("button", name="Suspend access").click()
    assert staff.get_by_text(f"Grant #{grant.pk} is suspended").is_visible()

    researcher = new_page()
    log_in(researcher, "grace@example.org", factories.PASSWORD)
    researcher.goto(f"/models/{model.full_name}/{release.version}/download/")
    assert researcher.get_by_text(
        f"Your access to {model.full_name} is suspended: A copy of the weights was reported on a public mirror."
    ).is_visible()


def test_a_researcher_fills_a_custom_form(new_page, model, licence, reviewer):
    make_policy(
        model,
        licence,
        form_fields=[
            QuestionSpec("project", "Project name", help_text="As funded."),
            QuestionSpec("sector", "Sector", kind="single_choice", choices=["Academic", "Industry"]),
            QuestionSpec("uses", "Uses", kind="multiple_choice", choices=["Evaluation", "Fine-tuning"]),
            QuestionSpec("ethics", "An ethics board approved the study", kind="checkbox"),
            QuestionSpec("where", "Country of work", kind="country"),
            QuestionSpec("start", "Start date", kind="date"),
            QuestionSpec("site", "Lab web page", kind="url", required=False),
        ],
    )
    factories.UserFactory(email="ada@example.org", profile__full_name="Ada Lovelace")
    page = new_page()
    log_in(page, "ada@example.org", factories.PASSWORD)
    page.goto(f"/models/{model.full_name}/")
    page.get_by_role("button", name="Apply for access").click()
    page.get_by_label("Intended use").fill("Measuring refusal robustness for a safety paper.")
    page.get_by_label("Project name").fill("Refusal atlas")
    page.get_by_label("Academic").check()
    page.get_by_label("Evaluation").check()
    page.get_by_label("An ethics board approved the study").check()
    page.get_by_label("Country of work").select_option("GB")
    page.get_by_label("Start date").fill("2027-03-01")
    page.get_by_label("Lab web page").fill("https://lab.example/atlas")
    for statement in model.policy.statements.all():
        page.get_by_label(statement.text).check()
    page.get_by_label("Type your full name to sign").fill("Ada Lovelace")
    page.get_by_role("button", name="Sign and submit").click()
    assert page.get_by_text("Your request is submitted").is_visible()

    agreement = model.access_requests.get().agreements.get()
    assert {a["key"]: a["value"] for a in agreement.answers} == {
        "project": "Refusal atlas",
        "sector": "Academic",
        "uses": ["Evaluation"],
        "ethics": True,
        "where": "GB",
        "start": "2027-03-01",
        "site": "https://lab.example/atlas",
    }
    staff = staff_page(new_page, reviewer)
    staff.goto(f"/review/requests/{agreement.request_id}/")
    # Signed agreements are shown open to reviewers (no click needed).
    assert staff.get_by_text("Refusal atlas").is_visible()
    assert staff.get_by_text(agreement.answers_sha256).is_visible()


def test_one_application_to_a_collection_yields_grants_on_all_its_models(new_page, model, licence, reviewer):
    sibling = factories.ModelFactory(reviewers=[reviewer])
    make_policy(sibling, licence)
    family = services.collection_create(
        actor=None, namespace=model.namespace, name="family", display_name="The family", lead=model, members=[sibling]
    )
    factories.UserFactory(email="ada@example.org", profile__full_name="Ada Lovelace")
    page = new_page()
    log_in(page, "ada@example.org", factories.PASSWORD)
    page.goto(f"/models/collections/{family.full_name}/apply/")
    assert sibling.full_name in page.locator("#collection-note").inner_text()
    page.get_by_label("Intended use").fill("Comparing refusal behaviour across the family.")
    for statement in model.policy.statements.all():
        page.get_by_label(statement.text).check()
    page.get_by_label("Type your full name to sign").fill("Ada Lovelace")
    page.get_by_role("button", name="Sign and submit").click()
    assert page.get_by_text("Your request is submitted").is_visible()

    # One request per member, each decided in its own model's queue under its own policy.
    staff = staff_page(new_page, reviewer)
    for member in (model, sibling):
        request = member.access_requests.get()
        staff.goto(f"/review/requests/{request.pk}/")
        staff.get_by_role("button", name="Approve").click()
        assert staff.get_by_text("Approved; the applicant has access now.").is_visible()

    page.goto("/access/")
    for member in (model, sibling):
        row = page.get_by_role("row").filter(has_text=member.full_name)
        assert row.locator(".badge-active").is_visible()
    assert Grant.objects.filter(request__collection=family).count() == 2


def test_a_direct_grant_waits_for_the_signature(new_page, model, reviewer):
    holder = factories.UserFactory(email="grace@example.org", profile__full_name="Grace Holder")
    grant = services.grant_create_direct(actor=reviewer, user=holder, model=model)
    release = model.releases.get()
    page = new_page()
    log_in(page, holder.email, factories.PASSWORD)
    page.goto(f"/models/{model.full_name}/{release.version}/download/")
    assert page.get_by_text("waiting for: your intended use, your signature").first.is_visible()
    page.goto(f"/access/grants/{grant.pk}/accept-licence/")
    page.get_by_label("Intended use").fill("Comparing refusal behaviour for a safety study.")
    for statement in model.policy.statements.all():
        page.get_by_label(statement.text).check()
    page.get_by_label("Type your full name to sign").fill("Grace Holder")
    page.get_by_role("button", name="Sign and continue").click()
    page.goto(f"/models/{model.full_name}/{release.version}/download/")
    assert page.get_by_text("model.safetensors").first.is_visible()
