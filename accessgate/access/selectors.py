from datetime import datetime, timedelta

from django.db.models import Case, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from accessgate.accounts.roles import Role, has_role
from accessgate.audit.actions import AuditAction
from accessgate.audit.selectors import latest_event
from accessgate.catalog.models import Model, Release
from accessgate.identity.selectors import name_matches

from .freemail import FREE_MAIL_DOMAINS
from .models import (
    OPEN_STATUSES,
    AccessPolicy,
    AccessRequest,
    Agreement,
    Appeal,
    AttestationStatement,
    Collection,
    Decision,
    Escalation,
    FormField,
    Grant,
    GrantStatus,
    RequestReviewer,
    RequestStatus,
    Review,
    ReviewerSettings,
    ReviewNotifications,
)
from .models.over_time import Closeout, CloseoutStatus, GrantPeriod
from .rules.conflicts import conflicts
from .rules.requirements import Facts, application_problem, blocked_country, evaluate
from .rules.staff import reviewable_models


def collection_by_name(namespace: str, name: str) -> Collection | None:
    return (
        Collection.objects.filter(namespace=namespace, name=name)
        .select_related("lead")
        .prefetch_related("members")
        .first()
    )


def member_left_out(user, model: Model) -> str:
    """Why a collection application leaves this member out for `user` ("" when it does not)."""
    policy = policy_for(model)
    if policy is None or model.is_draft:
        return _("%(full_name)s is not open for applications yet.") % {"full_name": model.full_name}
    if Grant.objects.filter(
        user=user, model=model, status__in=[GrantStatus.ACTIVE, GrantStatus.PENDING, GrantStatus.SUSPENDED]
    ).exists():
        return _("You already hold a grant on %(full_name)s.") % {"full_name": model.full_name}
    if AccessRequest.objects.filter(
        user=user, model=model, status__in=[*OPEN_STATUSES, RequestStatus.APPEALED]
    ).exists():
        return _("You already have an open request for %(full_name)s.") % {"full_name": model.full_name}
    until = reapply_after(user, model)
    if until is not None:
        return _(
            "Your last request for %(full_name)s was rejected; its policy's cooldown runs until %(until)s UTC."
        ) % {"full_name": model.full_name, "until": f"{until:%Y-%m-%d %H:%M}"}
    problem = application_problem(policy, Facts(user))
    return problem.message if problem else ""


def collection_statements(collection: Collection) -> list[AttestationStatement]:
    """The union of the members' current statements, each text asked once (by its sha256)."""
    seen, union = set(), []
    for statement in AttestationStatement.objects.filter(
        policy__model__collections=collection, is_active=True
    ).order_by("policy__model__namespace", "policy__model__name", "position", "pk"):
        if statement.sha256 not in seen:
            seen.add(statement.sha256)
            union.append(statement)
    return union


def collection_questions(collection: Collection) -> list[FormField]:
    """The union of the members' current questions, each key asked once."""
    seen, union = set(), []
    for question in FormField.objects.filter(policy__model__collections=collection, is_active=True).order_by(
        "policy__model__namespace", "policy__model__name", "position", "pk"
    ):
        if question.key not in seen:
            seen.add(question.key)
            union.append(question)
    return union


def collection_outlook(user, collection: Collection) -> list[dict]:
    """For the collection's page: each member, what its own policy asks beyond the one form
    (approvals, sign-off, trainings, requirements), and why it would be left out, if it would."""
    outlook = []
    for model in collection.members.order_by("namespace", "name"):
        policy = policy_for(model)
        asks = []
        if policy is not None:
            asks.append(_("two approvals") if policy.approvals_required == 2 else _("one approval"))
            if policy.gating == "auto":
                asks[-1] = _("automatic approval")
            if policy.require_signoff:
                asks.append(_("a signing official's countersignature"))
            asks += [r.label for r in evaluate(policy, Facts(user)) if r.key != "profile"]
        outlook.append({"model": model, "asks": asks, "left_out": member_left_out(user, model)})
    return outlook


def policy_for(model: Model) -> AccessPolicy | None:
    return AccessPolicy.objects.filter(model=model).select_related("license", "model").first()


def active_statements(policy: AccessPolicy):
    return policy.statements.filter(is_active=True)


