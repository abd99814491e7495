"""What every application path checks before it changes anything (private to the package)."""

from collections.abc import Collection, Mapping
from typing import Any

from django.utils.translation import gettext as _

from accessgate.accounts.models import Profile, User, same_person_name
from accessgate.accounts.selectors import profile_for
from accessgate.catalog.models import Model
from accessgate.core.errors import AccessDenied, Conflict, PolicyNotMet, ValidationFailed

from ..models import AccessPolicy, AccessRequest, AttestationStatement
from ..rules.answers import clean_answers
from ..rules.needs import signoff_covers
from ..rules.requirements import Facts, application_problem, profile_incomplete
from ..rules.reviewers import may_review, reviewer_problem
from ..selectors import policy_for


def locked(access_request: AccessRequest) -> AccessRequest:
    return AccessRequest.objects.select_for_update().select_related("model", "user").get(pk=access_request.pk)


def policy_of(model: Model) -> AccessPolicy:
    """The model's policy, or the refusal to apply for a model that has none yet."""
    policy = policy_for(model)
    if policy is None or model.is_draft:
        raise PolicyNotMet(_("%(full_name)s is not open for applications yet.") % {"full_name": model.full_name})
    return policy


def check_requirements(policy: AccessPolicy, user: User) -> None:
    """Blocked countries refuse every application; automatic approval needs every requirement.
    (Manual policies accept the application and show the reviewer which requirements hold.)"""
    problem = application_problem(policy, Facts(user))
    if problem:
        raise problem


def check_profile(user: User) -> Profile:
    profile = profile_for(user)
    if not profile.is_complete:
        raise PolicyNotMet(profile_incomplete(profile))
    return profile


def check_shown(policy: AccessPolicy, shown_license_sha256: str | None) -> None:
    """A client that shows the licence itself says which text it showed; a stale one is refused."""
    if shown_license_sha256 is not None and shown_license_sha256 != policy.license.sha256:
        raise Conflict(
            _(
                "The licence of %(full_name)s is now %(license)s (sha256 %(sha256)s), not the text that was shown. "
                "Show the current licence and statements and ask again."
            )
            % {"full_name": policy.model.full_name, "license": policy.license, "sha256": policy.license.sha256},
            field="license_sha256",
        )


def check_statements(policy: AccessPolicy, accepted_statement_ids: Collection[int]) -> list[AttestationStatement]:
    statements = list(policy.statements.filter(is_active=True))
    unknown = set(accepted_statement_ids) - {s.pk for s in statements}
    if unknown:
        raise Conflict(
            _(
                "Statements %(ids)s are not among the current statements of %(full_name)s. Show the current "
                "statements and ask again."
            )
            % {"ids": ", ".join(map(str, sorted(unknown))), "full_name": policy.model.full_name},
            field="statements",
        )
    missing = [s for s in statements if s.pk not in set(accepted_statement_ids)]
    if missing:
        raise ValidationFailed(
            _("Tick every statement to apply; %(missing)s of %(statements)s are not ticked.")
            % {"missing": len(missing), "statements": len(statements)},
            field="statements",
        )
    return statements


def check_signature(profile: Profile, typed_name: str) -> None:
    if not same_person_name(typed_name, profile.full_name):
        raise ValidationFailed(
            _("Type your full name exactly as in your profile (%(full_name)s) to sign.")
            % {"full_name": profile.full_name},
            field="typed_name",
        )


def check_application(
    *,
    policy: AccessPolicy,
    user: User,
    intended_use: str,
    accepted_statement_ids: Collection[int],
    typed_name: str,
    answers: Mapping[str, Any] | None = None,
    shown_license_sha256: str | None = None,
) -> tuple[str, list[AttestationStatement], list[dict]]:
    check_shown(policy, shown_license_sha256)
    profile = check_profile(user)
    intended_use = intended_use.strip()
    if len(intended_use) < policy.min_intended_use_chars:
        raise ValidationFailed(
            _("Describe your intended use in at least %(minimum)s characters (you wrote %(length)s).")
            % {"minimum": policy.min_intended_use_chars, "length": len(intended_use)},
            field="intended_use",
        )
    cleaned_answers = clean_answers(policy.form_fields.filter(is_active=True), answers or {})
    statements = check_statements(policy, accepted_statement_ids)
    check_signature(profile, typed_name)
    return intended_use, statements, cleaned_answers


def check_reviewer(actor: User, access_request: AccessRequest) -> None:
    """Who may decide this request: a reviewer of the model (or an admin, or a reviewer an admin
    assigned to this request), with nothing personal in the way (`rules.reviewers`, the same
    rule the escalation of stuck requests counts with)."""
    if access_request.user_id != actor.pk and not may_review(actor, access_request):
        raise AccessDenied(
            _("You are not a reviewer of %(full_name)s.") % {"full_name": access_request.model.full_name}
        )
    problem = reviewer_problem(actor, access_request, policy_of(access_request.model))
    if problem:
        raise AccessDenied(problem)


def check_signoff(access_request: AccessRequest, policy: AccessPolicy) -> None:
    """Refuse to decide an application that still waits for its countersignature."""
    if not policy.require_signoff or access_request.renews_id:
        return
    if not signoff_covers(access_request):
        # A countersignature covers the content it saw: a resubmission voids it.
        raise PolicyNotMet(_("This request waits for the signing official's countersignature."))
