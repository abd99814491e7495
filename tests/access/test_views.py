import pytest
from django.urls import reverse

from accessgate.access import services
from accessgate.access.models import AccessRequest, Grant, GrantStatus, RequestStatus
from accessgate.audit.models import AuditEvent
from tests.support.applications import application

from .. import factories

pytestmark = pytest.mark.django_db


def apply_url(model):
    return reverse("apply:form", args=[model.namespace, model.name])


def form_data(model, **overrides):
    data = {
        "intended_use": "Evaluating jailbreak robustness for an academic paper.",
        "typed_name": "Rosalind Franklin",
    }
    for statement in model.policy.statements.filter(is_active=True):
        data[f"statement_{statement.pk}"] = "on"
    data.update(overrides)
    return data


class TestApply:
    def test_page_shows_licence_and_statements(self, client, researcher, model):
        client.force_login(researcher)
        page = client.get(apply_url(model)).content.decode()
        assert model.policy.license.text.splitlines()[0] in page
        for statement in model.policy.statements.all():
            assert statement.text in page

    def test_submit_records_ip_and_user_agent(self, client, researcher, model):
        client.force_login(researcher)
        response = client.post(
            apply_url(model), form_data(model), REMOTE_ADDR="198.51.100.20", HTTP_USER_AGENT="Firefox/140"
        )
        request = AccessRequest.objects.get(user=researcher)
        assert response.status_code == 302
        assert response["Location"] == reverse("access:request_detail", args=[request.pk])
        agreement = request.agreements.get()
        assert (agreement.ip, agreement.user_agent) == ("198.51.100.20", "Firefox/140")
        assert AuditEvent.objects.get(action="access.request.submitted").ip == "198.51.100.20"

    @pytest.mark.parametrize(
        ("overrides", "message"),
        [
            ({"typed_name": "Marie Curie"}, "Type your full name exactly as in your profile"),
            ({"intended_use": "short"}, "at least 20 characters"),
            ({"intended_use": ""}, "This field is required"),
        ],
    )
    def test_bad_input_shows_the_error_and_creates_nothing(self, client, researcher, model, overrides, message):
        client.force_login(researcher)
        response = client.post(apply_url(model), form_data(model, **overrides))
        assert response.status_code == 200
        assert message in response.content.decode()
        assert not AccessRequest.objects.exists()

    def test_unticked_statement_is_explained(self, client, researcher, model):
        client.force_login(researcher)
        data = form_data(model)
        del data[next(k for k in data if k.startswith("statement_"))]
        response = client.post(apply_url(model), data)
        assert "Tick this statement to apply." in response.content.decode()
        assert not AccessRequest.objects.exists()

    def test_incomplete_profile_goes_to_profile_first(self, client, model):
        user = factories.UserFactory(profile=None)
        client.force_login(user)
        response = client.get(apply_url(model))
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('accounts:profile')}?next={apply_url(model)}"

    def test_open_request_redirects_to_it(self, client, researcher, model):
        request = services.access_request_submit(actor=researcher, **application(model))
        client.force_login(researcher)
        response = client.get(apply_url(model))
        assert response["Location"] == reverse("access:request_detail", args=[request.pk])

    def test_auto_model_grants_and_my_access_shows_it(self, client, researcher, auto_model):
        client.force_login(researcher)
        client.post(apply_url(auto_model), form_data(auto_model), follow=True)
        page = client.get(reverse("access:my_access")).content.decode()
        grant = researcher.grants.get()
        assert grant.status == GrantStatus.ACTIVE
        assert "Active" in page and grant.expires_at.strftime("%Y-%m-%d") in page


class TestResearcherActions:
    @pytest.fixture
    def pending(self, researcher, model):
        return services.access_request_submit(actor=researcher, **application(model))

    def test_withdraw_asks_first(self, client, researcher, pending):
        client.force_login(researcher)
        url = reverse("access:request_withdraw", args=[pending.pk])
        assert "Withdraw your request" in client.get(url).content.decode()
        pending.refresh_from_db()
        assert pending.status == RequestStatus.SUBMITTED
        client.post(url)
        pending.refresh_from_db()
        assert pending.status == RequestStatus.WITHDRAWN

    def test_withdrawing_twice_explains_why_not(self, client, researcher, pending):
        client.force_login(researcher)
        url = reverse("access:request_withdraw", args=[pending.pk])
        client.post(url)
        response = client.post(url)
        assert response.status_code == 409
        assert "This request is withdrawn; it cannot be withdrawn." in response.content.decode()

    def test_withdraw_answers_json_errors_to_api_clients(self, client, researcher, pending):
        client.force_login(researcher)
        url = reverse("access:request_withdraw", args=[pending.pk])
        client.post(url)
        response = client.post(url, HTTP_ACCEPT="application/json")
        assert response.json() == {
            "error": {"code": "invalid_transition", "message": "This request is withdrawn; it cannot be withdrawn."}
        }

    def test_resubmit_after_changes(self, client, researcher, reviewer, pending):
        services.access_request_request_changes(actor=reviewer, access_request=pending, message="Which lab?")
        client.force_login(researcher)
        url = reverse("access:request_resubmit", args=[pending.pk])
        page = client.get(url).content.decode()
        assert "Which lab?" in page and pending.intended_use in page
        client.post(url, form_data(pending.model, intended_use="At the Franklin Lab, evaluating jailbreaks."))
        pending.refresh_from_db()
        assert pending.status == RequestStatus.SUBMITTED
        assert pending.agreements.count() == 2

    def test_resubmit_only_when_changes_were_requested(self, client, researcher, pending):
        client.force_login(researcher)
        response = client.get(reverse("access:request_resubmit", args=[pending.pk]))
        assert response.status_code == 302


