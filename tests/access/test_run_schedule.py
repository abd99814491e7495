"""`manage.py run_schedule`: the beat schedule without a broker, as the embedded demo runs it."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from accessgate.access.models import GrantStatus
from accessgate.audit.models import Checkpoint

from .. import factories

pytestmark = pytest.mark.django_db


def test_once_runs_every_periodic_task(settings):
    grant = factories.GrantFactory()
    grant.granted_at, grant.expires_at = timezone.now() - timedelta(days=2), timezone.now() - timedelta(hours=1)
    grant.save(update_fields=["granted_at", "expires_at"])
    out = StringIO()
    call_command("run_schedule", once=True, verbosity=2, stdout=out)
    grant.refresh_from_db()
    assert grant.status == GrantStatus.EXPIRED  # access-expire-grants ran
    assert Checkpoint.objects.exists()  # audit-checkpoint ran
    assert {line.split(":")[0] for line in out.getvalue().splitlines()} == set(settings.CELERY_BEAT_SCHEDULE)


def test_a_failing_task_is_reported_and_the_others_still_run(settings, monkeypatch):
    from accessgate.access import tasks

    def broken():
        raise RuntimeError("storage is down")

    monkeypatch.setattr(tasks.expire_grants, "run", broken)
    out, err = StringIO(), StringIO()
    call_command("run_schedule", once=True, verbosity=2, stdout=out, stderr=err)
    assert "access-expire-grants: failed: RuntimeError('storage is down')" in err.getvalue()
    assert "audit-checkpoint: checkpoint #" in out.getvalue()
