"""The publisher's console: drafts, the policy form, licences, reviewers, releases, access."""

import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from accessgate.access import services as access_services
from accessgate.access.models import AccessPolicy, Grant
from accessgate.accounts.services import role_grant, token_create
from accessgate.audit.models import AuditEvent
from accessgate.catalog.models import LicenseVersion, ModelStatus
from accessgate.catalog.services import model_update, release_withdraw
from accessgate.core.errors import AccessDenied, PolicyNotMet, ValidationFailed
from accessgate.downloads.models import ReleaseImport
from accessgate.notifications.models import Email
from accessgate.publishing.services import model_create_draft, model_publish
from accessgate.training.models import Training
from tests.support.applications import application, make_policy

from .. import factories

POLICY_FORM = {
    "gating": "manual",
    "statements": "I will not redistribute the weights.",
    "min_intended_use_chars": "20",
    "grant_days": "30",
    "url_ttl_seconds": "300",
    "max_downloads_per_file": "",
    "institutional_domains": "",
    "blocked_countries": "",
}


def console(name, model, *extra):
    return reverse(f"publish:{name}", args=[model.namespace, model.name, *extra])


@pytest.fixture
def changes(events):
    """The audit actions since the test began, without the log-ins of `force_login`."""
    return lambda: [action for action in events() if action != "account.logged_in"]


@pytest.fixture
def owned(model, publisher):
    model.publishers.add(publisher)
    return model


@pytest.fixture
def draft(publisher):
    return model_create_draft(actor=publisher, namespace="acme-lab", name="secret-7b", display_name="Secret 7B")


class TestDrafts:
    def test_a_publisher_creates_a_draft_they_own(self, client, publisher, changes):
        client.force_login(publisher)
        response = client.post(
            reverse("publish:new"), {"namespace": "acme-lab", "name": "new-1b", "display_name": "New 1B"}
        )
        assert response.status_code == 302
        model = publisher.published_models.get()
        assert (model.status, model.published_at) == (ModelStatus.DRAFT, None)
        assert changes() == ["catalog.model.created"]

    def test_a_bad_name_is_shown_beside_its_field(self, client, publisher):
        client.force_login(publisher)
        response = client.post(
            reverse("publish:new"), {"namespace": "acme-lab", "name": "bad name", "display_name": "x"}
        )
        assert response.status_code == 400
        assert response.context["form"].errors["name"]

    def test_a_duplicate_name_is_shown_beside_the_form(self, client, publisher, model):
        client.force_login(publisher)
        response = client.post(
            reverse("publish:new"), {"namespace": model.namespace, "name": model.name, "display_name": "x"}
        )
        assert response.status_code == 400
        assert "already exists" in response.content.decode()

    @pytest.mark.parametrize("role", ["anonymous", "researcher", "auditor"])
    def test_a_draft_is_hidden_from_everyone_else(self, client, draft, role, researcher, auditor):
        user = {"anonymous": None, "researcher": researcher, "auditor": auditor}[role]
        if user:
            client.force_login(user)
        assert draft.full_name not in client.get(reverse("catalog:list")).content.decode()
        detail = reverse("catalog:model_detail", args=[draft.namespace, draft.name])
        assert client.get(detail).status_code == 404
        apply = reverse("apply:form", args=[draft.namespace, draft.name])
        assert client.get(apply).status_code == (404 if user else 302)

    def test_a_draft_is_seen_by_its_publisher_reviewers_and_admins(
        self, client, draft, publisher, reviewer, admin_user
    ):
        model_update(actor=None, model=draft, reviewers=[reviewer])
        for user in (publisher, reviewer, admin_user):
            client.force_login(user)
            assert draft.full_name in client.get(reverse("catalog:list")).content.decode()
            page = client.get(reverse("catalog:model_detail", args=[draft.namespace, draft.name]))
            assert page.status_code == 200 and "draft" in page.content.decode()

    def test_an_application_for_a_draft_is_refused_by_the_service(self, draft, researcher, licence):
        make_policy(draft, licence)
        with pytest.raises(PolicyNotMet, match="not open for applications"):
            access_services.access_request_submit(actor=researcher, **application(draft))

    def test_publishing_says_what_is_missing_then_publishes(self, draft, publisher, licence, changes):
        with pytest.raises(PolicyNotMet, match="an access policy, an active release"):
            model_publish(actor=publisher, model=draft)
        make_policy(draft, licence)
        factories.make_release(draft)
        before = changes()
        model_publish(actor=publisher, model=draft)
        draft.refresh_from_db()
        assert draft.status == ModelStatus.PUBLISHED and draft.published_at is not None
        assert changes()[len(before) :] == ["catalog.model.published"]

    def test_publish_button_shows_the_missing_parts(self, client, draft, publisher):
        client.force_login(publisher)
        response = client.post(console("publish", draft), follow=True)
        assert "cannot be published yet" in response.content.decode()

    def test_existing_models_are_published(self, model):
        assert model.status == ModelStatus.PUBLISHED


