from django.core.management.base import BaseCommand, CommandError

from accessgate.accounts.roles import STAFF_ROLES, Role, roles_of
from accessgate.accounts.selectors import user_by_email
from accessgate.accounts.services import role_grant, role_remove
from accessgate.core.errors import DomainError


class Command(BaseCommand):
    help = "Grant, remove or list the staff roles (reviewer, auditor, admin) of a user."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        for verb in ("grant", "remove"):
            p = sub.add_parser(verb, help=f"{verb} a role")
            p.add_argument("email")
            p.add_argument("role", choices=[r.value for r in STAFF_ROLES])
        p = sub.add_parser("list", help="list a user's roles")
        p.add_argument("email")

    def handle(self, *args, verb, email, role=None, **options):
        user = user_by_email(email)
        if user is None:
            raise CommandError(f"No user with the e-mail address {email}.")
        try:
            if verb == "grant":
                changed = role_grant(actor=None, user=user, role=Role(role))
                self.stdout.write(f"{email} is now {role}." if changed else f"{email} already was {role}.")
            elif verb == "remove":
                changed = role_remove(actor=None, user=user, role=Role(role))
                self.stdout.write(f"{email} is no longer {role}." if changed else f"{email} was not {role}.")
        except DomainError as error:
            raise CommandError(error.message) from error
        if verb == "list":
            self.stdout.write(", ".join(sorted(r.value for r in roles_of(user))))
