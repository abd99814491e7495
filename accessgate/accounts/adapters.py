from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter

from accessgate.notifications.services import email_queue_message


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix, email, context):
        # allauth's messages (verification, password reset) go through our outbox and
        # Celery like every other e-mail, so a slow SMTP server never blocks a request.
        message = self.render_mail(template_prefix, email, context)
        email_queue_message(message)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin):
        # ORCID proves an iD; it links to an account that verified its e-mail, never creates one.
        return False