class TestPolicyForm:
    def test_every_error_is_shown_beside_its_field(self, client, draft, publisher, licence):
        client.force_login(publisher)
        data = {
            **POLICY_FORM,
            "license": licence.pk,
            "max_downloads_per_file": "0",
            "url_ttl_seconds": str(8 * 24 * 3600),
            "blocked_countries": "NARNIA, XX",
        }
        response = client.post(console("policy", draft), data)
        page = response.content.decode()
        assert response.status_code == 400
        assert "Allow at least one download per file" in page
        assert "A download URL lives between 1 second and 7 days." in page
        assert "Unknown country codes: NARNIA, XX." in page
        assert page.count('class="field-error"') == 3
        assert "access_policy_" not in page and "Constraint" not in page
        assert "7 days (604800 seconds)" in page  # the help text says the cap
        assert not AccessPolicy.objects.filter(model=draft).exists()

    def test_the_policy_checkboxes_show_what_is_saved(self, client, draft, publisher, licence):
        client.force_login(publisher)
        data = {**POLICY_FORM, "license": licence.pk, "require_identity": "on"}
        assert client.post(console("policy", draft), data).status_code == 302
        page = client.get(console("policy", draft)).content.decode()
        assert re.search(r'<input type="checkbox" name="require_identity"[^>]*\bchecked', page)
        assert re.search(r'<input type="checkbox" name="require_mfa" id="id_require_mfa">', page)

    def test_a_new_policy_is_audited_as_created_then_updated(self, client, draft, publisher, licence, changes):
        client.force_login(publisher)
        data = {**POLICY_FORM, "license": licence.pk, "require_identity": "on", "blocked_countries": "kp"}
        assert client.post(console("policy", draft), data).status_code == 302
        assert client.post(console("policy", draft), {**data, "grant_days": "60"}).status_code == 302
        assert changes() == ["access.policy.created", "access.policy.updated"]
        policy = AccessPolicy.objects.get(model=draft)
        assert (policy.grant_days, policy.require_identity, policy.blocked_countries) == (60, True, ["KP"])

    def test_saving_keeps_the_options_the_console_does_not_edit(self, client, owned, publisher, licence):
        """Questions, two-person approval and cooldowns are set in the admin; a console save
        must not quietly reset them to their defaults."""
        training = Training.objects.create(name="Responsible use", kind="certificate")
        make_policy(
            owned,
            licence,
            approvals_required=2,
            reapply_cooldown_days=14,
            form_fields=[access_services.QuestionSpec(key="team", label="Your team")],
            reminder_days=[60, 7],
            renewal_grace_days=21,
            require_closeout=True,
            require_signoff=True,
            signoff_domains=["uni.edu"],
            required_trainings=[training],
        )
        client.force_login(publisher)
        data = {**POLICY_FORM, "license": licence.pk, "grant_days": "45"}
        assert client.post(console("policy", owned), data).status_code == 302
        policy = AccessPolicy.objects.get(model=owned)
        assert (policy.grant_days, policy.approvals_required, policy.reapply_cooldown_days) == (45, 2, 14)
        assert list(policy.form_fields.filter(is_active=True).values_list("key", flat=True)) == ["team"]
        # Access over time (issue-14) is kept too, the required training included.
        assert (policy.reminder_days, policy.renewal_grace_days, policy.signoff_domains) == ([60, 7], 21, ["uni.edu"])
        assert (policy.require_closeout, policy.require_signoff, policy.require_training) == (True, True, True)
        assert list(policy.required_trainings.all()) == [training]


