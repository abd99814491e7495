from allauth.account.signals import user_signed_up
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
