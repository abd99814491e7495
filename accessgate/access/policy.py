"""The one module that decides who may review a model and who may download its weights.

The per-object checks and the set queries are built on the same `Grant.objects.active()`
and the same rules, and a test checks that they agree.
"""

from dataclasses import dataclass

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.urls import reverse

from accessgate.accounts.roles import Role, has_role
from accessgate.accounts.selectors import has_mfa, profile_for, verified_emails, verified_orcid
from accessgate.catalog.models import Model, Release
from accessgate.errors import AccessDenied, DomainError, PolicyNotMet
from accessgate.identity.selectors import active_verification

from .models import AccessPolicy, Agreement, Grant, GrantStatus


@dataclass(frozen=True)
class Requirement:
    key: str
    label: str
    met: bool
    help_url: str = ""
    detail: str = ""


def email_domain_allowed(email: str, policy: AccessPolicy) -> bool:
    domain = email.rsplit("@", 1)[-1].lower()

    def under(candidates):
        return any(domain == d.lower() or domain.endswith("." + d.lower()) for d in candidates)

    if under(policy.denied_email_domains):
        return False
    return under(policy.institutional_domains) if policy.institutional_domains else True


def blocked_country(user, policy: AccessPolicy) -> str | None:
    """The first of the user's countries (profile, identity document) that the policy blocks."""
    if not policy.blocked_countries:
        return None
    verification = active_verification(user)
    countries = [str(profile_for(user).country), verification.document_country if verification else ""]
    blocked = {code.upper() for code in policy.blocked_countries}
    return next((code for code in countries if code and code.upper() in blocked), None)


def requirements_for(user, policy: AccessPolicy) -> list[Requirement]:
    """The checklist a researcher sees before applying, and a reviewer sees beside a request."""
    profile = profile_for(user)
    items = [
        Requirement(
            "profile",
            "A complete profile",
            profile.is_complete,
            reverse("accounts:profile"),
            "" if profile.is_complete else f"Missing: {', '.join(profile.missing_fields)}",
        )
    ]
    if policy.require_identity:
        verification = active_verification(user)
        items.append(
            Requirement(
                "identity",
                "A verified identity (document and selfie)",
                verification is not None,
                reverse("identity:status"),
                f"Verified until {verification.expires_at:%Y-%m-%d}" if verification else "",
            )
        )
    if policy.require_mfa:
        items.append(Requirement("mfa", "Two-factor authentication", has_mfa(user), reverse("mfa_index")))
    if policy.require_orcid:
        orcid = verified_orcid(user)
        items.append(
            Requirement("orcid", "A verified ORCID iD", orcid is not None, reverse("accounts:profile"), orcid or "")
        )
    if policy.require_institutional_email:
        matching = [e for e in verified_emails(user) if email_domain_allowed(e, policy)]
        allowed = ", ".join(policy.institutional_domains) if policy.institutional_domains else "no free-mail domains"
        items.append(
            Requirement(
                "institutional_email",
                f"A verified institutional e-mail ({allowed})",
                bool(matching),
                reverse("account_email"),
                matching[0] if matching else "",
            )
        )
    if policy.blocked_countries:
        country = blocked_country(user, policy)
        items.append(
            Requirement(
                "country",
                "Not resident in or documented by a country this model is not available in",
                country is None,
                "",
                f"{country} is not eligible" if country else "",
            )
        )
    return items


def reviewable_models(user) -> QuerySet[Model]:
    if has_role(user, Role.ADMIN):
        return Model.objects.all()
    if has_role(user, Role.REVIEWER):
        return Model.objects.filter(reviewers=user)
    return Model.objects.none()


def can_review(user, model: Model) -> bool:
    if has_role(user, Role.ADMIN):
        return True
    return has_role(user, Role.REVIEWER) and model.reviewers.filter(pk=user.pk).exists()


def active_grant(user, model: Model) -> Grant | None:
    if not (user.is_authenticated and user.is_active):
        return None
    return Grant.objects.active().filter(user=user, model=model).first()


def _latest_signed_licence():
    return Subquery(
        Agreement.objects.filter(request=OuterRef("request")).order_by("-signed_at", "-id").values("license")[:1]
    )


def _current_grants(user) -> QuerySet[Grant]:
    """Active grants whose holder has signed the model's current licence version."""
    return (
        Grant.objects.active()
        .filter(user=user, user__is_active=True)
        .annotate(signed_licence=_latest_signed_licence())
        .filter(signed_licence=F("model__policy__license"))
    )


