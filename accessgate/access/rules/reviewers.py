"""Who may still decide a request: the one eligibility rule, read by the reviewer check of every
decision (`services._checks.check_reviewer`) and by the escalation of stuck requests, so the two
never disagree.

A person is kept from deciding a request (`reviewer_problem`) when they are its applicant, have
recused themself, or share an institution or e-mail domain with the applicant while the policy
blocks conflicts. The eligible reviewers (`eligible_reviewers`) are the people assigned to the
model or to this one request, holding the reviewer role, active, with a second factor set up
(staff need one to reach the review pages), free of those problems, and not having approved in
this round already.
"""

from django.db.models import Q
from django.utils.translation import gettext as _

from accessgate.accounts.models import User
from accessgate.accounts.roles import Role, has_role
from accessgate.accounts.selectors import has_mfa

from ..models import AccessPolicy, AccessRequest, Decision, RequestStatus
from .conflicts import conflicts
from .staff import can_review


def reviewer_problem(user: User, access_request: AccessRequest, policy: AccessPolicy) -> str | None:
    """Why `user` may not decide `access_request`, as a sentence; None when nothing personal
    stands in the way (whether they review the model at all is `may_review`)."""
    if access_request.user_id == user.pk:
        return _("Nobody can review their own request.")
    if access_request.recusals.filter(reviewer=user).exists():
        return _("You recused yourself from this request; another reviewer must decide it.")
    shared = conflicts(user, access_request.user) if policy.conflict_blocks else []
    if shared:
        return _("You share %(shared)s with the applicant; this model's policy asks another reviewer to decide.") % {
            "shared": _(" and ").join(shared)
        }
    return None


def assigned_to_request(user: User, access_request: AccessRequest) -> bool:
    """An admin assigned `user` to this one request (they need the reviewer role still)."""
    return has_role(user, Role.REVIEWER) and access_request.extra_reviewers.filter(reviewer=user).exists()


def may_review(user: User, access_request: AccessRequest) -> bool:
    """The model's reviewers, publishers and admins, and a reviewer assigned to this request."""
    return can_review(user, access_request.model) or assigned_to_request(user, access_request)


def approved_this_round(access_request: AccessRequest) -> set[int]:
    """Who has approved since the request was last (re)submitted."""
    if access_request.status != RequestStatus.SUBMITTED:
        return set()
    return set(
        access_request.reviews.filter(
            decision=Decision.APPROVED, created_at__gte=access_request.submitted_at, reviewer__isnull=False
        ).values_list("reviewer_id", flat=True)
    )


def eligible_reviewers(access_request: AccessRequest, policy: AccessPolicy) -> list[User]:
    """The people who may still decide this request, in a stable order."""
    candidates = (
        User.objects.filter(
            Q(reviewed_models=access_request.model) | Q(extra_reviews__request=access_request),
            is_active=True,
            groups__name=Role.REVIEWER.value,
        )
        .distinct()
        .order_by("pk")
    )
    decided = approved_this_round(access_request)
    return [
        user
        for user in candidates
        if user.pk not in decided and has_mfa(user) and reviewer_problem(user, access_request, policy) is None
    ]


def approvals_still_needed(access_request: AccessRequest, policy: AccessPolicy) -> int:
    return max(0, policy.approvals_required - len(approved_this_round(access_request)))
