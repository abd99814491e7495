from django.contrib.auth.models import AnonymousUser
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from accessgate.access import rules as access_rules
from accessgate.access import selectors as access_selectors

from .selectors import active_releases, listed_models, model_by_name

PAGE_SIZE = 20


def catalog_list(request):
    search = request.GET.get("q", "")
    page = Paginator(listed_models(search=search, user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "catalog/list.html", {"page": page, "search": search})


def model_detail(request, namespace, name):
    model = model_by_name(namespace, name, user=request.user)
    if model is None:
        raise Http404(_("No model with this name."))
    # "View as a researcher" (the console's link): the page a visitor sees, even of a draft.
    as_researcher = request.GET.get("as") == "researcher"
    viewer = AnonymousUser() if as_researcher else request.user
    policy = access_selectors.policy_for(model)
    can_see_files = access_rules.can_see_files(viewer, model)
    releases = active_releases(model).prefetch_related("files") if can_see_files else active_releases(model)
    return render(
        request,
        "catalog/model_detail.html",
        {
            "model": model,
            "policy": policy,
            "statements": access_selectors.active_statements(policy) if policy else [],
            # The same evaluator and list as the apply page: the whole truth, before applying.
            "requirements": access_rules.requirements_for(viewer, policy) if policy else [],
            "can_publish": access_rules.can_publish(request.user, model),
            "as_researcher": as_researcher,
            "releases": releases,
            "can_see_files": can_see_files,
            "grant": access_rules.active_grant(viewer, model),
            "open_request": access_selectors.open_request(viewer, model),
        },
    )