class TestReviewViews:
    @pytest.fixture
    def pending(self, researcher, model):
        return services.access_request_submit(actor=researcher, **application(model))

    def test_queue_lists_oldest_first_and_searches(self, client, reviewer, model, pending):
        second_user = factories.UserFactory(profile__full_name="Lise Meitner", profile__affiliation="KWI")
        services.access_request_submit(actor=second_user, **application(model, typed_name="Lise Meitner"))
        client.force_login(reviewer)
        page = client.get(reverse("review:queue")).content.decode()
        assert page.index("Rosalind Franklin") < page.index("Lise Meitner")
        searched = client.get(reverse("review:queue"), {"q": "kwi"}).content.decode()
        assert "Lise Meitner" in searched and "Rosalind Franklin" not in searched

    def test_queue_paginates(self, client, reviewer, model):
        for i in range(27):
            user = factories.UserFactory(profile__full_name=f"Applicant {i:02d}")
            services.access_request_submit(actor=user, **application(model, typed_name=f"Applicant {i:02d}"))
        client.force_login(reviewer)
        first = client.get(reverse("review:queue")).content.decode()
        second = client.get(reverse("review:queue"), {"page": 2}).content.decode()
        assert "Applicant 00" in first and "Applicant 25" not in first
        assert "Applicant 25" in second and "Page 2 of 2" in second

    def test_detail_shows_profile_agreement_and_history(self, client, reviewer, researcher, model, pending):
        client.force_login(reviewer)
        page = client.get(reverse("review:detail", args=[pending.pk])).content.decode()
        assert "University of Testing" in page
        assert pending.agreements.get().license_sha256 in page
        assert pending.intended_use in page

    def test_approve_via_form(self, client, reviewer, pending):
        client.force_login(reviewer)
        response = client.post(reverse("review:decide", args=[pending.pk, "approve"]), {"message": ""})
        assert response.status_code == 302
        pending.refresh_from_db()
        assert pending.status == RequestStatus.APPROVED

    def test_reject_without_reason_shows_error_and_changes_nothing(self, client, reviewer, pending):
        client.force_login(reviewer)
        response = client.post(reverse("review:decide", args=[pending.pk, "reject"]), {"message": ""})
        assert response.status_code == 400
        assert "Give a reason for the rejection" in response.content.decode()
        pending.refresh_from_db()
        assert pending.status == RequestStatus.SUBMITTED

    def test_unknown_decision_is_404(self, client, reviewer, pending):
        client.force_login(reviewer)
        assert client.post(reverse("review:decide", args=[pending.pk, "delete"])).status_code == 404

    def test_decide_is_post_only(self, client, reviewer, pending):
        client.force_login(reviewer)
        assert client.get(reverse("review:decide", args=[pending.pk, "approve"])).status_code == 405

    def test_revoke_asks_for_reason_then_revokes(self, client, reviewer, pending):
        grant = services.access_request_approve(actor=reviewer, access_request=pending)
        client.force_login(reviewer)
        url = reverse("review:grant_revoke", args=[grant.pk])
        assert "Revoke" in client.get(url).content.decode()
        assert client.post(url, {"reason": ""}).status_code == 200
        grant.refresh_from_db()
        assert grant.status == GrantStatus.ACTIVE
        client.post(url, {"reason": "Breach of licence clause 2."})
        grant.refresh_from_db()
        assert grant.status == GrantStatus.REVOKED


def test_my_access_links_the_download_page_and_explains_suspensions(client, researcher, auto_model):
    services.access_request_submit(actor=researcher, **application(auto_model))
    client.force_login(researcher)
    page = client.get(reverse("access:my_access")).content.decode()
    assert reverse("downloads:release", args=[auto_model.namespace, auto_model.name, "1.0"]) in page
    Grant.objects.filter(user=researcher).update(status=GrantStatus.SUSPENDED, suspended_reason="identity_expired")
    page = client.get(reverse("access:my_access")).content.decode()
    assert "Suspended" in page and reverse("identity:status") in page