def _because(error: DomainError, reason: str) -> DomainError:
    """Tag a refusal with its reason code (audited by the download services)."""
    error.reason = reason
    return error


def _clearance_problem(user, grant: Grant, *, mfa_verified: bool) -> DomainError | None:
    """What the policy demands at download time beyond the grant itself, or None."""
    policy = grant.model.policy
    if policy.require_identity and active_verification(user) is None:
        return _because(
            PolicyNotMet(
                f"{grant.model.full_name} needs a verified identity, and yours is missing or expired. Verify again.",
                help_url=reverse("identity:status"),
            ),
            "identity_required",
        )
    if policy.require_mfa and not (mfa_verified and has_mfa(user)):
        return _because(
            PolicyNotMet(
                f"{grant.model.full_name} needs two-factor authentication: sign in with your second factor, "
                "or use an access token created in such a session.",
                help_url=reverse("mfa_index"),
            ),
            "mfa_required",
        )
    country = blocked_country(user, policy)
    if country:
        return _because(
            AccessDenied(f"{grant.model.full_name} is not available to researchers from {country}."), "country_blocked"
        )
    return None


def download_check(user, release: Release, *, mfa_verified: bool = False) -> Grant:
    """Everything that must hold for a new download URL, or the reason it does not.

    Returns the grant the download happens under. `mfa_verified`: the session passed a
    second factor, or the token was created in one.
    """
    model = release.model
    apply_url = reverse("catalog:apply", args=[model.namespace, model.name])
    if not (user.is_authenticated and user.is_active):
        raise _because(AccessDenied("Your account is not active."), "account_inactive")
    if not release.is_active:
        raise _because(
            AccessDenied(f"Release {release.version} of {model.full_name} is withdrawn."), "release_withdrawn"
        )
    # One query on the success path; the explanations below run only on refusal.
    grant = _current_grants(user).filter(model=model).select_related("model__policy").first()
    if grant is not None:
        problem = _clearance_problem(user, grant, mfa_verified=mfa_verified)
        if problem:
            raise problem
        return grant
    grant = active_grant(user, model)
    if grant is None:
        latest = Grant.objects.filter(user=user, model=model).order_by("-granted_at").first()
        if latest is not None and latest.status == GrantStatus.SUSPENDED:
            raise _because(
                PolicyNotMet(
                    f"Your access to {model.full_name} is suspended until you verify your identity again.",
                    help_url=reverse("identity:status"),
                ),
                "suspended",
            )
        if latest is not None and latest.status == GrantStatus.REVOKED:
            raise _because(
                AccessDenied(
                    f"Your access to {model.full_name} was revoked on {latest.ended_at:%Y-%m-%d}: "
                    f"{latest.revoke_reason}",
                    help_url=apply_url,
                ),
                "revoked",
            )
        if latest is not None:
            raise _because(
                AccessDenied(
                    f"Your access to {model.full_name} expired on {latest.expires_at:%Y-%m-%d}. "
                    "Apply again to renew it.",
                    help_url=apply_url,
                ),
                "expired",
            )
        raise _because(
            AccessDenied(f"You do not have access to {model.full_name}. Apply for it first.", help_url=apply_url),
            "no_grant",
        )
    raise _because(
        PolicyNotMet(
            f"The licence of {model.full_name} has a new version; accept it before your next download.",
            help_url=reverse("access:licence_accept", args=[grant.pk]),
        ),
        "licence_not_accepted",
    )


def can_download(user, release: Release, *, mfa_verified: bool = False) -> bool:
    try:
        download_check(user, release, mfa_verified=mfa_verified)
    except DomainError:
        return False
    return True


def downloadable_releases(user, *, mfa_verified: bool = False) -> QuerySet[Release]:
    if not (user.is_authenticated and user.is_active):
        return Release.objects.none()
    grants = _current_grants(user).select_related("model__policy")
    cleared = [g.model_id for g in grants if _clearance_problem(user, g, mfa_verified=mfa_verified) is None]
    return Release.objects.filter(is_active=True, model__in=cleared)


def can_see_files(user, model: Model) -> bool:
    """File lists are for grant holders, and for admins who publish the files."""
    return has_role(user, Role.ADMIN) or active_grant(user, model) is not None
