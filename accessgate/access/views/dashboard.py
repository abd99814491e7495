from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _

from accessgate.accounts.roles import Role, role_required
from accessgate.core.charts import bar_chart

from ..reporting.dashboard import OUTCOMES, day_label, own_downloads, staff_dashboard

staff_required = role_required(Role.REVIEWER, Role.ADMIN, Role.AUDITOR)


@staff_required
def dashboard(request):
    data = staff_dashboard(request.user)
    outcomes = [label for _key, label in OUTCOMES]
    return render(
        request,
        "access/dashboard.html",
        {
            "data": data,
            "outcomes": outcomes,
            "weeks_chart": bar_chart(_("Requests per week by outcome"), data.weeks, outcomes),
            "queue_chart": bar_chart(_("Requests waiting, by age"), data.queue, [_("Waiting")]),
            "downloads_chart": bar_chart(_("Files issued per day"), data.download_days, [_("Files")]),
        },
    )


@login_required
def my_downloads(request):
    data = own_downloads(request.user)
    rows = [(day_label(day), [files]) for day, (files, _size) in data["days"].items()]
    return render(
        request,
        "access/my_downloads.html",
        {
            "days": [(day, files, size) for day, (files, size) in data["days"].items() if files],
            "latest": data["latest"],
            "chart": bar_chart(_("Your files issued per day, last 30 days"), rows, [_("Files")]),
        },
    )