def requests_of(user) -> QuerySet[AccessRequest]:
    return (
        AccessRequest.objects.filter(user=user)
        .select_related("model")
        .prefetch_related("grants")
        .order_by("-submitted_at")
    )


def grants_of(user) -> QuerySet[Grant]:
    latest_release = Subquery(
        Release.objects.filter(model=OuterRef("model"), is_active=True).order_by("-created_at").values("version")[:1]
    )
    signed = Subquery(
        Agreement.objects.filter(request=OuterRef("request")).order_by("-signed_at", "-id").values("license")[:1]
    )
    return (
        Grant.objects.filter(user=user)
        .with_is_active()
        .annotate(latest_version=latest_release, signed_licence=signed, current_licence=F("model__policy__license"))
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
        .select_related("model", "collection")
        .prefetch_related("agreements__license", "reviews", "grants__model")
        .first()
    )


def review_queue(reviewer, *, search: str = "", status: str = RequestStatus.SUBMITTED) -> QuerySet[AccessRequest]:
    """Requests on the models this reviewer covers (and the ones an admin assigned them to),
    oldest submission first; `escalated` marks those escalated in their current round."""
    requests = AccessRequest.objects.filter(reviewable_requests(reviewer)).select_related("model", "user__profile")
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
    # Overdue (past the policy's review target) first, then the oldest submission.
    overdue = Case(When(review_due_at__lt=timezone.now(), then=Value(1)), default=Value(0))
    return (
        requests.select_related("assigned_to")
        .annotate(overdue=overdue, escalated=escalated_now())
        .order_by("-overdue", "submitted_at", "pk")
    )


def reviewable_requests(reviewer) -> Q:
    """The requests a reviewer may open: their models', and any an admin assigned them to."""
    q = Q(model__in=reviewable_models(reviewer))
    if has_role(reviewer, Role.REVIEWER):
        q |= Q(pk__in=RequestReviewer.objects.filter(reviewer=reviewer).values("request_id"))
    return q


def escalated_now() -> Exists:
    """The request was escalated since it was last (re)submitted."""
    return Exists(Escalation.objects.filter(request=OuterRef("pk"), round=OuterRef("submitted_at")))


def queue_flags(access_request: AccessRequest, reviewer) -> list[str]:
    """What a reviewer should look at twice, for one queue row."""
    user = access_request.user
    facts = Facts(user)
    policy = policy_for(access_request.model)
    flags = []
    identity = facts.verification
    if identity is None:
        flags.append(_("identity not verified"))
    elif name_matches(identity, profile_name=facts.profile.full_name) is False:
        flags.append(_("verified name differs"))
    if user.email.rsplit("@", 1)[-1].lower() in FREE_MAIL_DOMAINS:
        flags.append(_("free-mail address"))
    if policy is not None and blocked_country(facts, policy):
        flags.append(_("blocked country"))
    if AccessRequest.objects.filter(user=user, status=RequestStatus.REJECTED).exclude(pk=access_request.pk).exists():
        flags.append(_("earlier rejection"))
    ips = Agreement.objects.filter(user=user, ip__isnull=False).values("ip")
    if Agreement.objects.filter(ip__in=ips).exclude(user=user).exists():
        flags.append(_("same IP as another account"))
    if conflicts(reviewer, user):
        flags.append(_("conflict of interest"))
    return flags


