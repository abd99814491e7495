import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accessgate.accounts.mfa import totp_now, totp_secret
from accessgate.accounts.selectors import user_by_email


class Command(BaseCommand):
    help = "Development only: print the current authenticator code of an account (for the demo staff log-ins)."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        if not settings.DEBUG:
            raise CommandError("totp_code is for the demo only; it refuses to run with DEBUG off.")
        user = user_by_email(email)
        if user is None:
            raise CommandError(f"No user with the e-mail address {email}.")
        secret = totp_secret(user)
        if secret is None:
            raise CommandError(f"{email} has no authenticator app set up.")
        self.stdout.write(totp_now(secret))
        self.stdout.write(f"(valid for about {30 - int(time.time()) % 30} more seconds)")
