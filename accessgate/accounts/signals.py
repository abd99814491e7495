from allauth.account.signals import user_signed_up
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
