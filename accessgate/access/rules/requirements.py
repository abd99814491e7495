"""The one evaluator of a policy's requirements.

`evaluate(policy, facts)` yields each requirement the policy sets, whether it holds, and the
words a user reads about it: a checklist label, a detail, the URL where it is fixed, and the
refusal sentence. The apply checklist, the reviewer's panel, automatic approval and the
download-time check all read it, so a rule and its message live here once.

`Facts` reads what the rules need about one user, each at most once and only when a rule
asks, so a page's query count does not grow with the number of rules it shows.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accessgate.accounts.models import Profile, User
from accessgate.accounts.selectors import has_mfa, profile_for, verified_emails, verified_orcid
from accessgate.core.errors import AccessDenied, DomainError, PolicyNotMet
from accessgate.core.i18n import local_date
from accessgate.identity.models import IdentityVerification
from accessgate.identity.selectors import active_verification
from accessgate.training.selectors import valid_training_ids

from ..models import AccessPolicy, Closeout, CloseoutStatus, Gating

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


class Facts:
    """What the rules know about one user. `mfa_verified`: this session (or token) passed a
    second factor; only the download-time check asks."""

    def __init__(self, user: User | None, *, mfa_verified: bool = False) -> None:
        self.user = user
        self.mfa_verified = mfa_verified

    @cached_property
    def profile(self) -> Profile:
        return profile_for(self.user)

    @cached_property
    def verification(self) -> IdentityVerification | None:
        return active_verification(self.user)

    @cached_property
    def has_mfa(self) -> bool:
        return has_mfa(self.user)

    @cached_property
    def orcid(self) -> str | None:
        return verified_orcid(self.user)

    @cached_property
    def emails(self) -> Sequence[str]:
        return verified_emails(self.user)

    @cached_property
    def trainings(self) -> set[int]:
        return valid_training_ids(self.user)

    @cached_property
    def overdue_closeouts(self) -> list[Closeout]:
        return list(
            Closeout.objects.filter(user=self.user, status=CloseoutStatus.DUE, due_at__lte=timezone.now())
            .select_related("grant__model")
            .order_by("due_at")
        )

    def countries(self) -> list[str]:
        """The user's countries: the profile's and the identity document's."""
        document = self.verification.document_country if self.verification else ""
        return [code for code in (str(self.profile.country), document) if code]


class NobodyFacts(Facts):
    """Facts of a visitor who is not signed in: nothing is known, so every requirement the
    policy sets is listed as still to do (the public model page)."""

    def __init__(self) -> None:
        super().__init__(None)

    profile = Profile()
    verification = None
    has_mfa = False
    orcid = None
    emails = ()


def facts_for(user: "User | AnonymousUser | None") -> Facts:
    return Facts(user) if user is not None and user.is_authenticated else NobodyFacts()


@dataclass(frozen=True)
class Requirement:
    key: str
    label: str  # the checklist line
    met: bool
    help_url: str = ""  # where the user fixes it
    detail: str = ""  # what we know (the verified ORCID, the expiry date, what is missing)
    message: str = ""  # the refusal sentence, when not met
    at_download: bool = False  # re-checked on every download, not only when applying
    refusal: type[DomainError] = PolicyNotMet

    def error(self, *, reason: str | None = None) -> DomainError:
        return self.refusal(self.message, help_url=self.help_url or None, reason=reason)


def email_domain_allowed(email: str, policy: AccessPolicy) -> bool:
    domain = email.rsplit("@", 1)[-1].lower()

    def under(candidates: Iterable[str]) -> bool:
        return any(domain == d.lower() or domain.endswith("." + d.lower()) for d in candidates)

    if under(policy.denied_email_domains):
        return False
    return under(policy.institutional_domains) if policy.institutional_domains else True


def profile_incomplete(profile: Profile) -> str:
    return _("Complete your profile before applying (missing: %(fields)s).") % {
        "fields": ", ".join(profile.missing_fields)
    }


def blocked_country(facts: Facts, policy: AccessPolicy) -> str | None:
    """The first of the user's countries (profile, identity document) that the policy blocks."""
    if not policy.blocked_countries:
        return None
    blocked = {code.upper() for code in policy.blocked_countries}
    return next((code for code in facts.countries() if code.upper() in blocked), None)


