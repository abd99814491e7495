"""Access over time: reminders (frozen clock), renewal, grace, close-out, ending a grant."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accessgate.access import services
from accessgate.access.models import (
    AccessRequest,
    Closeout,
    Grant,
    GrantPeriod,
    GrantStatus,
    ReminderSent,
    RequestKind,
    RequestStatus,
)
from accessgate.access.rules.downloads import download_check
from accessgate.access.services import QuestionSpec
from accessgate.audit.models import AuditEvent
from accessgate.core.errors import AccessDenied, Conflict, InvalidTransition, PolicyNotMet, ValidationFailed
from accessgate.identity.models import IdentityVerification, VerificationStatus
from accessgate.notifications.models import Email
from tests.support.applications import application, make_policy

from .. import factories

pytestmark = pytest.mark.django_db

REPORT = "We measured refusal rates on three benchmarks and published a preprint."


def approved_grant(user, model, reviewer, **overrides) -> Grant:
    request = services.access_request_submit(actor=user, **application(model, **overrides))
    return services.access_request_approve(actor=reviewer, access_request=request)


def renew(user, grant, *, now=None, **overrides):
    values = application(grant.model, progress_report=REPORT)
    values.pop("model")
    values.update(overrides)
    return services.renewal_submit(actor=user, grant=grant, now=now, **values)


def set_policy(model, **options):
    make_policy(model, model.policy.license, **options)
    model.policy.refresh_from_db()


# --- reminders ------------------------------------------------------------------------------


class TestReminders:
    def test_each_expiry_reminder_is_sent_once_at_its_day(self, researcher, model, reviewer, events):
        grant = approved_grant(researcher, model, reviewer)  # 30 days; policy default [30, 7, 1]
        set_policy(model, grant_days=30, renewal_window_days=0)
        expires = grant.expires_at
        Email.objects.all().delete()
        start = len(events())
        timeline = [
            (expires - timedelta(days=31), 0),  # before the first reminder day
            (expires - timedelta(days=29), 1),  # 30-day reminder
            (expires - timedelta(days=28), 0),  # the same run again: nothing new
            (expires - timedelta(days=6, hours=23), 1),  # 7-day
            (expires - timedelta(days=6), 0),
            (expires - timedelta(hours=20), 1),  # 1-day
            (expires - timedelta(hours=1), 0),
        ]
        for now, expected in timeline:
            sent = services.reminders_send_due(now=now)
            assert sent[ReminderSent.Kind.GRANT_EXPIRY] == expected, now
        keys = sorted(ReminderSent.objects.filter(kind="grant_expiry").values_list("key", flat=True))
        assert [k.split("/")[1] for k in keys] == ["1d", "30d", "7d"]
        emails = list(Email.objects.order_by("pk"))
        assert len(emails) == 3
        assert all(m.to == [researcher.email] for m in emails)
        assert "expires on" in emails[0].subject
        assert events()[start:] == ["access.reminder.sent"] * 3

    def test_a_late_run_sends_only_the_nearest_reminder(self, researcher, model, reviewer):
        grant = approved_grant(researcher, model, reviewer)
        sent = services.reminders_send_due(now=grant.expires_at - timedelta(days=3))
        assert sent[ReminderSent.Kind.GRANT_EXPIRY] == 1
        assert ReminderSent.objects.get(kind="grant_expiry").key.endswith("/7d")

    def test_no_expiry_reminder_while_a_renewal_is_pending(self, researcher, model, reviewer):
        grant = approved_grant(researcher, model, reviewer)
        renew(researcher, grant)
        assert services.reminders_send_due(now=grant.expires_at - timedelta(days=5))["grant_expiry"] == 0

    def test_licence_reminder_once_per_version_to_holders_who_have_not_accepted(
        self, researcher, other_researcher, model, reviewer
    ):
        grant = approved_grant(researcher, model, reviewer)
        approved_grant(other_researcher, model, reviewer, typed_name=other_researcher.profile.full_name)
        new = factories.LicenseFactory()
        make_policy(model, new)
        services.agreement_renew(
            actor=other_researcher,
            grant=Grant.objects.get(user=other_researcher),
            accepted_statement_ids=application(model)["accepted_statement_ids"],
            typed_name=other_researcher.profile.full_name,
        )
        Email.objects.all().delete()
        too_early = new.published_at + timedelta(days=1)
        assert services.reminders_send_due(now=too_early)["licence"] == 0
        later = new.published_at + timedelta(days=8)
        assert services.reminders_send_due(now=later)["licence"] == 1
        assert services.reminders_send_due(now=later + timedelta(hours=1))["licence"] == 0
        reminder = ReminderSent.objects.get(kind="licence")
        assert (reminder.subject, reminder.key, reminder.user) == (f"grant:{grant.pk}", f"licence:{new.pk}", researcher)
        assert (
            reverse("access:licence_accept", args=[grant.pk])
            in Email.objects.get(subject__contains="new licence").body_text
        )

    def test_identity_lapse_reminder(self, researcher, licence, reviewer):
        model = factories.ModelFactory(reviewers=[reviewer])
        make_policy(model, licence, require_identity=True, grant_days=60)
        now = timezone.now()
        verification = IdentityVerification.objects.create(
            user=researcher,
            provider="dev",
            session_id="vs_1",
            status=VerificationStatus.VERIFIED,
            expires_at=now + timedelta(days=40),
        )
        approved_grant(researcher, model, reviewer)
        assert services.reminders_send_due(now=now)["identity_lapse"] == 0
        assert services.reminders_send_due(now=now + timedelta(days=11))["identity_lapse"] == 1
        assert services.reminders_send_due(now=now + timedelta(days=12))["identity_lapse"] == 0
        assert services.reminders_send_due(now=now + timedelta(days=34))["identity_lapse"] == 1
        assert list(ReminderSent.objects.filter(kind="identity_lapse").values_list("subject", "key")) == [
            (f"identityverification:{verification.pk}", "7d"),
            (f"identityverification:{verification.pk}", "30d"),
        ]

    def test_the_beat_schedule_runs_the_reminders(self, settings):
        entry = settings.CELERY_BEAT_SCHEDULE["access-send-reminders"]
        assert entry["task"] == "accessgate.access.tasks.send_reminders"
        from accessgate.access.tasks import send_reminders

        assert send_reminders() == {
            "grant_expiry": 0,
            "identity_lapse": 0,
            "training_lapse": 0,
            "licence": 0,
            "closeout": 0,
        }


# --- renewal --------------------------------------------------------------------------------


class TestRenewal:
    def test_renewal_approved_before_expiry_extends_the_same_grant_without_a_gap(
        self, researcher, model, reviewer, events
    ):
        grant = approved_grant(researcher, model, reviewer)
        first_expiry = grant.expires_at
        start = len(events())
        renewal = renew(researcher, grant)
        assert (renewal.kind, renewal.renews, renewal.status) == (RequestKind.RENEWAL, grant, RequestStatus.SUBMITTED)
        assert renewal.agreements.get().license == model.policy.license
        services.access_request_approve(actor=reviewer, access_request=renewal)
        grant.refresh_from_db()
        assert grant.status == GrantStatus.ACTIVE
        assert grant.expires_at == first_expiry + timedelta(days=30)
        periods = list(grant.periods.order_by("starts_at"))
        assert [p.kind for p in periods] == ["original", "renewal"]
        assert periods[0].ends_at == periods[1].starts_at == first_expiry  # no gap
        assert periods[1].request == renewal and periods[1].approved_by == reviewer
        assert Grant.objects.filter(user=researcher).count() == 1
        assert events()[start:] == ["access.renewal.submitted", "grant.renewed", "access.request.approved"]
        event = AuditEvent.objects.get(action="grant.renewed")
        assert event.details["previous_expires_at"] == first_expiry.isoformat()
        assert event.details["late"] is False

    def test_a_renewal_needs_two_reviewers_when_the_policy_says_two(self, researcher, model, reviewer, events):
        grant = approved_grant(researcher, model, reviewer)
        set_policy(model, approvals_required=2)
        second = factories.UserFactory(role="reviewer")
        model.reviewers.add(second)
        first_expiry = grant.expires_at
        renewal = renew(researcher, grant)
        start = len(events())
        assert services.access_request_approve(actor=reviewer, access_request=renewal) is None
        renewal.refresh_from_db()
        grant.refresh_from_db()
        assert (renewal.status, grant.expires_at) == (RequestStatus.SUBMITTED, first_expiry)
        assert events()[start:] == ["access.request.approval_recorded"]
        with pytest.raises(Conflict, match="already approved"):
            services.access_request_approve(actor=reviewer, access_request=renewal)
        services.access_request_approve(actor=second, access_request=renewal)
        grant.refresh_from_db()
        assert grant.expires_at == first_expiry + timedelta(days=30)
        assert events()[start + 1 :] == ["grant.renewed", "access.request.approved"]
        approved = AuditEvent.objects.get(action="access.request.approved", target_id=str(renewal.pk))
        assert approved.details["approved_by"] == [reviewer.email, second.email]

    def test_a_renewal_carries_the_custom_answers_last_signed(self, researcher, model, reviewer):
        set_policy(model, form_fields=[QuestionSpec("project", "Project name")])
        grant = approved_grant(researcher, model, reviewer, answers={"project": "Refusal study"})
        renewal = renew(researcher, grant)
        assert [a["value"] for a in renewal.agreements.get().answers] == ["Refusal study"]

    def test_renewal_window_and_progress_report_are_enforced(self, researcher, model, reviewer):
        grant = approved_grant(researcher, model, reviewer)
        set_policy(model, renewal_window_days=7)
        with pytest.raises(InvalidTransition, match="You can renew from"):
            renew(researcher, grant)
        inside = grant.expires_at - timedelta(days=3)
        with pytest.raises(ValidationFailed, match="progress report"):
            renew(researcher, grant, now=inside, progress_report="  ")
        renew(researcher, grant, now=inside)
        with pytest.raises(InvalidTransition, match="already waiting"):
            renew(researcher, grant, now=inside)

    def test_only_the_holder_renews(self, researcher, other_researcher, model, reviewer):
        grant = approved_grant(researcher, model, reviewer)
        with pytest.raises(AccessDenied):
            renew(other_researcher, grant, typed_name=other_researcher.profile.full_name)
        assert not AccessRequest.objects.filter(kind=RequestKind.RENEWAL).exists()

    def test_auto_renew_when_every_requirement_holds(self, researcher, model, reviewer, events):
        grant = approved_grant(researcher, model, reviewer)
        set_policy(model, renewal_auto=True)
        renewal = renew(researcher, grant)
        assert renewal.status == RequestStatus.APPROVED
        grant.refresh_from_db()
        assert grant.periods.last().approved_by is None
        assert events()[-2:] == ["grant.renewed", "access.request.approved"]

    def test_auto_renew_falls_back_to_review_when_a_requirement_lapsed(self, researcher, model, reviewer):
        grant = approved_grant(researcher, model, reviewer)
        set_policy(model, renewal_auto=True, require_orcid=True)
        assert renew(researcher, grant).status == RequestStatus.SUBMITTED

    def test_downloads_continue_in_the_grace_of_a_timely_renewal(self, researcher, model, reviewer):
        grant = approved_grant(researcher, model, reviewer)
        release = model.releases.get()
        original_expiry = grant.expires_at
        renewal = renew(researcher, grant, now=original_expiry - timedelta(days=1))
        assert renewal.renewal_grace_until == original_expiry + timedelta(days=14)
        # The clock moves past the expiry: the grant stays in effect for the grace.
        now = timezone.now()
        Grant.objects.filter(pk=grant.pk).update(
            expires_at=now - timedelta(hours=1), granted_at=now - timedelta(days=30)
        )
        AccessRequest.objects.filter(pk=renewal.pk).update(renewal_grace_until=now + timedelta(days=13))
        assert download_check(researcher, release) == grant
        assert services.grant_expire_due() == 0
        # Past the grace it ends, and the expiry job marks it.
        assert not Grant.objects.active(now=now + timedelta(days=14)).filter(pk=grant.pk).exists()
        # An approval in the grace continues from the old expiry: no gap.
        services.access_request_approve(actor=reviewer, access_request=renewal)
        grant.refresh_from_db()
        assert grant.expires_at == now - timedelta(hours=1) + timedelta(days=30)
        assert AuditEvent.objects.get(action="grant.renewed").details["late"] is True

    def test_rejected_renewal_ends_the_grace(self, researcher, model, reviewer):
        grant = approved_grant(researcher, model, reviewer)
        renewal = renew(researcher, grant)
        now = timezone.now()
        Grant.objects.filter(pk=grant.pk).update(
            expires_at=now - timedelta(hours=1), granted_at=now - timedelta(days=30)
        )
        assert Grant.objects.active().filter(pk=grant.pk).exists()
        services.access_request_reject(actor=reviewer, access_request=renewal, reason="No progress shown.")
        assert not Grant.objects.active().filter(pk=grant.pk).exists()
        assert services.grant_expire_due() == 1
        with pytest.raises(AccessDenied, match="expired"):
            download_check(researcher, model.releases.get())


# --- close-out ------------------------------------------------------------------------------


class TestCloseout:
    @pytest.fixture
    def closeout_model(self, model):
        set_policy(model, require_closeout=True, closeout_days=10, closeout_blocks_requests=True)
        return model

    def test_an_expired_grant_asks_for_a_closeout(self, researcher, closeout_model, reviewer, events):
        grant = approved_grant(researcher, closeout_model, reviewer)
        Email.objects.all().delete()
        start = len(events())
        later = grant.expires_at + timedelta(minutes=1)
        assert services.grant_expire_due(now=later) == 1
        closeout = Closeout.objects.get(grant=grant)
        assert (closeout.reason, closeout.status, closeout.due_at) == ("expired", "due", later + timedelta(days=10))
        assert events()[start:] == ["grant.expired", "access.closeout.opened"]
        assert Email.objects.get().to == [researcher.email]
        assert reverse("access:closeout", args=[closeout.pk]) in Email.objects.get().body_text

    def test_an_overdue_closeout_blocks_a_new_request_and_filing_unblocks(
        self, researcher, closeout_model, reviewer, events
    ):
        grant = approved_grant(researcher, closeout_model, reviewer)
        Grant.objects.filter(pk=grant.pk).update(
            granted_at=timezone.now() - timedelta(days=60), expires_at=timezone.now() - timedelta(days=30)
        )
        services.grant_expire_due()
        closeout = grant.closeout
        # Not yet overdue (10 days to file): applying again works... until it is.
        Closeout.objects.filter(pk=closeout.pk).update(due_at=timezone.now() - timedelta(days=1))
        with pytest.raises(PolicyNotMet, match="File the overdue close-out"):
            services.access_request_submit(actor=researcher, **application(closeout_model))
        # It is flagged to reviewers, and reminded once.
        from accessgate.access.selectors import closeouts_for_review

        assert list(closeouts_for_review(reviewer, overdue_only=True)) == [closeout]
        assert services.reminders_send_due()["closeout"] == 1
        assert services.reminders_send_due()["closeout"] == 0
        start = len(events())
        services.closeout_file(
            actor=researcher,
            closeout=closeout,
            deleted_everywhere=True,
            systems="lab-gpu-01\ns3://lab-bucket/weights",
            typed_name="Rosalind Franklin",
        )
        assert events()[start:] == ["access.closeout.filed"]
        event = AuditEvent.objects.get(action="access.closeout.filed")
        assert event.details["late"] is True and event.details["deleted_everywhere"] is True
        request = services.access_request_submit(actor=researcher, **application(closeout_model))
        assert request.status == RequestStatus.SUBMITTED

    def test_the_block_is_the_policy_option(self, researcher, model, reviewer, licence):
        set_policy(model, require_closeout=True, closeout_days=1)
        grant = approved_grant(researcher, model, reviewer)
        services.grant_end(actor=researcher, grant=grant)
        Closeout.objects.filter(grant=grant).update(due_at=timezone.now() - timedelta(days=1))
        assert services.access_request_submit(actor=researcher, **application(model)).status == "submitted"

    def test_filing_needs_systems_and_what_remains(self, researcher, closeout_model, reviewer, other_researcher):
        grant = approved_grant(researcher, closeout_model, reviewer)
        services.grant_end(actor=researcher, grant=grant)
        closeout = grant.closeout
        args = {"closeout": closeout, "typed_name": "Rosalind Franklin"}
        with pytest.raises(ValidationFailed, match="List every system"):
            services.closeout_file(actor=researcher, deleted_everywhere=True, systems=" ", **args)
        with pytest.raises(ValidationFailed, match="what remains"):
            services.closeout_file(actor=researcher, deleted_everywhere=False, systems="laptop", **args)
        with pytest.raises(AccessDenied):
            services.closeout_file(actor=other_researcher, deleted_everywhere=True, systems="laptop", **args)
        filed = services.closeout_file(
            actor=researcher, deleted_everywhere=False, systems="laptop", remaining="A paper's figures.", **args
        )
        assert (filed.status, filed.remaining) == ("filed", "A paper's figures.")
        with pytest.raises(InvalidTransition, match="already filed"):
            services.closeout_file(actor=researcher, deleted_everywhere=True, systems="laptop", **args)

    def test_revocation_asks_for_a_closeout(self, researcher, closeout_model, reviewer, events):
        grant = approved_grant(researcher, closeout_model, reviewer)
        start = len(events())
        services.grant_revoke(actor=reviewer, grant=grant, reason="Licence breach.")
        assert events()[start:] == ["grant.revoked", "access.closeout.opened"]
        assert grant.closeout.reason == "revoked"


class TestEndMyAccess:
    def test_the_holder_ends_their_grant(self, researcher, model, reviewer, events):
        set_policy(model, require_closeout=True)
        grant = approved_grant(researcher, model, reviewer)
        renewal = renew(researcher, grant)
        start = len(events())
        services.grant_end(actor=researcher, grant=grant)
        grant.refresh_from_db()
        renewal.refresh_from_db()
        assert grant.status == GrantStatus.ENDED and renewal.status == RequestStatus.WITHDRAWN
        assert events()[start:] == ["grant.ended", "access.request.withdrawn", "access.closeout.opened"]
        with pytest.raises(AccessDenied, match="You ended your access"):
            download_check(researcher, model.releases.get())

    def test_nobody_else_ends_it(self, researcher, other_researcher, model, reviewer):
        grant = approved_grant(researcher, model, reviewer)
        for actor in (other_researcher, reviewer):
            with pytest.raises(AccessDenied):
                services.grant_end(actor=actor, grant=grant)
        grant.refresh_from_db()
        assert grant.status == GrantStatus.ACTIVE


def test_existing_grants_get_their_original_period(researcher, model, reviewer):
    grant = approved_grant(researcher, model, reviewer)
    period = GrantPeriod.objects.get(grant=grant)
    assert (period.kind, period.starts_at, period.ends_at) == ("original", grant.granted_at, grant.expires_at)