class TestLicence:
    def test_a_new_version_shows_the_diff_and_the_holders_then_switches(
        self, client, owned, publisher, researcher, reviewer, changes
    ):
        grant = access_services.access_request_approve(
            actor=reviewer, access_request=access_services.access_request_submit(actor=researcher, **application(owned))
        )
        current = owned.policy.license
        client.force_login(publisher)
        data = {"name": current.name, "version": "2.0", "text": current.text + "\nCite the model card."}
        preview = client.post(console("licence", owned), data).content.decode()
        assert "+Cite the model card." in preview
        assert "can never change" in preview
        assert '<strong id="holder-count">1 holder</strong>' in preview
        assert not LicenseVersion.objects.filter(version="2.0").exists()
        before = changes()
        response = client.post(console("licence", owned), {**data, "confirm": "1"})
        assert response.status_code == 302
        owned.policy.refresh_from_db()
        assert str(owned.policy.license) == f"{current.name} 2.0"
        assert changes()[len(before) :] == ["catalog.license.published", "access.policy.licence_switched"]
        email = Email.objects.filter(to=[researcher.email], subject__contains="Accept the new licence").get()
        assert reverse("access:licence_accept", args=[grant.pk]) in email.body_text
        client.force_login(researcher)
        my_access = client.get(reverse("access:my_access")).content.decode()
        assert "Licence to accept" in my_access

    def test_the_diff_is_escaped(self, client, owned, publisher):
        client.force_login(publisher)
        data = {"name": "Evil", "version": "1", "text": "<script>alert(1)</script>"}
        page = client.post(console("licence", owned), data).content.decode()
        assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


class TestReviewers:
    def test_the_picker_offers_only_reviewers(self, client, owned, publisher, reviewer, researcher):
        client.force_login(publisher)
        page = client.get(console("reviewers", owned)).content.decode()
        assert reviewer.email in page and researcher.email not in page

    def test_the_service_refuses_a_researcher_as_reviewer(self, owned, researcher):
        with pytest.raises(ValidationFailed, match="do not have the reviewer role"):
            model_update(actor=None, model=owned, reviewers=[researcher])

    def test_saving_reviewers_is_audited(self, client, owned, publisher, changes):
        other = factories.UserFactory(role="reviewer")
        client.force_login(publisher)
        before = changes()
        assert client.post(console("reviewers", owned), {"r-reviewers": [other.pk]}).status_code == 302
        assert list(owned.reviewers.all()) == [other]
        assert changes()[len(before) :] == ["catalog.model.updated"]


