"""Imports are confined: the attack of a publisher who indexes another model's files (or the
whole bucket, or the portal's own areas) as a release of their own, replayed on every surface
that imports (the console's index form, the admin's import page, `import_release`)."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accessgate.catalog.models import Release
from accessgate.catalog.services import import_prefix_add
from accessgate.core.storage import get_storage
from accessgate.core.storage.prefixes import portal_prefixes
from accessgate.downloads.models import ReleaseImport

from .. import factories

pytestmark = pytest.mark.django_db

BUCKET = "weights"


@pytest.fixture
def s3(settings, s3rver):
    settings.ACCESSGATE_STORAGE_BACKEND = "s3"
    settings.ACCESSGATE_S3 = s3rver
    return s3rver


@pytest.fixture
def frontier(s3):
    """Another publisher's model, its weights in the bucket under its own prefix."""
    model = factories.ModelFactory(namespace="demo-lab", name="frontier-demo-7b")
    factories.make_release(model, "1.0")
    return model


@pytest.fixture
def mine(s3, publisher):
    model = factories.ModelFactory(namespace="evil-lab", name="mine")
    model.publishers.add(publisher)
    return model


@pytest.fixture
def changes(events):
    return lambda: [action for action in events() if action != "account.logged_in"]


ATTACKS = [
    (f"s3://{BUCKET}/demo-lab/frontier-demo-7b/", "the model demo-lab/frontier-demo-7b"),
    (f"s3://{BUCKET}/demo-lab/frontier-demo-7b/1.0", "the model demo-lab/frontier-demo-7b"),
    (f"s3://{BUCKET}/demo-lab/", "the model demo-lab/frontier-demo-7b"),
    (f"s3://{BUCKET}", "the whole bucket"),
    (f"s3://{BUCKET}/", "the whole bucket"),
    (f"s3://{BUCKET}//./", "the whole bucket"),
    (f"s3://{BUCKET}/evil-lab/mine/../../demo-lab/frontier-demo-7b/", "cannot hold '..'"),
    (f"s3://{BUCKET}/evil-lab/mine/%2e%2e/%2e%2e/demo-lab/frontier-demo-7b/", "without percent-encoding"),
    (f"s3://{BUCKET}/DEMO-LAB/Frontier-Demo-7B/", "the model demo-lab/frontier-demo-7b"),
    (f"s3://{BUCKET}/elsewhere/", "outside the prefixes this import may read"),
]


def put(*keys):
    for key in keys:
        get_storage().client.put_object(Bucket=BUCKET, Key=key, Body=key.encode())


def portal_sources():
    return [f"s3://{BUCKET}/{prefix}" for prefix in portal_prefixes()]


def console_post(client, model, source, version="1.0"):
    url = reverse("publish:releases", args=[model.namespace, model.name])
    return client.post(url, {"version": version, "source": source})


@pytest.mark.parametrize("source, says", ATTACKS)
def test_the_console_refuses_a_source_outside_the_models_own(client, publisher, frontier, mine, changes, source, says):
    client.force_login(publisher)
    response = console_post(client, mine, source)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["source"] and says in errors["source"][0]
    assert not ReleaseImport.objects.exists() and not mine.releases.exists()
    assert changes() == []


def test_the_console_refuses_every_portal_area(client, publisher, frontier, mine, changes, settings):
    client.force_login(publisher)
    for source in portal_sources():
        response = console_post(client, mine, source)
        assert response.status_code == 400 and list(response.context["form"].errors) == ["source"], source
        assert "the portal's" in response.context["form"].errors["source"][0]
    assert not ReleaseImport.objects.exists() and changes() == []


def test_the_console_indexes_the_models_own_prefix(
    client, publisher, frontier, mine, changes, django_capture_on_commit_callbacks
):
    put("evil-lab/mine/0.9/config.json", "evil-lab/mine/0.9/model.safetensors")
    client.force_login(publisher)
    with django_capture_on_commit_callbacks(execute=True):
        response = console_post(client, mine, f"s3://{BUCKET}/evil-lab/mine//0.9/./")
    assert response.status_code == 302
    job = ReleaseImport.objects.get()
    assert job.source == f"s3://{BUCKET}/evil-lab/mine/0.9/"  # recorded normalised
    assert job.error == "" and job.status == "done"
    release = mine.releases.get(version="1.0")
    assert {f.storage_key for f in release.files.all()} == {
        "evil-lab/mine/0.9/config.json",
        "evil-lab/mine/0.9/model.safetensors",
    }
    assert changes()[-3:] == [
        "download.release_import_requested",
        "catalog.release.created",
        "download.release_imported",
    ]


