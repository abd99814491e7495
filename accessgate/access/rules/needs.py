"""What a model's whole current policy still needs before a grant on it may be usable.

Read-only rules of the one door (`services/door.py`): for one request and one model,
`needs_for` lists every rule of the model's *current* policy that does not hold yet, each as a
`Need` whose label (in the source language, as a grant stores it) the researcher reads after
"waiting for:". `cooldown_refusal` is the one rule that refuses instead of waiting.

The rules, in the order they are listed:
- approvals: `approvals_required` distinct eligible reviewers approved since the request was
  last submitted (or since its appeal was filed): never the applicant, not recused, not in a
  conflict of interest when the policy blocks conflicts, still a reviewer of the model, and,
  for an appeal, not one of those who rejected it. An automatic approval stands for them when
  the policy approves automatically (gating "auto", or "renewal_auto" for a renewal);
- the intended use, at least the policy's minimum length, as signed;
- answers to the current version of every required question;
- the signature: an agreement on the current licence and every current statement;
- a countersignature whose content digest is the signed application's (sign-off policies);
- the hard requirements and trainings (`requirements.unmet_labels`).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from accessgate.core.errors import PolicyNotMet

from ..models import AccessPolicy, AccessRequest, Agreement, Appeal, Decision, Gating, RequestKind, RequestStatus
from ..models.formfields import canonical_sha256
from ..models.signoffs import SignoffStatus
from .requirements import Facts, unmet_labels
from .reviewers import may_review, reviewer_problem

COOLDOWN = "cooldown"


@dataclass(frozen=True)
class Need:
    key: str  # approvals, intended_use, answers, signature, signoff, requirement
    label: str  # source language; translated where shown (`requirements.waiting_label`)


def latest_agreement(access_request: AccessRequest) -> Agreement | None:
    return access_request.agreements.order_by("-signed_at", "-id").first()


def content_digest(agreement: Agreement | None, *, official_name: str = "", official_email: str = "") -> str:
    """The digest of what a signing official reads and countersigns: the intended use, the
    answers (each with its question's version), and the people named (applicant, official)."""
    if agreement is None:
        return ""
    return canonical_sha256(
        {
            "intended_use": agreement.intended_use,
            "answers": [[a["key"], a.get("field_sha256", ""), a.get("value")] for a in agreement.answers],
            "applicant": [agreement.user.email, agreement.typed_name],
            "official": [official_name, official_email.lower()],
        }
    )


def signoff_covers(access_request: AccessRequest, agreement: Agreement | None = None) -> bool:
    """A countersignature covers this request's latest signed content."""
    agreement = agreement or latest_agreement(access_request)
    for signoff in access_request.signoffs.filter(status=SignoffStatus.SIGNED):
        expected = content_digest(agreement, official_name=signoff.official_name, official_email=signoff.official_email)
        if signoff.content_sha256 and signoff.content_sha256 == expected:
            return True
    return False


def _rejecters(access_request: AccessRequest) -> set[int]:
    """Who may not approve an appealed request besides the applicant: those who rejected it."""
    if not Appeal.objects.filter(request=access_request).exists():
        return set()
    return set(
        access_request.reviews.filter(decision=Decision.REJECTED, reviewer__isnull=False).values_list(
            "reviewer_id", flat=True
        )
    )


def eligible_approvals(access_request: AccessRequest, policy: AccessPolicy) -> tuple[list[int], bool]:
    """(the distinct eligible reviewers who approved, whether an automatic approval stands).
    Approvals count from the request's latest other decision on (a request for changes, or the
    rejection an appeal reviews): a resubmission or an appeal is decided afresh."""
    reviews = list(access_request.reviews.select_related("reviewer__profile").order_by("pk"))
    last_other = max((r.pk for r in reviews if r.decision != Decision.APPROVED), default=0)
    excluded = _rejecters(access_request)
    recused = set(access_request.recusals.values_list("reviewer_id", flat=True))
    automatic = policy.gating == Gating.AUTO or (access_request.kind == RequestKind.RENEWAL and policy.renewal_auto)
    seen: list[int] = []
    auto_approved = False
    for review in reviews:
        if review.pk < last_other or review.decision != Decision.APPROVED:
            continue
        reviewer = review.reviewer
        if reviewer is None:
            auto_approved = auto_approved or automatic
            continue
        if reviewer.pk in seen or reviewer.pk in recused | excluded:
            continue
        # The one eligibility rule of every decision (`rules.reviewers`): the model's reviewers
        # or one assigned to this request, not the applicant, not recused, not conflicted.
        if not may_review(reviewer, access_request) or reviewer_problem(reviewer, access_request, policy):
            continue
        seen.append(reviewer.pk)
    return seen, auto_approved


def _approvals_label(given: int, required: int) -> str:
    if given == 0 and required == 1:
        return gettext_noop("an approval")
    if given == 0:
        return gettext_noop("two approvals")
    return gettext_noop("a second approval")


def needs_for(
    access_request: AccessRequest,
    policy: AccessPolicy,
    *,
    agreement: Agreement | None = None,
    facts: Facts | None = None,
) -> list[Need]:
    """Every rule of `policy` (the model's current one) not yet met for a grant under
    `access_request` on `policy.model`; empty when the grant may be usable now."""
    needs: list[Need] = []
    approvers, auto_approved = eligible_approvals(access_request, policy)
    if not auto_approved and len(approvers) < policy.approvals_required:
        needs.append(Need("approvals", _approvals_label(len(approvers), policy.approvals_required)))
    agreement = agreement or latest_agreement(access_request)
    if agreement is None or len(agreement.intended_use.strip()) < policy.min_intended_use_chars:
        needs.append(Need("intended_use", gettext_noop("your intended use")))
    answered = {
        (a["key"], a.get("field_sha256"))
        for a in (agreement.answers if agreement else [])
        if a.get("value") not in (None, "", [], False)
    }
    unanswered = [
        f for f in policy.form_fields.filter(is_active=True, required=True) if (f.key, f.sha256) not in answered
    ]
    if unanswered:
        with translation.override(None):
            label = ngettext(
                "your answer to %(count)s question", "your answers to %(count)s questions", len(unanswered)
            ) % {"count": len(unanswered)}
        needs.append(Need("answers", label))
    signed = {a["sha256"] for a in agreement.attestations} if agreement else set()
    statements = set(policy.statements.filter(is_active=True).values_list("sha256", flat=True))
    if agreement is None or agreement.license_id != policy.license_id or not statements <= signed:
        needs.append(Need("signature", gettext_noop("your signature")))
    if policy.require_signoff and access_request.kind != RequestKind.RENEWAL:
        if not signoff_covers(access_request, agreement):
            needs.append(Need("signoff", gettext_noop("your signing official's countersignature")))
    needs.extend(Need("requirement", label) for label in unmet_labels(policy, facts or Facts(access_request.user)))
    return needs


def cooldown_until(
    access_request: AccessRequest, policy: AccessPolicy, *, now: datetime | None = None
) -> datetime | None:
    """The end of the policy's cooldown after a rejection of this person on this model (another
    request than this one), when it is still running; None otherwise."""
    if not policy.reapply_cooldown_days:
        return None
    rejected = (
        AccessRequest.objects.filter(
            user_id=access_request.user_id,
            model=policy.model,
            status=RequestStatus.REJECTED,
            decided_at__isnull=False,
        )
        .exclude(pk=access_request.pk)
        .order_by("-decided_at")
        .values_list("decided_at", flat=True)
        .first()
    )
    if rejected is None:
        return None
    until = rejected + timedelta(days=policy.reapply_cooldown_days)
    return until if until > (now or timezone.now()) else None


def cooldown_refusal(
    access_request: AccessRequest, policy: AccessPolicy, *, now: datetime | None = None
) -> PolicyNotMet | None:
    """The cooldown refuses (it never waits): no path gives access inside it."""
    until = cooldown_until(access_request, policy, now=now)
    if until is None:
        return None
    error = PolicyNotMet(
        _(
            "%(user)s was rejected for %(model)s less than %(days)s days ago; the policy's cooldown runs "
            "until %(until)s UTC, and no grant can be given before then."
        )
        % {
            "user": access_request.user.username,
            "model": policy.model.full_name,
            "days": policy.reapply_cooldown_days,
            "until": f"{until:%Y-%m-%d %H:%M}",
        }
    )
    error.reason = COOLDOWN
    return error
