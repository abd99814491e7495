"""Admins grant and remove staff roles from the web (audited by the accounts services)."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accessgate.accounts.roles import STAFF_ROLES, Role, role_change_message, role_required
from accessgate.accounts.services import role_grant, role_remove
from accessgate.audit.context import RequestMeta
from accessgate.core.errors import DomainError
from accessgate.core.forms import add_domain_error

from ..forms import RoleForm


@role_required(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def roles(request):
    form = RoleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = get_user_model().objects.filter(email__iexact=data["email"]).first()
        if user is None:
            form.add_error("email", _("No account with this e-mail address."))
        else:
            service = role_grant if data["action"] == "grant" else role_remove
            try:
                changed = service(
                    actor=request.user, user=user, role=Role(data["role"]), meta=RequestMeta.from_request(request)
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, role_change_message(Role(data["role"]), data["action"], user, changed))
                return redirect("publish:roles")
    staff = {
        role: list(get_user_model().objects.filter(groups__name=role.value).order_by("email")) for role in STAFF_ROLES
    }
    return render(request, "publishing/roles.html", {"form": form, "staff": staff}, status=400 if form.errors else 200)
