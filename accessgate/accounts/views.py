from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from accessgate.audit.context import RequestMeta

from .forms import ProfileForm
from .selectors import profile_for
from .services import profile_update


@login_required
def profile_edit(request):
    profile = profile_for(request.user)
    form = ProfileForm(request.POST or None, instance=profile)
    next_url = request.GET.get("next", "")
    if request.method == "POST" and form.is_valid():
        profile_update(
            actor=request.user, user=request.user, meta=RequestMeta.from_request(request), **form.cleaned_data
        )
        messages.success(request, "Your profile is saved.")
        if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            return redirect(next_url)
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form, "profile": profile, "next": next_url})
