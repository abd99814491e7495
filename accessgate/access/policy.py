"""The one module that decides who may review a model and who may download its weights.

The per-object checks and the set queries are built on the same `Grant.objects.active()`
and the same rules, and a test checks that they agree.
"""

import json

from django.db import connection
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils.translation import gettext as _

from accessgate.accounts.models import TokenScope, User
from accessgate.accounts.roles import Role, has_role
from accessgate.catalog.models import Model, Release
from accessgate.catalog.names import NAME_PART_RE, REVISION_RE, VERSION_RE
from accessgate.core.errors import AccessDenied, DomainError, PolicyNotMet
from accessgate.core.i18n import local_date

from . import policy_sql
from .models import AccessPolicy, Agreement, Grant, GrantStatus
from .requirements import Facts, Requirement, download_problem, evaluate, facts_for, waiting_label


def requirements_for(user: User, policy: AccessPolicy, facts: Facts | None = None) -> list[Requirement]:
    """The checklist a researcher sees before applying, and a reviewer sees beside a request."""
    return list(evaluate(policy, facts or facts_for(user)))


def reviewable_models(user) -> QuerySet[Model]:
    """Reviewers review the models they are assigned to; publishers decide on the models they
    own (from their console); admins on every model."""
    if has_role(user, Role.ADMIN):
        return Model.objects.all()
    q = Q()
    if has_role(user, Role.REVIEWER):
        q |= Q(reviewers=user)
    if has_role(user, Role.PUBLISHER):
        q |= Q(publishers=user)
    return Model.objects.filter(q).distinct() if q else Model.objects.none()


def publishable_models(user) -> QuerySet[Model]:
    """The models whose console this user may open: their own as a publisher, all as an admin."""
    if has_role(user, Role.ADMIN):
        return Model.objects.all()
    if has_role(user, Role.PUBLISHER):
        return Model.objects.filter(publishers=user)
    return Model.objects.none()


def can_publish(user, model: Model) -> bool:
    if has_role(user, Role.ADMIN):
        return True
    return has_role(user, Role.PUBLISHER) and model.publishers.filter(pk=user.pk).exists()


def can_review(user, model: Model) -> bool:
    if has_role(user, Role.ADMIN):
        return True
    if has_role(user, Role.REVIEWER) and model.reviewers.filter(pk=user.pk).exists():
        return True
    return can_publish(user, model)


def active_grant(user, model: Model) -> Grant | None:
    if not (user.is_authenticated and user.is_active):
        return None
    return Grant.objects.active().filter(user=user, model=model).first()


def signed_under(grant_ref) -> Q:
    """Agreements signed for a grant: its request's, and its renewals' (a renewal signs the
    current licence)."""
    return Q(request__grants=grant_ref) | Q(request__renews=grant_ref)


def _latest_signed_licence():
    return Subquery(
        Agreement.objects.filter(signed_under(OuterRef("pk"))).order_by("-signed_at", "-id").values("license")[:1]
    )


def grants_with_signed_licence(model: Model) -> QuerySet[Grant]:
    """The model's active grants, annotated with `signed_licence` (the version last signed)."""
    return Grant.objects.active().filter(model=model).annotate(signed_licence=_latest_signed_licence())


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


