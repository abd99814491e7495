import hashlib
import secrets
from collections.abc import Collection
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.services import record
from accessgate.core.errors import ValidationFailed

from .mfa import totp_activate
from .models import STAFF_SCOPES, ApiToken, Profile, TokenScope, User
from .roles import STAFF_ROLES, STAFF_SCOPE_ROLES, Role, roles_of

PROFILE_FIELDS = ("full_name", "affiliation", "position", "country", "orcid")
LAST_USED_PRECISION = timedelta(minutes=1)


@transaction.atomic
def profile_update(*, actor: User, user: User, meta: RequestMeta | None = None, **fields) -> Profile:
    """Create or change a user's profile. Only the user themself may do it."""
    if actor.pk != user.pk:
        raise ValidationFailed(gettext("Only the account owner can edit this profile."))
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationFailed(
            gettext("Unknown profile fields: %(unknown)s.") % {"unknown": ", ".join(sorted(unknown))}
        )
    profile, _ = Profile.objects.select_for_update().get_or_create(user=user)
    changed = []
    for name, value in fields.items():
        value = (value or "").strip() if isinstance(value, str) else value
        if getattr(profile, name) != value:
            setattr(profile, name, value)
            changed.append(name)
    profile.full_clean()
    if changed:
        profile.save()
        record(actor=actor, action=AuditAction.ACCOUNT_PROFILE_UPDATED, target=user, meta=meta, fields=sorted(changed))
    return profile


@transaction.atomic
def user_set_active(
    *, actor: User | None, user: User, active: bool, reason: str = "", meta: RequestMeta | None = None
) -> bool:
    """Deactivate or reactivate an account (accounts are never deleted: history refers to them).

    Deactivation needs a reason, revokes every access token for good (reactivation does not
    revive them) and e-mails the user the reason. Sessions stop working at once (an inactive
    user is logged out by Django's auth). Returns whether it changed."""
    from accessgate.notifications.services import email_queue

    reason = " ".join((reason or "").split())
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    if user.is_active == active:
        return False
    if actor is not None and actor.pk == user.pk and not active:
        raise ValidationFailed(gettext("You cannot deactivate your own account here."))
    if not active and not reason:
        raise ValidationFailed(
            gettext("Give a reason for the deactivation; the user receives it by e-mail."), field="reason"
        )
    user.is_active = active
    user.save(update_fields=["is_active"])
    if active:
        record(actor=actor, action=AuditAction.ACCOUNT_REACTIVATED, target=user, meta=meta)
        return True
    revoked = list(
        ApiToken.objects.select_for_update().filter(user=user, revoked_at__isnull=True).values_list("prefix", flat=True)
    )
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    record(
        actor=actor,
        action=AuditAction.ACCOUNT_DEACTIVATED,
        target=user,
        meta=meta,
        reason=reason[:500],
        tokens_revoked=revoked,
    )
    email_queue(
        to=[user.email],
        template="account_deactivated",
        context={"email": user.email, "reason": reason, "tokens_revoked": len(revoked)},
    )
    return True


@transaction.atomic
def user_password_set(*, actor: User | None, user: User, password: str, meta: RequestMeta | None = None) -> None:
    """An operator sets a password (the demo seed). Users change theirs through allauth."""
    user.set_password(password)
    user.save(update_fields=["password"])
    record(actor=actor, action=AuditAction.ACCOUNT_PASSWORD_RESET, target=user, meta=meta, by="operator")


@transaction.atomic
def mfa_totp_activate(*, actor: User | None, user: User, secret: str, meta: RequestMeta | None = None) -> None:
    """An operator sets up an authenticator app for a user (the demo staff). Users do it
    themselves on allauth's pages, audited from its signal."""
    totp_activate(user, secret)
    record(actor=actor, action=AuditAction.ACCOUNT_MFA_ADDED, target=user, meta=meta, type="totp", by="operator")


def _check_staff_role(role: Role) -> Role:
    role = Role(role)
    if role not in STAFF_ROLES:
        raise ValidationFailed(
            gettext("'%(role)s' is not a role that can be granted; every user is already a researcher.")
            % {"role": role}
        )
    return role


@transaction.atomic
def role_grant(*, actor: User | None, user: User, role: Role, meta: RequestMeta | None = None) -> bool:
    """Give a user a staff role. Returns False when they already had it."""
    role = _check_staff_role(role)
    if role in roles_of(user):
        return False
    group, _ = Group.objects.get_or_create(name=role.value)
    user.groups.add(group)
    if role == Role.ADMIN:
        # Admins use the Django admin, which needs these flags.
        user.is_staff = user.is_superuser = True
        user.save(update_fields=["is_staff", "is_superuser"])
    user.__dict__.pop("_accessgate_roles", None)
    record(actor=actor, action=AuditAction.ACCOUNT_ROLE_GRANTED, target=user, meta=meta, role=role.value)
    return True


@transaction.atomic
def role_remove(*, actor: User | None, user: User, role: Role, meta: RequestMeta | None = None) -> bool:
    """Take a staff role away. Returns False when they did not have it."""
    role = _check_staff_role(role)
    if role not in roles_of(user):
        return False
    user.groups.remove(Group.objects.get(name=role.value))
    if role == Role.ADMIN:
        user.is_staff = user.is_superuser = False
        user.save(update_fields=["is_staff", "is_superuser"])
    user.__dict__.pop("_accessgate_roles", None)
    record(actor=actor, action=AuditAction.ACCOUNT_ROLE_REMOVED, target=user, meta=meta, role=role.value)
    return True


