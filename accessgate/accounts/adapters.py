from allauth.account.adapter import DefaultAccountAdapter

from accessgate.notifications.services import email_queue_message


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix, email, context):
        # allauth's messages (verification, password reset) go through our outbox and
        # Celery like every other e-mail, so a slow SMTP server never blocks a request.
        message = self.render_mail(template_prefix, email, context)
        email_queue_message(message)
