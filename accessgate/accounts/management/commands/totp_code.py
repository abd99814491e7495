from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accessgate.accounts.selectors import user_by_email


class Command(BaseCommand):
    help = "Development only: print the current authenticator code of an account (for the demo staff log-ins)."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        import time

        from allauth.mfa.adapter import get_adapter
        from allauth.mfa.models import Authenticator
        from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

        if not settings.DEBUG:
            raise CommandError("totp_code is for the demo only; it refuses to run with DEBUG off.")
        user = user_by_email(email)
        if user is None:
            raise CommandError(f"No user with the e-mail address {email}.")
        authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
        if authenticator is None:
            raise CommandError(f"{email} has no authenticator app set up.")
        secret = get_adapter().decrypt(authenticator.data["secret"])
        remaining = 30 - int(time.time()) % 30
        self.stdout.write(format_hotp_value(hotp_value(secret, int(time.time()) // 30)))
        self.stdout.write(f"(valid for about {remaining} more seconds)")
