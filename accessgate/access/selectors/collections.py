"""Collections: looked up by name, what each member asks, which members an application leaves out."""

from django.utils.translation import gettext as _

from accessgate.catalog.models import Model

from ..models import (
    OPEN_STATUSES,
    AccessRequest,
    AttestationStatement,
    Collection,
    FormField,
    Grant,
    GrantStatus,
    RequestStatus,
)
from ..rules.requirements import Facts, application_problem, evaluate
from .policies import policy_for, reapply_after


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
