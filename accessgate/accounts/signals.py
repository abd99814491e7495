from allauth.account.signals import (
    email_added,
    email_changed,
    email_confirmed,
    email_removed,
    password_changed,
    password_reset,
    user_signed_up,
)
from allauth.mfa.signals import authenticator_added, authenticator_removed, authenticator_reset
from allauth.socialaccount.signals import social_account_added, social_account_removed
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver

from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.services import record


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
    with transaction.atomic():
        record(actor=user, action=AuditAction.ACCOUNT_LOGGED_IN, target=user, meta=_meta(request))


@receiver(user_signed_up)
def audit_signup(sender, request, user, **kwargs):
    with transaction.atomic():
        record(actor=user, action=AuditAction.ACCOUNT_SIGNED_UP, target=user, meta=_meta(request))


def _meta(request):
    return RequestMeta.from_request(request) if request is not None else None


@receiver(social_account_added)
def audit_social_link(sender, request, sociallogin, **kwargs):
    with transaction.atomic():
        record(
            actor=sociallogin.user,
            action=AuditAction.ACCOUNT_ORCID_LINKED,
            target=sociallogin.user,
            meta=_meta(request),
            provider=sociallogin.account.provider,
            uid=sociallogin.account.uid,
        )


@receiver(social_account_removed)
def audit_social_unlink(sender, request, socialaccount, **kwargs):
    with transaction.atomic():
        record(
            actor=socialaccount.user,
            action=AuditAction.ACCOUNT_ORCID_UNLINKED,
            target=socialaccount.user,
            meta=_meta(request),
            provider=socialaccount.provider,
            uid=socialaccount.uid,
        )


# allauth's own account changes. POSTs under /accounts/ run in one transaction
# (AccountTransactionMiddleware), so each event commits together with its change.


def _account_event(action, user, request, **details):
    with transaction.atomic():
        record(actor=user, action=action, target=user, meta=_meta(request), **details)


@receiver(password_changed)
def audit_password_changed(sender, request, user, **kwargs):
    _account_event(AuditAction.ACCOUNT_PASSWORD_CHANGED, user, request)


@receiver(password_reset)
def audit_password_reset(sender, request, user, **kwargs):
    _account_event(AuditAction.ACCOUNT_PASSWORD_RESET, user, request)


@receiver(email_added)
def audit_email_added(sender, request, user, email_address, **kwargs):
    _account_event(AuditAction.ACCOUNT_EMAIL_ADDED, user, request, email=email_address.email)


@receiver(email_confirmed)
def audit_email_confirmed(sender, request, email_address, **kwargs):
    _account_event(AuditAction.ACCOUNT_EMAIL_CONFIRMED, email_address.user, request, email=email_address.email)


@receiver(email_removed)
def audit_email_removed(sender, request, user, email_address, **kwargs):
    _account_event(AuditAction.ACCOUNT_EMAIL_REMOVED, user, request, email=email_address.email)


@receiver(email_changed)
def audit_email_primary(sender, request, user, from_email_address, to_email_address, **kwargs):
    _account_event(
        AuditAction.ACCOUNT_EMAIL_PRIMARY_CHANGED,
        user,
        request,
        old=getattr(from_email_address, "email", ""),
        new=to_email_address.email,
    )


@receiver(authenticator_added)
def audit_mfa_added(sender, request, user, authenticator, **kwargs):
    _account_event(AuditAction.ACCOUNT_MFA_ADDED, user, request, type=authenticator.type)


@receiver(authenticator_removed)
def audit_mfa_removed(sender, request, user, authenticator, **kwargs):
    _account_event(AuditAction.ACCOUNT_MFA_REMOVED, user, request, type=authenticator.type)


@receiver(authenticator_reset)
def audit_mfa_reset(sender, request, user, authenticator, **kwargs):
    _account_event(AuditAction.ACCOUNT_MFA_RESET, user, request, type=authenticator.type)