def evaluate(policy: AccessPolicy, facts: Facts, *, at_download: bool = False) -> Iterator[Requirement]:
    """Every requirement of `policy` for `facts.user`, in checklist order. With `at_download`,
    only those re-checked on each download, judged with the request's second factor."""
    model = policy.model.full_name
    if not at_download:
        profile = facts.profile
        yield Requirement(
            "profile",
            _("A complete profile"),
            profile.is_complete,
            reverse("accounts:profile"),
            "" if profile.is_complete else _("Missing: %(fields)s") % {"fields": ", ".join(profile.missing_fields)},
            profile_incomplete(profile),
        )
    if policy.require_identity:
        verification = facts.verification
        yield Requirement(
            "identity",
            _("A verified identity (document and selfie)"),
            verification is not None,
            reverse("identity:status"),
            _("Verified until %(date)s") % {"date": local_date(verification.expires_at)}
            if verification and verification.expires_at
            else "",
            _("%(model)s needs a verified identity, and yours is missing or expired. Verify again.") % {"model": model},
            at_download=True,
        )
    if policy.require_mfa:
        yield Requirement(
            "mfa",
            _("Two-factor authentication"),
            facts.has_mfa and (facts.mfa_verified or not at_download),
            reverse("mfa_index"),
            message=_(
                "%(model)s needs two-factor authentication: sign in with your second factor, "
                "or use an access token created in such a session."
            )
            % {"model": model},
            at_download=True,
        )
    if policy.require_orcid and not at_download:
        yield Requirement(
            "orcid",
            _("A verified ORCID iD"),
            facts.orcid is not None,
            reverse("accounts:profile"),
            facts.orcid or "",
            _("%(model)s needs an ORCID iD verified by signing in to ORCID.") % {"model": model},
        )
    if policy.require_institutional_email and not at_download:
        matching = [e for e in facts.emails if email_domain_allowed(e, policy)]
        allowed = ", ".join(policy.institutional_domains) if policy.institutional_domains else _("no free-mail domains")
        yield Requirement(
            "institutional_email",
            _("A verified institutional e-mail (%(allowed)s)") % {"allowed": allowed},
            bool(matching),
            reverse("account_email"),
            matching[0] if matching else "",
            _("%(model)s needs a verified institutional e-mail address (%(allowed)s).")
            % {"model": model, "allowed": allowed},
        )
    if policy.blocked_countries:
        country = blocked_country(facts, policy)
        yield Requirement(
            "country",
            _("Not resident in or documented by a country this model is not available in"),
            country is None,
            "",
            _("%(country)s is not eligible") % {"country": country} if country else "",
            _("%(model)s is not available to researchers from %(country)s.") % {"model": model, "country": country},
            at_download=True,
            refusal=AccessDenied if at_download else PolicyNotMet,
        )

    if policy.require_training:
        for training in policy.required_trainings.all():
            done = training.pk in facts.trainings
            yield Requirement(
                "training",
                _("Training: %(name)s") % {"name": training.name},
                done,
                reverse("training:detail", args=[training.pk]),
                "" if done else _("not completed, or expired"),
                _("%(model)s needs the training “%(name)s”, and yours is missing or expired. Complete it again.")
                % {"model": model, "name": training.name},
                at_download=True,
            )
    if policy.closeout_blocks_requests and not at_download:
        overdue = facts.overdue_closeouts
        first = overdue[0] if overdue else None
        yield Requirement(
            "closeout",
            _("No overdue close-out attestation"),
            first is None,
            reverse("access:closeout", args=[first.pk]) if first else "",
            _("Overdue since %(date)s (%(overdue)s)")
            % {"date": local_date(first.due_at), "overdue": first.grant.model.full_name}
            if first
            else "",
            _("File the overdue close-out for %(overdue)s before applying for %(model)s.")
            % {"overdue": first.grant.model.full_name, "model": model}
            if first
            else "",
        )


DOWNLOAD_REASONS = {
    "identity": "identity_required",
    "mfa": "mfa_required",
    "country": "country_blocked",
    "training": "training_required",
}


def requirements_for(user: User, policy: AccessPolicy, facts: Facts | None = None) -> list[Requirement]:
    """The checklist a researcher sees before applying, and a reviewer sees beside a request."""
    return list(evaluate(policy, facts or facts_for(user)))


def download_problem(policy: AccessPolicy, facts: Facts) -> DomainError | None:
    """The first requirement that stops a download now, as the error to raise, or None."""
    unmet = next((r for r in evaluate(policy, facts, at_download=True) if not r.met), None)
    if unmet is None:
        return None
    return unmet.error(reason=DOWNLOAD_REASONS.get(unmet.key, unmet.key))  # audited as download.refused


def application_problem(policy: AccessPolicy, facts: Facts) -> DomainError | None:
    """Why this user cannot apply now, or None. Blocked countries refuse every application;
    automatic approval needs every requirement (a manual review shows them to the reviewer)."""
    requirements = list(evaluate(policy, facts))
    refused = next((r for r in requirements if r.key in ("country", "closeout") and not r.met), None)
    if refused:
        return refused.error()
    if policy.gating == Gating.AUTO:
        unmet = [r.label for r in requirements if not r.met and r.key != "profile"]
        if unmet:
            return PolicyNotMet(_("Complete these requirements first: %(unmet)s.") % {"unmet": "; ".join(unmet)})
    return None


def unmet_labels(policy: AccessPolicy, facts: Facts) -> list[str]:
    """The labels of `unmet_requirements`, in the source language whoever asks: a grant stores
    them and its audit events carry them, so they must not depend on the reviewer's language."""
    with translation.override(None):
        return [r.label for r in unmet_requirements(policy, facts)]


def unmet_requirements(policy: AccessPolicy, facts: Facts) -> list[Requirement]:
    """The hard requirements that do not hold now (the profile, needed to apply at all, aside):
    what approval refuses under "before approval", or what a grant waits for under "after"."""
    return [r for r in evaluate(policy, facts) if not r.met and r.key != "profile"]


def waiting_label(labels: list[str], *, sentence: bool = False) -> str:
    """ "approved, waiting for: A, B" — the words the reviewer, e-mail, My access and API share;
    `sentence` capitalises the first word only (the labels keep their own capitals)."""
    # Stored labels are in the source language (see `unmet_labels`): translate them here.
    waiting = ", ".join(_(label) for label in labels)
    if sentence:
        return _("Approved, waiting for: %(labels)s") % {"labels": waiting}
    return _("approved, waiting for: %(labels)s") % {"labels": waiting}