class TestAccess:
    def test_pending_request_is_accepted_with_the_review_service(self, client, owned, publisher, researcher, changes):
        request = access_services.access_request_submit(actor=researcher, **application(owned))
        client.force_login(publisher)
        page = client.get(console("access", owned)).content.decode()
        assert researcher.email in page and f"Accept request #{request.pk}" in page
        before = changes()
        client.post(console("access_decide", owned, request.pk, "approve"))
        assert Grant.objects.active().filter(user=researcher, model=owned).exists()
        assert changes()[len(before) :] == ["access.request.approved", "grant.created"]
        accepted = client.get(console("access", owned) + "?list=accepted&q=" + researcher.email).content.decode()
        assert researcher.email in accepted

    def test_reject_and_revoke(self, client, owned, publisher, researcher, other_researcher, reviewer, changes):
        request = access_services.access_request_submit(actor=researcher, **application(owned))
        grant = access_services.access_request_approve(
            actor=reviewer,
            access_request=access_services.access_request_submit(
                actor=other_researcher, **application(owned, typed_name=other_researcher.profile.full_name)
            ),
        )
        client.force_login(publisher)
        before = changes()
        client.post(console("access_decide", owned, request.pk, "reject"), {"message": "Not a research use."})
        client.post(console("access_revoke", owned, grant.pk), {"reason": "Shared the weights."})
        assert changes()[len(before) :] == ["access.request.rejected", "grant.revoked"]
        rejected = client.get(console("access", owned) + "?list=rejected").content.decode()
        assert researcher.email in rejected

    def test_grant_by_username_waits_for_the_signature(self, client, owned, publisher, researcher, changes):
        client.force_login(publisher)
        before = changes()
        response = client.post(console("access_grant", owned), {"username": researcher.username}, follow=True)
        assert "grant is approved, waiting for: your intended use, your signature" in response.content.decode()
        grant = Grant.objects.get(user=researcher, model=owned, status="pending")
        assert not grant.request.agreements.exists() and not Grant.objects.active().filter(pk=grant.pk).exists()
        assert changes()[len(before) :] == ["access.request.approved", "grant.created"]
        unknown = client.post(console("access_grant", owned), {"username": "nobody-here"}, follow=True)
        assert "No active account with the username nobody-here." in unknown.content.decode()

    def test_a_publisher_of_another_model_cannot_decide(self, owned, researcher):
        other = factories.UserFactory(role="publisher")
        factories.ModelFactory(publishers=[other])
        request = access_services.access_request_submit(actor=researcher, **application(owned))
        with pytest.raises(AccessDenied):
            access_services.access_request_approve(actor=other, access_request=request)


class TestReleases:
    def test_withdraw_and_restore_with_a_reason(self, client, owned, publisher, changes):
        release = owned.releases.get()
        client.force_login(publisher)
        before = changes()
        withdrawn = client.post(
            console("release_action", owned, release.version, "withdraw"), {"reason": "Bad shard."}, follow=True
        )
        release.refresh_from_db()
        assert (release.is_active, release.withdrawn_reason) == (False, "Bad shard.")
        restored = client.post(
            console("release_action", owned, release.version, "restore"), {"reason": "Fixed."}, follow=True
        )
        release.refresh_from_db()
        assert release.is_active
        assert changes()[len(before) :] == ["catalog.release.withdrawn", "catalog.release.restored"]
        assert [str(m) for m in withdrawn.context["messages"]] == ["Release 1.0 withdrawn."]
        assert [str(m) for m in restored.context["messages"]] == ["Release 1.0 restored."]

    def test_an_unknown_action_is_not_found(self, client, owned, publisher):
        client.force_login(publisher)
        assert client.post(console("release_action", owned, "1.0", "delete")).status_code == 404

    def test_an_index_error_is_shown_beside_the_field_the_service_names(self, client, owned, publisher):
        """The view asks the error which field it is about, never its (translatable) words."""
        client.force_login(publisher)
        taken = client.post(console("releases", owned), {"version": "1.0", "source": "s3://bucket/w/"})
        assert taken.status_code == 400
        assert taken.context["form"].errors == {"version": [f"{owned.full_name} already has a release 1.0."]}
        # The local backend cannot index a bucket: that is about the source.
        local = client.post(console("releases", owned), {"version": "2.0", "source": "s3://bucket/w/"})
        assert local.status_code == 400 and list(local.context["form"].errors) == ["source"]

    def test_a_withdrawal_needs_a_reason(self, owned):
        with pytest.raises(ValidationFailed, match="Say why"):
            release_withdraw(actor=None, release=owned.releases.get(), reason=" ")

    def test_a_withdrawn_release_refuses_downloads(self, client, owned, researcher, reviewer):
        access_services.access_request_approve(
            actor=reviewer, access_request=access_services.access_request_submit(actor=researcher, **application(owned))
        )
        release = release_withdraw(actor=None, release=owned.releases.get(), reason="Recalled.")
        client.force_login(researcher)
        url = reverse("downloads:resolve", args=[owned.namespace, owned.name, release.version, "config.json"])
        assert client.get(url).status_code == 403


