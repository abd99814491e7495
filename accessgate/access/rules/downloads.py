"""Who may download a model's weights, and why not: the download check and the grant queries
it is built on.

`download_check` and the fast path's SQL decision (`download_sql.py`) are the same rules;
tests/access/test_fast_path.py checks that they agree case by case.
"""

from typing import TYPE_CHECKING, Any

from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils.translation import gettext as _

from accessgate.catalog.models import Model, Release
from accessgate.core.errors import AccessDenied, PolicyNotMet
from accessgate.core.i18n import local_date

from ..models import Agreement, Grant, GrantStatus, SuspensionReason
from .requirements import Facts, download_problem, waiting_label
from .staff import can_publish

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from accessgate.accounts.models import User


# The reason code a refused download of a suspended grant is audited with, by why it is suspended.
SUSPENSION_REASONS: dict[str, str] = {
    SuspensionReason.IDENTITY_EXPIRED: "suspended",
    SuspensionReason.TRAINING_EXPIRED: "training_expired",
    SuspensionReason.BY_HAND: "suspended_by_hand",
}


def active_grant(user: "User | AnonymousUser", model: Model) -> Grant | None:
    if not (user.is_authenticated and user.is_active):
        return None
    return Grant.objects.active().filter(user=user, model=model).first()


def signed_under(grant_ref: Any) -> Q:
    """Agreements signed for a grant: its request's, and its renewals' (a renewal signs the
    current licence)."""
    return Q(request__grants=grant_ref) | Q(request__renews=grant_ref)


def _latest_signed_licence() -> Subquery:
    return Subquery(
        Agreement.objects.filter(signed_under(OuterRef("pk"))).order_by("-signed_at", "-id").values("license")[:1]
    )


def grants_with_signed_licence(model: Model) -> QuerySet[Grant]:
    """The model's active grants, annotated with `signed_licence` (the version last signed)."""
    return Grant.objects.active().filter(model=model).annotate(signed_licence=_latest_signed_licence())


def _current_grants(user: "User") -> QuerySet[Grant]:
    """Active grants whose holder has signed the model's current licence version."""
    return (
        Grant.objects.active()
        .filter(user=user, user__is_active=True)
        .annotate(signed_licence=_latest_signed_licence())
        .filter(signed_licence=F("model__policy__license"))
    )


def download_check(user: "User | AnonymousUser", release: Release, *, mfa_verified: bool = False) -> Grant:
    """Everything that must hold for a new download URL, or the reason it does not.

    Returns the grant the download happens under. `mfa_verified`: the session passed a
    second factor, or the token was created in one. Every refusal carries its reason code
    (`DomainError.reason`), which the download services audit as `download.refused`.
    """
    model = release.model
    apply_url = reverse("apply:form", args=[model.namespace, model.name])
    if not (user.is_authenticated and user.is_active):
        raise AccessDenied(_("Your account is not active."), reason="account_inactive")
    if not release.is_active:
        raise AccessDenied(
            _("Release %(version)s of %(model)s is withdrawn.")
            % {"version": release.version, "model": model.full_name},
            reason="release_withdrawn",
        )
    # One query on the success path; the explanations below run only on refusal.
    grant = _current_grants(user).filter(model=model).select_related("model__policy").first()
    if grant is not None:
        problem = download_problem(grant.model.policy, Facts(user, mfa_verified=mfa_verified))
        if problem:
            raise problem
        return grant
    grant = active_grant(user, model)
    if grant is None:
        latest = Grant.objects.filter(user=user, model=model).order_by("-granted_at").first()
        if latest is not None and latest.status == GrantStatus.PENDING:
            # A grant waiting for the researcher's own signature points at the signing page.
            signing = {"your signature", "your intended use"} & set(latest.waiting_for)
            raise PolicyNotMet(
                _("Your access to %(model)s is %(waiting)s. It starts the moment they hold.")
                % {"model": model.full_name, "waiting": waiting_label(latest.waiting_for)},
                help_url=reverse("access:licence_accept", args=[latest.pk]) if signing else reverse("access:my_access"),
                reason="not_signed" if signing else "pending",
            )
        if latest is not None and latest.status == GrantStatus.SUSPENDED and latest.suspension_message:
            raise AccessDenied(
                _("Your access to %(model)s is suspended: %(message)s")
                % {"model": model.full_name, "message": latest.suspension_message},
                reason=SUSPENSION_REASONS.get(latest.suspended_reason, "suspended"),
            )
        if (
            latest is not None
            and latest.status == GrantStatus.SUSPENDED
            and latest.suspended_reason == SuspensionReason.TRAINING_EXPIRED
        ):
            raise PolicyNotMet(
                _("Your access to %(model)s is suspended until you complete its required training again.")
                % {"model": model.full_name},
                help_url=reverse("training:list"),
                reason="training_expired",
            )
        if latest is not None and latest.status == GrantStatus.SUSPENDED:
            raise PolicyNotMet(
                _("Your access to %(model)s is suspended until you verify your identity again.")
                % {"model": model.full_name},
                help_url=reverse("identity:status"),
                reason="suspended",
            )
        if latest is not None and latest.status == GrantStatus.ENDED:
            assert latest.ended_at is not None  # the grant services set it with the status
            raise AccessDenied(
                _("You ended your access to %(model)s on %(date)s. Apply again to use it.")
                % {"model": model.full_name, "date": local_date(latest.ended_at)},
                help_url=apply_url,
                reason="ended",
            )
        if latest is not None and latest.status == GrantStatus.REVOKED:
            assert latest.ended_at is not None  # the grant services set it with the status
            raise AccessDenied(
                _("Your access to %(model)s was revoked on %(date)s: %(reason)s")
                % {"model": model.full_name, "date": local_date(latest.ended_at), "reason": latest.revoke_reason},
                help_url=apply_url,
                reason="revoked",
            )
        if latest is not None:
            raise AccessDenied(
                _("Your access to %(model)s expired on %(date)s. Apply again to renew it.")
                % {"model": model.full_name, "date": local_date(latest.expires_at)},
                help_url=apply_url,
                reason="expired",
            )
        raise AccessDenied(
            _("You do not have access to %(model)s. Apply for it first.") % {"model": model.full_name},
            help_url=apply_url,
            reason="no_grant",
        )
    accept_url = reverse("access:licence_accept", args=[grant.pk])
    if not Agreement.objects.filter(request_id=grant.request_id).exists():
        # A grant a reviewer gave directly: nothing is signed yet.
        raise PolicyNotMet(
            _("Before your first download of %(model)s, sign its licence and statements.") % {"model": model.full_name},
            help_url=accept_url,
            reason="not_signed",
        )
    raise PolicyNotMet(
        _("The licence of %(model)s has a new version; accept it before your next download.")
        % {"model": model.full_name},
        help_url=accept_url,
        reason="licence_not_accepted",
    )


def can_see_files(user: "User | AnonymousUser", model: Model) -> bool:
    """File lists are for grant holders, and for the admins and publishers who publish the files."""
    return can_publish(user, model) or active_grant(user, model) is not None
