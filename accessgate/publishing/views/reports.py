"""The access report: a page and a formula-safe CSV."""

from django.http import HttpResponse
from django.utils import timezone

from .. import reports
from .console import console_model, page, publisher_required


@publisher_required
def report(request, namespace, name):
    model = console_model(request, namespace, name)
    return page(request, model, "reports", {**reports.access_report(model), "timeline": reports.timeline(model)})


@publisher_required
def report_csv(request, namespace, name):
    model = console_model(request, namespace, name)
    response = HttpResponse(reports.access_report_csv(model), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="{model.namespace}-{model.name}-access-{stamp}.csv"'
    return response