class TestRoles:
    def test_an_admin_grants_the_publisher_role(self, client, admin_user, researcher, changes):
        client.force_login(admin_user)
        response = client.post(
            reverse("publish:roles"), {"email": researcher.email, "role": "publisher", "action": "grant"}
        )
        assert response.status_code == 302
        assert researcher.groups.filter(name="publisher").exists()
        assert changes() == ["account.role.granted"]

    def test_an_unknown_address_is_shown_beside_the_field(self, client, admin_user):
        client.force_login(admin_user)
        response = client.post(
            reverse("publish:roles"), {"email": "nobody@example.org", "role": "publisher", "action": "grant"}
        )
        assert response.status_code == 400 and "No account with this e-mail address." in response.content.decode()

    def test_publishers_need_a_second_factor(self, client, db):
        publisher = factories.UserFactory()
        role_grant(actor=None, user=publisher, role="publisher")
        client.force_login(publisher)
        response = client.get(reverse("publish:list"))
        assert response.status_code == 302 and "2fa" in response["Location"]


class TestViewAsResearcher:
    def test_the_draft_page_as_a_visitor_sees_it(self, client, draft, publisher, licence):
        make_policy(draft, licence, require_identity=True)
        factories.make_release(draft)
        client.force_login(publisher)
        url = reverse("catalog:model_detail", args=[draft.namespace, draft.name])
        own = client.get(url).content.decode()
        assert "config.json" in own  # the publisher sees the files they publish
        visitor = client.get(url + "?as=researcher").content.decode()
        assert "config.json" not in visitor and "A verified identity" in visitor
        assert "as a researcher who is not signed in would see it" in visitor


def test_the_command_line_import_records_who_asked(owned, publisher, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "weights.bin").write_bytes(b"abc")
    source = str(tmp_path / "src")
    call_command(
        "import_release", owned.full_name, "5.0", source, "--requested-by", publisher.email, stdout=io.StringIO()
    )
    job = ReleaseImport.objects.get(version="5.0")
    assert job.requested_by == publisher
    assert AuditEvent.objects.get(action="download.release_imported").actor == publisher


def test_every_surface_hides_a_draft_from_a_researcher(client, draft, licence, researcher, publisher):
    """Catalog, model page, apply page, download endpoints and the HF API agree on drafts."""
    make_policy(draft, licence)
    release = factories.make_release(draft)
    _, secret = token_create(actor=researcher, name="laptop")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    args = [draft.namespace, draft.name]
    client.force_login(researcher)
    assert client.get(reverse("catalog:model_detail", args=args)).status_code == 404
    assert client.get(reverse("apply:form", args=args)).status_code == 404
    for name, extra in [
        ("downloads:manifest", [release.version]),
        ("downloads:resolve", [release.version, "config.json"]),
    ]:
        assert client.get(reverse(name, args=[*args, *extra])).status_code == 404, name
    info = client.get(reverse("hf:model_info", args=args), **auth)
    assert (info.status_code, info["X-Error-Code"]) == (404, "RepoNotFound")
    model_publish(actor=publisher, model=draft)
    assert client.get(reverse("catalog:model_detail", args=args)).status_code == 200
    assert client.get(reverse("hf:model_info", args=args), **auth).status_code == 403  # known now; no grant


def test_the_list_shows_own_models_only(client, draft, model, publisher, admin_user):
    client.force_login(publisher)
    page = client.get(reverse("publish:list")).content.decode()
    assert draft.full_name in page and "none yet" in page and model.full_name not in page
    client.force_login(admin_user)
    page = client.get(reverse("publish:list")).content.decode()
    assert draft.full_name in page and model.full_name in page