def request_for_review(reviewer, pk: int) -> AccessRequest | None:
    return (
        AccessRequest.objects.filter(reviewable_requests(reviewer), pk=pk)
        .select_related("model", "user__profile", "collection")
        .prefetch_related("agreements__license", Prefetch("reviews__reviewer"), "grants")
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
    if active_only:  # running: active, waiting for requirements, or suspended
        running = [GrantStatus.ACTIVE, GrantStatus.PENDING, GrantStatus.SUSPENDED]
        grants = grants.filter(status__in=running, expires_at__gt=timezone.now())
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


def own_grant_to_sign(user, pk: int) -> Grant | None:
    """The user's grant that is active or waiting (pending), for the signing pages."""
    running = Grant.objects.active().filter(user=user, pk=pk) | Grant.objects.filter(
        user=user, pk=pk, status=GrantStatus.PENDING
    )
    return running.select_related("model", "request").first()


def current_approvals(access_request: AccessRequest) -> QuerySet[Review]:
    """The approvals given since the request was last (re)submitted, oldest first."""
    if access_request.status != RequestStatus.SUBMITTED:
        return Review.objects.none()
    return (
        access_request.reviews.filter(decision=Decision.APPROVED, created_at__gte=access_request.submitted_at)
        .select_related("reviewer")
        .order_by("created_at", "pk")
    )


def last_answers(access_request: AccessRequest) -> dict:
    """The latest agreement's answers as form initial values (`field_<key>`)."""
    agreement = access_request.agreements.order_by("-signed_at", "-id").first()
    return {f"field_{a['key']}": a["value"] for a in agreement.answers} if agreement else {}


def appeal_of(access_request: AccessRequest) -> Appeal | None:
    return Appeal.objects.filter(request=access_request).select_related("decided_by").first()


def reapply_after(user, model: Model, *, now: datetime | None = None) -> datetime | None:
    """When a rejected applicant may apply for `model` again, if that is still in the future."""
    policy = policy_for(model)
    if policy is None or not policy.reapply_cooldown_days:
        return None
    rejected = (
        AccessRequest.objects.filter(user=user, model=model, status=RequestStatus.REJECTED, decided_at__isnull=False)
        .order_by("-decided_at")
        .values_list("decided_at", flat=True)
        .first()
    )
    if rejected is None:
        return None
    until = rejected + timedelta(days=policy.reapply_cooldown_days)
    return until if until > (now or timezone.now()) else None


def applicant_facts(access_request: AccessRequest, reviewer=None) -> dict:
    """What a reviewer sees beside a request: the policy checklist and the verified facts,
    each read once; the approvals so far, recusals, and what reviewer and applicant share."""
    facts = Facts(access_request.user)
    policy = policy_for(access_request.model)
    identity = facts.verification
    approvals = list(current_approvals(access_request))
    recusals = list(access_request.recusals.select_related("reviewer"))
    return {
        "policy": policy,
        "approvals": approvals,
        "approved_by_me": reviewer is not None and any(r.reviewer_id == reviewer.pk for r in approvals),
        "recusals": recusals,
        "notes": list(access_request.notes.select_related("author")),
        "appeal": appeal_of(access_request) if access_request.status == RequestStatus.APPEALED else None,
        "recused": reviewer is not None and any(r.reviewer_id == reviewer.pk for r in recusals),
        "conflicts": conflicts(reviewer, access_request.user) if reviewer is not None else [],
        "requirements": list(evaluate(policy, facts)) if policy else [],
        "verified_orcid": facts.orcid,
        "identity": identity,
        "identity_name_matches": name_matches(identity, profile_name=facts.profile.full_name) if identity else None,
    }


def audit_targets_of(user) -> dict[str, list[str]]:
    """The audit targets that belong to `user` in this app: their requests, agreements and
    grants (whoever acted on them), as {target_type: [target_id, ...]} for the audit filter."""
    owned: dict[str, type[AccessRequest | Agreement | Grant]] = {
        "access.accessrequest": AccessRequest,
        "access.agreement": Agreement,
        "access.grant": Grant,
    }
    return {
        target_type: [str(pk) for pk in model.objects.filter(user=user).values_list("pk", flat=True)]
        for target_type, model in owned.items()
    }


def review_notifications_of(user) -> str:
    preference = ReviewerSettings.objects.filter(user=user).values_list("notifications", flat=True).first()
    return preference or ReviewNotifications.EACH


AGREEMENT_ACTIONS = (
    AuditAction.ACCESS_REQUEST_SUBMITTED,
    AuditAction.ACCESS_REQUEST_RESUBMITTED,
    AuditAction.ACCESS_AGREEMENT_RENEWED,
    AuditAction.ACCESS_AGREEMENT_SIGNED,
    AuditAction.ACCESS_RENEWAL_SUBMITTED,
)
DECISION_ACTIONS = (
    AuditAction.ACCESS_REQUEST_APPROVED,
    AuditAction.ACCESS_REQUEST_REJECTED,
    AuditAction.ACCESS_REQUEST_CHANGES_REQUESTED,
    AuditAction.ACCESS_REQUEST_APPROVAL_RECORDED,  # the first of two approvals
    AuditAction.ACCESS_APPEAL_GRANTED,
    AuditAction.ACCESS_APPEAL_DENIED,
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
