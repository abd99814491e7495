"""Conflicts of interest between a reviewer and an applicant: a shared institution or a
shared e-mail domain (free-mail domains are shared by strangers, so they do not count)."""

from django.utils.translation import gettext as _

from accessgate.accounts.models import User
from accessgate.accounts.selectors import profile_for

from ..freemail import FREE_MAIL_DOMAINS


def _institution(user: User) -> str:
    return " ".join(profile_for(user).affiliation.casefold().split())


def _domain(user: User) -> str:
    return user.email.rsplit("@", 1)[-1].lower()


def conflicts(reviewer: User, applicant: User) -> list[str]:
    """What the two share, as phrases ("the institution University of Testing"); empty if nothing."""
    found = []
    institution = _institution(reviewer)
    if institution and institution == _institution(applicant):
        found.append(_("the institution %(name)s") % {"name": profile_for(applicant).affiliation})
    domain = _domain(reviewer)
    if domain == _domain(applicant) and domain not in FREE_MAIL_DOMAINS:
        found.append(_("the e-mail domain %(domain)s") % {"domain": domain})
    return found