def test_an_opened_prefix_is_accepted_for_its_publisher_only(
    client, publisher, admin_user, frontier, mine, s3, django_capture_on_commit_callbacks
):
    storage_drop = "drops/evil/"
    put(f"{storage_drop}config.json")
    import_prefix_add(actor=admin_user, publisher=publisher, prefix=f"s3://{BUCKET}/{storage_drop}")
    # Another publisher of another model cannot use it.
    other = factories.UserFactory(role="publisher")
    theirs = factories.ModelFactory(namespace="other-lab", name="theirs")
    theirs.publishers.add(other)
    client.force_login(other)
    refused = console_post(client, theirs, f"s3://{BUCKET}/{storage_drop}")
    assert refused.status_code == 400 and list(refused.context["form"].errors) == ["source"]
    client.force_login(publisher)
    with django_capture_on_commit_callbacks(execute=True):
        accepted = console_post(client, mine, f"s3://{BUCKET}/{storage_drop}")
    assert accepted.status_code == 302
    assert [f.storage_key for f in mine.releases.get().files.all()] == [f"{storage_drop}config.json"]
    # Once indexed for one model, the files are that model's: nobody indexes them for another.
    theirs.publishers.add(publisher)
    again = console_post(client, theirs, f"s3://{BUCKET}/{storage_drop}")
    assert again.status_code == 400 and "the files of evil-lab/mine" in again.context["form"].errors["source"][0]


@pytest.mark.parametrize("source, says", ATTACKS[:8])
def test_the_admin_import_page_refuses_the_same(client, admin_user, frontier, mine, changes, source, says):
    client.force_login(admin_user)
    url = reverse("admin:downloads_releaseimport_add")
    response = client.post(url, {"model": mine.pk, "version": "1.0", "source": source})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["source"] and says in errors["source"][0]
    assert not ReleaseImport.objects.exists() and changes() == []


def test_the_admin_import_page_indexes_the_models_own_prefix(
    client, admin_user, mine, changes, django_capture_on_commit_callbacks
):
    put("evil-lab/mine/0.9/config.json")
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:downloads_releaseimport_add"),
            {"model": mine.pk, "version": "1.0", "source": f"s3://{BUCKET}/evil-lab/mine/0.9/"},
        )
    job = ReleaseImport.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{job.pk}/change/")
    assert mine.releases.filter(version="1.0").exists()
    assert "download.release_imported" in changes()


@pytest.mark.parametrize("source, says", ATTACKS[:8])
def test_the_command_refuses_the_same(frontier, mine, publisher, changes, source, says):
    with pytest.raises(CommandError, match=says.replace("(", r"\(").replace(")", r"\)")):
        call_command("import_release", mine.full_name, "1.0", source, "--requested-by", publisher.email)
    assert not ReleaseImport.objects.exists() and changes() == []


def test_the_command_with_any_prefix_still_refuses_the_bucket_root_portal_and_other_models(frontier, mine, changes):
    for source in [f"s3://{BUCKET}/", f"s3://{BUCKET}/demo-lab/frontier-demo-7b/", *portal_sources()]:
        with pytest.raises(CommandError, match="would reach"):
            call_command("import_release", mine.full_name, "1.0", source, "--any-prefix")
    assert not ReleaseImport.objects.exists() and changes() == []


def test_the_command_refuses_the_portals_own_directories(settings, mine, tmp_path):
    settings.ACCESSGATE_STORAGE_BACKEND = "local"
    for directory in [settings.ACCESSGATE_LOCAL_STORAGE_ROOT, settings.ACCESSGATE_UPLOAD_ROOT, tmp_path]:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "x.bin").write_bytes(b"x")
        with pytest.raises(CommandError, match="would reach"):
            call_command("import_release", mine.full_name, "1.0", str(directory), stdout=io.StringIO())
    assert not ReleaseImport.objects.exists() and not Release.objects.exists()
