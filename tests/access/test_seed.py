import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accessgate.access.models import AccessPolicy
from accessgate.accounts.models import User
from accessgate.accounts.roles import Role, roles_of
from accessgate.catalog.models import Model, Release, WeightFile

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_prints_working_logins(capsys, client, settings):
    settings.DEBUG = True  # pytest-django runs with DEBUG off; the demo seeds only in development
    call_command("seed_demo")
    first = capsys.readouterr().out
    call_command("seed_demo")
    second = capsys.readouterr().out

    assert Model.objects.count() == 3 and Release.objects.count() == 3 and AccessPolicy.objects.count() == 3
    assert User.objects.count() == 4
    files = WeightFile.objects.all()
    assert files.count() == 12
    for weight_file in files:
        assert (settings.ACCESSGATE_LOCAL_STORAGE_ROOT / weight_file.storage_key).stat().st_size == weight_file.size

    # The researcher holds one grant, and the printed curl line works (only the newest token).
    researcher = User.objects.get(email="researcher@demo.accessgate.test")
    assert researcher.grants.count() == 1
    tokens = re.findall(r"Bearer (agt_[\w-]+)", first + second)
    url = re.search(r"(http://testserver/models/\S+/files/\S+)", second).group(1).replace("http://testserver", "")
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {tokens[-1]}").status_code == 302
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {tokens[0]}").status_code == 401

    from accessgate.accounts.selectors import has_mfa

    for label, role in [("reviewer", Role.REVIEWER), ("auditor", Role.AUDITOR), ("admin", Role.ADMIN)]:
        staff = User.objects.get(email=f"{label}@demo.accessgate.test")
        assert role in roles_of(staff) and has_mfa(staff)
    secure = AccessPolicy.objects.get(model__name="secure-demo-13b")
    assert secure.require_identity and secure.require_mfa and secure.gating == "auto"

    # The passwords printed by the latest run log in.
    logins = re.findall(r"^\s+(\S+@demo\.accessgate\.test)\s+(demo-\S+)$", second, re.M)
    assert len(logins) == 4
    for email, password in logins:
        assert client.login(email=email, password=password), email
    assert first != second


def test_seed_demo_refuses_production(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("seed_demo")


def test_seed_demo_audits_what_it_sets_up(settings):
    from accessgate.audit.models import AuditEvent
    from accessgate.audit.verification import verify_chain

    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions.count("account.mfa.added") == 3  # the staff, once
    assert actions.count("account.password.reset") == 4  # the second run's new passwords
    assert actions.count("download.release_import_requested") == 3
    from accessgate.audit.chainer import chain_all

    chain_all()  # the on-commit step, had the test's transaction committed
    result = verify_chain()
    assert result.ok and result.checked == len(actions) and result.pending == 0