@transaction.atomic
def user_create(
    *, actor, email: str, password: str | None, email_verified: bool = False, meta: RequestMeta | None = None
):
    """Create an account outside the sign-up form (the demo seed, operators)."""
    User = get_user_model()
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationFailed(gettext("An account with %(email)s already exists.") % {"email": email}, field="email")
    user = User.objects.create_user(email=email, password=password)
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=email_verified)
    record(
        actor=actor,
        action=AuditAction.ACCOUNT_SIGNED_UP,
        target=user,
        meta=meta,
        email_verified=email_verified,
        created_by="operator" if actor is None else actor.email,
    )
    return user


# --- personal access tokens ----------------------------------------------------------------


def _hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


hash_token = _hash_token  # what the resolve fast path looks tokens up by (downloads/fast.py)


def _check_scopes(actor, scopes, *, mfa_passed: bool) -> list[str]:
    scopes = sorted({str(scope) for scope in scopes})
    if not scopes:
        raise ValidationFailed(gettext("Choose at least one scope for the token."), field="scopes")
    unknown = [scope for scope in scopes if scope not in TokenScope.values]
    if unknown:
        raise ValidationFailed(
            gettext("Unknown token scopes: %(unknown)s.") % {"unknown": ", ".join(unknown)}, field="scopes"
        )
    for scope in (TokenScope(s) for s in scopes if s in STAFF_SCOPES):
        if not roles_of(actor) & set(STAFF_SCOPE_ROLES[scope.value]):
            raise ValidationFailed(
                gettext("The '%(scope)s' scope needs the %(role)s role.")
                % {"scope": scope.value, "role": STAFF_SCOPE_ROLES[scope.value][0].label.lower()},
                field="scopes",
            )
        if not mfa_passed:
            raise ValidationFailed(
                gettext(
                    "The '%(scope)s' scope needs a session that passed two-factor authentication: sign out, sign in "
                    "with your second factor, and create the token again."
                )
                % {"scope": scope.value},
                field="scopes",
            )
    return scopes


@transaction.atomic
def token_create(
    *,
    actor,
    name: str,
    days: int | None = None,
    scopes: Collection[str] = ("download",),
    models: Collection = (),
    mfa_passed: bool = False,
    meta: RequestMeta | None = None,
):
    """Create a token; returns (token, secret). The secret is never stored or shown again.

    `scopes` are `TokenScope` values (download-only by default); staff scopes need the
    matching role and `mfa_passed` (the creating session passed two-factor). `models`
    limits the token to those catalog models (empty: every model)."""
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed(
            gettext("Give the token a name, e.g. the machine or script that will use it."), field="name"
        )
    days = settings.ACCESSGATE_TOKEN_DEFAULT_DAYS if days is None else days
    if not 1 <= days <= settings.ACCESSGATE_TOKEN_MAX_DAYS:
        raise ValidationFailed(
            gettext("A token lives between 1 and %(days)s days.") % {"days": settings.ACCESSGATE_TOKEN_MAX_DAYS},
            field="days",
        )
    scopes = _check_scopes(actor, scopes, mfa_passed=mfa_passed)
    models = sorted(set(models), key=lambda model: model.full_name)
    secret = ApiToken.PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=actor,
        name=name[:100],
        prefix=secret[: len(ApiToken.PREFIX) + 6],
        secret_hash=_hash_token(secret),
        expires_at=timezone.now() + timedelta(days=days),
        created_with_mfa=mfa_passed,
        scopes=scopes,
    )
    token.models.set(models)
    record(
        actor=actor,
        action=AuditAction.ACCOUNT_TOKEN_CREATED,
        target=token,
        meta=meta,
        name=token.name,
        prefix=token.prefix,
        expires_at=token.expires_at.isoformat(),
        scopes=scopes,
        models=[model.full_name for model in models],
        mfa=mfa_passed,
    )
    return token, secret


@transaction.atomic
def token_revoke(*, actor: User, token: ApiToken, meta: RequestMeta | None = None) -> ApiToken:
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.user_id != actor.pk:
        raise ValidationFailed(gettext("Only the owner can revoke this token."))
    if token.revoked_at is not None:
        raise ValidationFailed(gettext("This token is already revoked."))
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record(actor=actor, action=AuditAction.ACCOUNT_TOKEN_REVOKED, target=token, meta=meta, prefix=token.prefix)
    return token


def token_rejection(secret: str):
    """Why a presented secret is refused: (reason code, the token if it is one of ours)."""
    from django.utils import timezone

    from .models import ApiToken

    if not secret.startswith(ApiToken.PREFIX):
        return "bad_token", None
    token = ApiToken.objects.select_related("user").filter(secret_hash=_hash_token(secret)).first()
    if token is None:
        return "bad_token", None
    if token.revoked_at is not None:
        return "revoked_token", token
    if token.expires_at <= timezone.now():
        return "expired_token", token
    if not token.user.is_active:
        return "inactive_user", token
    return "bad_token", token


def token_authenticate(secret: str, *, ip: str | None = None):
    """The active token for a presented secret, or None. Records when and from where it was used."""
    if not secret.startswith(ApiToken.PREFIX):
        return None
    token = ApiToken.objects.active().select_related("user").filter(secret_hash=_hash_token(secret)).first()
    if token is None:
        return None
    now = timezone.now()
    # Usage bookkeeping, not a state change of the account: no audit event of its own (every
    # use that matters, a URL issuance, is audited with the token's prefix). Written at most
    # once a minute per token, so a busy download script does not pay a commit per request.
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION or token.last_used_ip != ip:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_ip=ip)
        token.last_used_at, token.last_used_ip = now, ip
    return token
