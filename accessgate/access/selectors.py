from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from accessgate.audit.actions import AuditAction
from accessgate.audit.selectors import latest_event
from accessgate.catalog.models import Model, Release
from accessgate.identity.selectors import name_matches

from .models import OPEN_STATUSES, AccessPolicy, AccessRequest, Agreement, Grant, RequestStatus
from .models_over_time import Closeout, CloseoutStatus, GrantPeriod
from .policy import reviewable_models
from .requirements import Facts, evaluate


def policy_for(model: Model) -> AccessPolicy | None:
    return AccessPolicy.objects.filter(model=model).select_related("license", "model").first()


def active_statements(policy: AccessPolicy):
    return policy.statements.filter(is_active=True)


def requests_of(user) -> QuerySet[AccessRequest]:
    return AccessRequest.objects.filter(user=user).select_related("model", "grant").order_by("-submitted_at")


def grants_of(user) -> QuerySet[Grant]:
    latest_release = Subquery(
        Release.objects.filter(model=OuterRef("model"), is_active=True).order_by("-created_at").values("version")[:1]
    )
    return (
        Grant.objects.filter(user=user)
        .with_is_active()
        .annotate(latest_version=latest_release)
        # A grant a reviewer gave directly has nothing signed until its holder signs.
        .annotate(unsigned=~Exists(Agreement.objects.filter(request=OuterRef("request"))))
        .select_related("model")
        .order_by("-granted_at")
    )


def open_request(user, model: Model) -> AccessRequest | None:
    if not user.is_authenticated:
        return None
    return AccessRequest.objects.filter(user=user, model=model, status__in=OPEN_STATUSES).first()


def own_request(user, pk: int) -> AccessRequest | None:
    return (
        AccessRequest.objects.filter(user=user, pk=pk)
        .select_related("model", "grant")
        .prefetch_related("agreements__license", "reviews")
        .first()
    )


def review_queue(reviewer, *, search: str = "", status: str = RequestStatus.SUBMITTED) -> QuerySet[AccessRequest]:
    """Requests on the models this reviewer covers, oldest submission first."""
    requests = AccessRequest.objects.filter(model__in=reviewable_models(reviewer)).select_related(
        "model", "user__profile"
    )
    if status:
        requests = requests.filter(status=status)
    search = search.strip()
    if search:
        requests = requests.filter(
            Q(user__email__icontains=search)
            | Q(user__profile__full_name__icontains=search)
            | Q(user__profile__affiliation__icontains=search)
            | Q(model__name__icontains=search)
            | Q(model__namespace__icontains=search)
        )
    return requests.order_by("submitted_at", "pk")


def request_for_review(reviewer, pk: int) -> AccessRequest | None:
    return (
        AccessRequest.objects.filter(pk=pk, model__in=reviewable_models(reviewer))
        .select_related("model", "user__profile", "grant")
        .prefetch_related("agreements__license", Prefetch("reviews__reviewer"))
        .first()
    )


def applicant_history(access_request: AccessRequest) -> QuerySet[AccessRequest]:
    """The applicant's other requests, for any model, newest first."""
    return (
        AccessRequest.objects.filter(user=access_request.user)
        .exclude(pk=access_request.pk)
        .select_related("model")
        .prefetch_related("reviews")
        .order_by("-submitted_at")
    )


def grants_for_review(reviewer, *, search: str = "", active_only: bool = True) -> QuerySet[Grant]:
    grants = Grant.objects.filter(model__in=reviewable_models(reviewer)).with_is_active()
    if active_only:
        grants = grants.active()
    search = search.strip()
    if search:
        grants = grants.filter(
            Q(user__email__icontains=search)
            | Q(user__profile__full_name__icontains=search)
            | Q(model__name__icontains=search)
        )
    return grants.select_related("model", "user__profile").order_by("-granted_at")


def grant_for_review(reviewer, pk: int) -> Grant | None:
    return (
        Grant.objects.filter(pk=pk, model__in=reviewable_models(reviewer))
        .with_is_active()
        .select_related("model", "user__profile")
        .first()
    )


def own_active_grant(user, pk: int) -> Grant | None:
    return Grant.objects.active().filter(user=user, pk=pk).select_related("model", "request").first()


def applicant_facts(access_request: AccessRequest) -> dict:
    """What a reviewer sees beside a request: the policy checklist and the verified facts,
    each read once."""
    facts = Facts(access_request.user)
    policy = policy_for(access_request.model)
    identity = facts.verification
    return {
        "policy": policy,
        "requirements": list(evaluate(policy, facts)) if policy else [],
        "verified_orcid": facts.orcid,
        "identity": identity,
        "identity_name_matches": name_matches(identity, profile_name=facts.profile.full_name) if identity else None,
    }


AGREEMENT_ACTIONS = (
    AuditAction.ACCESS_REQUEST_SUBMITTED,
    AuditAction.ACCESS_REQUEST_RESUBMITTED,
    AuditAction.ACCESS_AGREEMENT_RENEWED,
    AuditAction.ACCESS_RENEWAL_SUBMITTED,
)
DECISION_ACTIONS = (
    AuditAction.ACCESS_REQUEST_APPROVED,
    AuditAction.ACCESS_REQUEST_REJECTED,
    AuditAction.ACCESS_REQUEST_CHANGES_REQUESTED,
)


def agreement_event(access_request: AccessRequest):
    """The audit event that recorded the request's latest signed agreement."""
    agreement = access_request.agreements.order_by("-signed_at", "-id").first()
    if agreement is None:
        return None
    return latest_event(actions=AGREEMENT_ACTIONS, agreement_id=agreement.pk)


def decision_event(access_request: AccessRequest, reviewer):
    """The audit event of `reviewer`'s latest decision on the request."""
    return latest_event(actions=DECISION_ACTIONS, target=access_request, actor=reviewer)


# --- access over time ----------------------------------------------------------------------


def own_grant(user, pk: int) -> Grant | None:
    return (
        Grant.objects.filter(user=user, pk=pk)
        .with_is_active()
        .select_related("model", "request")
        .prefetch_related("periods__request", "renewals")
        .first()
    )


def grant_history(grant: Grant) -> QuerySet[GrantPeriod]:
    return grant.periods.select_related("request", "approved_by").order_by("starts_at", "pk")


def own_closeout(user, pk: int) -> Closeout | None:
    return Closeout.objects.filter(user=user, pk=pk).select_related("grant__model").first()


def closeouts_of(user) -> QuerySet[Closeout]:
    return Closeout.objects.filter(user=user).select_related("grant__model").order_by("-opened_at")


def closeouts_for_review(reviewer, *, overdue_only: bool = False, now=None) -> QuerySet[Closeout]:
    """Close-outs on the models this reviewer covers, overdue (unfiled, past due) first."""
    closeouts = Closeout.objects.filter(grant__model__in=reviewable_models(reviewer)).select_related(
        "grant__model", "user__profile"
    )
    if overdue_only:
        closeouts = closeouts.filter(status=CloseoutStatus.DUE, due_at__lte=now or timezone.now())
    return closeouts.order_by("status", "due_at", "pk")
