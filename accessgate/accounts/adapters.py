from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.core.exceptions import ValidationError

from accessgate.notifications.services import email_queue_message


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix, email, context):
        # allauth's messages (verification, password reset) go through our outbox and
        # Celery like every other e-mail, so a slow SMTP server never blocks a request.
        message = self.render_mail(template_prefix, email, context)
        email_queue_message(message)

    def pre_authenticate(self, request, **credentials):
        # Throttled (ACCOUNT_RATE_LIMITS["login_failed"]): remembered so that the response
        # becomes a 429 (accounts.middleware.LoginThrottleStatusMiddleware).
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            request._accessgate_login_throttled = True
            raise


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin):
        # ORCID proves an iD; it links to an account that verified its e-mail, never creates one.
        return False
