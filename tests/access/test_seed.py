import hashlib
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accessgate.access.management.commands.seed_demo import demo_files
from accessgate.access.models import AccessPolicy, Collection
from accessgate.accounts.models import User
from accessgate.accounts.roles import Role, roles_of
from accessgate.accounts.selectors import has_mfa
from accessgate.audit.models import AuditEvent
from accessgate.audit.verification import verify_chain
from accessgate.catalog.models import Model, Release, WeightFile

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_prints_working_logins(capsys, client, settings):
    settings.DEBUG = True  # pytest-django runs with DEBUG off; the demo seeds only in development
    call_command("seed_demo")
    first = capsys.readouterr().out
    call_command("seed_demo")
    second = capsys.readouterr().out

    # Three models with files, and the two-person model with questions (no release yet).
    assert Model.objects.count() == 4 and Release.objects.count() == 3 and AccessPolicy.objects.count() == 4
    assert User.objects.count() == 4
    # Each release holds its genuine demo checkpoint (two sharded, one single file), stored
    # with the sha256 its manifest lists.
    files = WeightFile.objects.select_related("release__model")
    assert files.count() == 9 + 9 + 7
    for weight_file in files:
        stored = (settings.ACCESSGATE_LOCAL_STORAGE_ROOT / weight_file.storage_key).read_bytes()
        generated = demo_files(weight_file.release.model.name)[weight_file.path]
        assert stored == generated and hashlib.sha256(stored).hexdigest() == weight_file.sha256
    assert set(files.filter(path__startswith="model").values_list("release__model__name", "path")) == {
        ("frontier-demo-7b", "model-00001-of-00002.safetensors"),
        ("frontier-demo-7b", "model-00002-of-00002.safetensors"),
        ("frontier-demo-7b", "model.safetensors.index.json"),
        ("tiny-demo-1b", "model-00001-of-00002.safetensors"),
        ("tiny-demo-1b", "model-00002-of-00002.safetensors"),
        ("tiny-demo-1b", "model.safetensors.index.json"),
        ("secure-demo-13b", "model.safetensors"),
    }

    # The researcher holds one grant, and the printed curl line works (only the newest token).
    researcher = User.objects.get(email="researcher@demo.accessgate.test")
    assert researcher.grants.count() == 1
    tokens = re.findall(r"Bearer (agt_[\w-]+)", first + second)
    url = re.search(r"(http://testserver/models/\S+/files/\S+)", second).group(1).replace("http://testserver", "")
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {tokens[-1]}").status_code == 302
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {tokens[0]}").status_code == 401

    # The printed Hugging Face lines carry the researcher's download token and a reviewer
    # token with the review scope that works on the access-request API.
    hf_tokens = re.findall(r"HF_TOKEN=(agt_[\w-]+)", second)
    assert hf_tokens[0] == tokens[-1] and "snapshot_download('demo-lab/tiny-demo-1b')" in second
    review_secret = hf_tokens[-1]
    pending = client.get(
        "/api/models/demo-lab/frontier-demo-7b/user-access-request/pending",
        HTTP_AUTHORIZATION=f"Bearer {review_secret}",
    )
    assert pending.status_code == 200 and pending.json() == []

    for label, role in [("reviewer", Role.REVIEWER), ("auditor", Role.AUDITOR), ("admin", Role.ADMIN)]:
        staff = User.objects.get(email=f"{label}@demo.accessgate.test")
        assert role in roles_of(staff) and has_mfa(staff)
    secure = AccessPolicy.objects.get(model__name="secure-demo-13b")
    assert secure.require_identity and secure.require_mfa and secure.gating == "auto"
    council = AccessPolicy.objects.get(model__name="council-demo-70b")
    assert (council.approvals_required, council.reapply_cooldown_days) == (2, 14)
    assert council.form_fields.filter(is_active=True).count() == 8
    family = Collection.objects.get(name="frontier-family")
    assert set(family.members.values_list("name", flat=True)) == {"frontier-demo-7b", "council-demo-70b"}

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


def test_seed_demo_large_adds_a_bigger_release_of_the_open_model_once(capsys, client, settings):
    settings.DEBUG = True
    call_command("seed_demo", "--large")
    call_command("seed_demo", "--large")
    out = capsys.readouterr().out

    release = Release.objects.get(model__name="tiny-demo-1b", version="2.0-large")
    files = {f.path: f for f in release.files.all()}
    shards = [f"model-0000{i}-of-00004.safetensors" for i in range(1, 5)]
    assert set(shards) | {"model.safetensors.index.json", "config.json", "tokenizer.json"} <= set(files)
    assert 35_000_000 < sum(f.size for f in files.values()) < 37_000_000
    assert Release.objects.count() == 4
    # The researcher's grant on the model covers it: the printed download page opens.
    page = re.search(r"The 36 MB release: http://testserver(\S+)", out).group(1)
    researcher = User.objects.get(email="researcher@demo.accessgate.test")
    client.force_login(researcher)
    response = client.get(page)
    assert response.status_code == 200 and shards[0] in response.content.decode()


def test_seed_demo_prints_only_the_site_url_it_is_given(capsys, settings):
    # `make demo PORT=8123` sets ACCESSGATE_SITE_URL; nothing printed may point elsewhere.
    settings.DEBUG = True
    settings.SITE_URL = "http://127.0.0.1:8123"
    call_command("seed_demo")
    out = capsys.readouterr().out
    urls = re.findall(r"https?://[^\s\"']+", out)
    assert urls and all(url.startswith("http://127.0.0.1:8123/") or url == "http://127.0.0.1:8123" for url in urls)
    assert ":8000" not in out
    # The line the README's download block starts from.
    assert re.search(r"^  export TOKEN=agt_[\w-]+ SITE=http://127\.0\.0\.1:8123$", out, re.M)


def test_make_demo_passes_host_and_port_to_the_site_url():
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    dry = subprocess.run(
        ["make", "-n", "demo", "PORT=8123", "HOST=0.0.0.0"], cwd=root, capture_output=True, text=True, check=True
    ).stdout
    assert "ACCESSGATE_SITE_URL=http://0.0.0.0:8123 .venv/bin/python manage.py seed_demo" in dry
    # The server and the schedule beside it run in one shell that has the demo's environment.
    assert "ACCESSGATE_SITE_URL=http://0.0.0.0:8123 sh -c '.venv/bin/python manage.py run_schedule &" in dry
    assert "manage.py runserver 0.0.0.0:8123'" in dry


def test_seed_demo_configures_access_over_time(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    frontier, tiny = (AccessPolicy.objects.get(model__name=name) for name in ("frontier-demo-7b", "tiny-demo-1b"))
    assert (frontier.require_closeout, frontier.closeout_blocks_requests) == (True, True)
    assert (tiny.renewal_auto, tiny.renewal_window_days, tiny.require_closeout) == (True, 90, True)
    assert tiny.reminder_days == [30, 7, 1]


def test_seed_demo_secure_model_requires_the_demo_quiz(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")
    secure = AccessPolicy.objects.get(model__name="secure-demo-13b")
    assert secure.require_training
    assert [t.name for t in secure.required_trainings.all()] == ["Responsible use of model weights"]
    assert secure.required_trainings.get().questions.count() == 3