def download_check(user, release: Release, *, mfa_verified: bool = False) -> Grant:
    """Everything that must hold for a new download URL, or the reason it does not.

    Returns the grant the download happens under. `mfa_verified`: the session passed a
    second factor, or the token was created in one.
    """
    model = release.model
    apply_url = reverse("apply:form", args=[model.namespace, model.name])
    if not (user.is_authenticated and user.is_active):
        raise _because(AccessDenied(_("Your account is not active.")), "account_inactive")
    if not release.is_active:
        raise _because(
            AccessDenied(
                _("Release %(version)s of %(model)s is withdrawn.")
                % {"version": release.version, "model": model.full_name}
            ),
            "release_withdrawn",
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
            )
        if latest is not None and latest.status == GrantStatus.SUSPENDED and latest.suspension_message:
            raise AccessDenied(
                _("Your access to %(model)s is suspended: %(message)s")
                % {"model": model.full_name, "message": latest.suspension_message}
            )
        if (
            latest is not None
            and latest.status == GrantStatus.SUSPENDED
            and latest.suspended_reason == "training_expired"
        ):
            raise PolicyNotMet(
                _("Your access to %(model)s is suspended until you complete its required training again.")
                % {"model": model.full_name},
                help_url=reverse("training:list"),
            )
        if latest is not None and latest.status == GrantStatus.SUSPENDED:
            raise _because(
                PolicyNotMet(
                    _("Your access to %(model)s is suspended until you verify your identity again.")
                    % {"model": model.full_name},
                    help_url=reverse("identity:status"),
                ),
                "suspended",
            )
        if latest is not None and latest.status == GrantStatus.ENDED:
            raise AccessDenied(
                _("You ended your access to %(model)s on %(date)s. Apply again to use it.")
                % {"model": model.full_name, "date": local_date(latest.ended_at)},
                help_url=apply_url,
            )
        if latest is not None and latest.status == GrantStatus.REVOKED:
            raise _because(
                AccessDenied(
                    _("Your access to %(model)s was revoked on %(date)s: %(reason)s")
                    % {"model": model.full_name, "date": local_date(latest.ended_at), "reason": latest.revoke_reason},
                    help_url=apply_url,
                ),
                "revoked",
            )
        if latest is not None:
            raise _because(
                AccessDenied(
                    _("Your access to %(model)s expired on %(date)s. Apply again to renew it.")
                    % {"model": model.full_name, "date": local_date(latest.expires_at)},
                    help_url=apply_url,
                ),
                "expired",
            )
        raise _because(
            AccessDenied(
                _("You do not have access to %(model)s. Apply for it first.") % {"model": model.full_name},
                help_url=apply_url,
            ),
            "no_grant",
        )
    accept_url = reverse("access:licence_accept", args=[grant.pk])
    if not Agreement.objects.filter(request_id=grant.request_id).exists():
        # A grant a reviewer gave directly: nothing is signed yet.
        raise _because(
            PolicyNotMet(
                _("Before your first download of %(model)s, sign its licence and statements.")
                % {"model": model.full_name},
                help_url=accept_url,
            ),
            "licence_not_accepted",
        )
    raise _because(
        PolicyNotMet(
            _("The licence of %(model)s has a new version; accept it before your next download.")
            % {"model": model.full_name},
            help_url=accept_url,
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
    facts = Facts(user, mfa_verified=mfa_verified)
    cleared = [g.model_id for g in grants if download_problem(g.model.policy, facts) is None]
    return Release.objects.filter(is_active=True, model__in=cleared)


def fast_download_decision(
    *, token_hash: str, namespace: str, name: str, ref: str, path: str, now, max_ttl: int, main: bool = False
) -> tuple[str, dict] | None:
    """The fast path of a token download: one SQL SELECT (and its parameters) that yields one
    row when this token's user may get this file now (`policy_sql.DECISION` says what the row
    holds), or None when the address cannot be asked that way. No row means "ask
    `download_check`", never "no": refusals are explained only there. `main`: the Hugging Face
    client's name for the newest active release. PostgreSQL only (see policy_sql.py)."""
    if connection.vendor != "postgresql":
        return None
    if not (NAME_PART_RE.match(namespace) and NAME_PART_RE.match(name)) or "\x00" in path:
        return None  # the long way says why (and PostgreSQL text never holds a NUL)
    if main:
        ref_kind = "main"
    elif REVISION_RE.match(ref):
        ref_kind = "revision"
    elif VERSION_RE.match(ref):
        ref_kind = "version"
    else:
        return None
    params = {
        "hash": token_hash,
        "scope": json.dumps([str(TokenScope.DOWNLOAD)]),
        "namespace": namespace,
        "name": name,
        "ref_kind": ref_kind,
        "ref": ref,
        "path": path,
        "now": now,
        "max_ttl": max_ttl,
    }
    return policy_sql.DECISION, params


def execute_prepared(sql: str, params: dict):
    """Run a statement built on `fast_download_decision`, prepared once per connection. Raises
    `StalePlan` in a transaction after a migration elsewhere: roll back and take the long way."""
    return policy_sql.execute_prepared(sql, params)


StalePlan = policy_sql.StalePlan


def can_see_files(user, model: Model) -> bool:
    """File lists are for grant holders, and for the admins and publishers who publish the files."""
    return can_publish(user, model) or active_grant(user, model) is not None
