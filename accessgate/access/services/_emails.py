"""The e-mails of the request life cycle (private to the package)."""

from django.conf import settings
from django.urls import reverse

from accessgate.accounts.roles import Role
from accessgate.accounts.selectors import profile_for, users_with_role
from accessgate.catalog.models import Model
from accessgate.notifications.services import email_queue

from ..models import AccessRequest, ReviewerSettings, ReviewNotifications
from ..selectors import policy_for


def _reviewer_emails(model: Model) -> list[str]:
    """Who hears of each new request at once: the model's reviewers (else the admins), except
    those who chose the daily digest, and the policy's notification address."""
    reviewers = list(model.reviewers.filter(is_active=True, groups__name=Role.REVIEWER.value))
    reviewers = reviewers or list(users_with_role(Role.ADMIN))
    digest = set(
        ReviewerSettings.objects.filter(user__in=reviewers, notifications=ReviewNotifications.DIGEST).values_list(
            "user_id", flat=True
        )
    )
    emails = [user.email for user in reviewers if user.pk not in digest]
    policy = policy_for(model)
    if policy is not None and policy.notification_email and policy.notification_email not in emails:
        emails.append(policy.notification_email)
    return emails


def _context(access_request: AccessRequest, **extra) -> dict:
    return {
        "applicant_name": profile_for(access_request.user).full_name or access_request.user.email,
        "model_name": access_request.model.full_name,
        "model_display_name": access_request.model.display_name,
        "request_id": access_request.pk,
        "request_url": settings.SITE_URL + reverse("access:request_detail", args=[access_request.pk]),
        "review_url": settings.SITE_URL + reverse("review:detail", args=[access_request.pk]),
        **extra,
    }


def email_applicant(access_request: AccessRequest, template: str, **extra) -> None:
    email_queue(to=[access_request.user.email], template=template, context=_context(access_request, **extra))


def email_reviewers(access_request: AccessRequest, *, resubmitted: bool, appeal: str = "") -> None:
    to = _reviewer_emails(access_request.model)
    if not to:
        return
    email_queue(
        to=to,
        template="review_new_request",
        context=_context(access_request, resubmitted=resubmitted, appeal=appeal),
    )


def email_user(user, template: str, **context) -> None:
    """An e-mail about access over time (close-outs, renewals, reminders) to one researcher.
    `*_path` values become absolute links as `*_url`."""
    links = {
        key[: -len("_path")] + "_url": settings.SITE_URL + value
        for key, value in context.items()
        if key.endswith("_path")
    }
    email_queue(
        to=[user.email],
        template=template,
        context={"name": profile_for(user).full_name or user.email, **context, **links},
    )
