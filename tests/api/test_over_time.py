"""The API shows renewals and the access-over-time requirements."""

import pytest

from accessgate.access import services
from accessgate.training.models import Training
from tests.support.applications import application, make_policy

pytestmark = pytest.mark.django_db


def test_a_renewal_is_listed_with_its_grant_and_report(as_researcher, researcher, reviewer, model):
    request = services.access_request_submit(actor=researcher, **application(model))
    grant = services.access_request_approve(actor=reviewer, access_request=request)
    values = application(model, progress_report="A preprint.")
    values.pop("model")
    renewal = services.renewal_submit(actor=researcher, grant=grant, **values)
    body = as_researcher.get(f"/api/v1/requests/{renewal.pk}/").json()
    assert (body["kind"], body["renews_id"], body["progress_report"]) == ("renewal", grant.pk, "A preprint.")
    assert as_researcher.get(f"/api/v1/requests/{request.pk}/").json()["kind"] == "application"


def test_the_checklist_names_a_required_training(as_researcher, model):
    training = Training.objects.create(name="Responsible use", kind="quiz")
    make_policy(model, model.policy.license, required_trainings=[training])
    body = as_researcher.get(f"/api/v1/models/{model.full_name}/").json()
    labels = {r["label"]: r["met"] for r in body["policy"]["requirements"]}
    assert labels["Training: Responsible use"] is False
