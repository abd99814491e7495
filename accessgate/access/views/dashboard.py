from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from accessgate.accounts.roles import Role, role_required
from accessgate.core.charts import bar_chart

from ..dashboard import OUTCOMES, own_downloads, staff_dashboard

staff_required = role_required(Role.REVIEWER, Role.ADMIN, Role.AUDITOR)


@staff_required
def dashboard(request):
    data = staff_dashboard(request.user)
    return render(
        request,
        "access/dashboard.html",
        {
            "data": data,
            "outcomes": [label for _, label in OUTCOMES],
            "weeks_chart": bar_chart("Requests per week by outcome", data.weeks, [label for _, label in OUTCOMES]),
            "queue_chart": bar_chart("Requests waiting, by age", data.queue, ["Waiting"]),
            "downloads_chart": bar_chart("Files issued per day", data.download_days, ["Files"]),
        },
    )


@login_required
def my_downloads(request):
    data = own_downloads(request.user)
    rows = [(day.strftime("%d %b"), [files]) for day, (files, _) in data["days"].items()]
    return render(
        request,
        "access/my_downloads.html",
        {
            "days": [(day, files, size) for day, (files, size) in data["days"].items() if files],
            "latest": data["latest"],
            "chart": bar_chart("Your files issued per day, last 30 days", rows, ["Files"]),
        },
    )
