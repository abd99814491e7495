from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeGuard

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponseBase
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from .models import User


class Role(models.TextChoices):
    """Every signed-in user is a researcher; the staff roles are Django groups."""

    RESEARCHER = "researcher", _("Researcher")
    REVIEWER = "reviewer", _("Reviewer")
    # Owns the models listed in `Model.publishers` (a lab's release manager): their console at /publish/.
    PUBLISHER = "publisher", _("Publisher")
    AUDITOR = "auditor", _("Auditor")
    ADMIN = "admin", _("Admin")


STAFF_ROLES = (Role.REVIEWER, Role.PUBLISHER, Role.AUDITOR, Role.ADMIN)

# The roles that may carry each staff token scope (`TokenScope.REVIEW`, `TokenScope.AUDIT`).
STAFF_SCOPE_ROLES: dict[str, tuple[Role, ...]] = {
    # Publishers decide on their own models' requests, so they may hold it too.
    "review": (Role.REVIEWER, Role.PUBLISHER, Role.ADMIN),
    "audit": (Role.AUDITOR, Role.ADMIN),
}


def role_change_message(role: Role, verb: str, user, changed: bool) -> str:
    """What both role pages (the admin's and the publisher's) say after a grant or a removal."""
    if not changed:
        return gettext("Nothing to change.")
    if verb == "grant":
        return gettext("%(role)s granted to %(email)s.") % {"role": role.label, "email": user.email}
    return gettext("%(role)s removed from %(email)s.") % {"role": role.label, "email": user.email}


def roles_of(user) -> set[Role]:
    if not (user.is_authenticated and user.is_active):
        return set()
    cached = getattr(user, "_accessgate_roles", None)
    if cached is None:
        names = set(user.groups.filter(name__in=[r.value for r in STAFF_ROLES]).values_list("name", flat=True))
        cached = {Role.RESEARCHER, *(Role(name) for name in names)}
        user._accessgate_roles = cached
    return cached


def has_role(user: object, *roles: Role) -> "TypeGuard[User]":
    """True only for an active, signed-in user holding one of `roles`."""
    return bool(roles_of(user) & set(roles))


View = Callable[..., HttpResponseBase]


def role_required(*roles: Role) -> Callable[[View], View]:
    """View decorator: anonymous users go to the login page, others without the role get 403."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, *roles):
                raise PermissionDenied(gettext("Your account does not have the role this page needs."))
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
