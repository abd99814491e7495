import hashlib

import pytest

from accessgate.catalog.markdown import render_markdown
from accessgate.catalog.models import LicenseVersion
from accessgate.catalog.names import compute_revision
from accessgate.catalog.selectors import listed_models, model_by_name, release_by_ref
from accessgate.catalog.services import FileSpec, license_publish, model_create, model_update, release_create
from accessgate.core.errors import Conflict, ValidationFailed

from .. import factories

pytestmark = pytest.mark.django_db


def spec(path, content=b"x"):
    return FileSpec(path=path, storage_key=f"k/{path}", size=len(content), sha256=hashlib.sha256(content).hexdigest())


class TestModels:
    def test_create_and_find_case_insensitively(self, events):
        model = model_create(actor=None, namespace="Acme-Lab", name="frontier-7b.v2", display_name="Frontier")
        assert model.full_name == "Acme-Lab/frontier-7b.v2"
        assert model_by_name("acme-lab", "FRONTIER-7B.V2") == model
        assert events() == ["catalog.model.created"]

    @pytest.mark.parametrize("name", ["-lead", "trail-", "dou--ble", "dot..dot", "spa ce", "sla/sh", "x" * 97, ""])
    def test_bad_names_are_refused(self, name):
        with pytest.raises(ValidationFailed):
            model_create(actor=None, namespace="acme", name=name, display_name="X")

    def test_duplicate_name_is_refused_whatever_the_case(self):
        model_create(actor=None, namespace="acme", name="m", display_name="X")
        with pytest.raises(Conflict):
            model_create(actor=None, namespace="ACME", name="M", display_name="Y")

    def test_update_records_changed_fields(self, events):
        model = factories.ModelFactory()
        model_update(actor=None, model=model, summary="New summary", display_name=model.display_name)
        assert events() == ["catalog.model.updated"]
        with pytest.raises(ValidationFailed):
            model_update(actor=None, model=model, namespace="other")

    def test_search(self):
        factories.ModelFactory(name="llama-ish", summary="chat")
        factories.ModelFactory(name="vision", summary="images", is_listed=False)
        assert [m.name for m in listed_models(search="LLAMA")] == ["llama-ish"]
        assert [m.name for m in listed_models(search="images")] == []


class TestLicences:
    def test_publish_computes_sha256_and_refuses_change(self, events):
        licence = license_publish(actor=None, name="L", version="1", text="Be good.")
        assert licence.sha256 == hashlib.sha256(b"Be good.").hexdigest()
        licence.text = "Be bad."
        with pytest.raises(TypeError):
            licence.save()
        assert LicenseVersion.objects.get(pk=licence.pk).text == "Be good."
        with pytest.raises(Conflict):
            license_publish(actor=None, name="L", version="1", text="Other")
        assert events() == ["catalog.license.published"]


class TestReleases:
    def test_revision_is_derived_from_sorted_paths_and_hashes(self, events):
        model = factories.ModelFactory()
        files = [spec("b.bin", b"2"), spec("a.bin", b"1")]
        release = release_create(actor=None, model=model, version="1.0", files=files)
        expected = hashlib.sha1(
            f"a.bin\0{files[1].sha256}\nb.bin\0{files[0].sha256}\n".encode(), usedforsecurity=False
        ).hexdigest()
        assert release.revision == expected == compute_revision((f.path, f.sha256) for f in reversed(files))
        assert release_by_ref(model, "1.0") == release_by_ref(model, release.revision) == release
        assert list(release.files.values_list("path", flat=True)) == ["a.bin", "b.bin"]
        assert events() == ["catalog.release.created"]

    @pytest.mark.parametrize(
        "files",
        [[], [spec("a"), spec("a")], [spec("../etc/passwd")], [spec("/abs")], [spec("a//b")], [spec("a\\b")]],
    )
    def test_bad_file_lists_are_refused(self, files):
        with pytest.raises(ValidationFailed):
            release_create(actor=None, model=factories.ModelFactory(), version="1.0", files=files)

    def test_bad_versions_are_refused(self):
        model = factories.ModelFactory()
        for version in ["", "a b", "0123456789abcdef0123456789abcdef01234567"]:
            with pytest.raises(ValidationFailed):
                release_create(actor=None, model=model, version=version, files=[spec("a")])

    def test_same_version_or_same_files_twice_is_refused(self):
        model = factories.ModelFactory()
        release_create(actor=None, model=model, version="1.0", files=[spec("a")])
        with pytest.raises(Conflict):
            release_create(actor=None, model=model, version="1.0", files=[spec("b")])
        with pytest.raises(Conflict, match="exactly these files"):
            release_create(actor=None, model=model, version="2.0", files=[spec("a")])


@pytest.mark.parametrize(
    ("source", "absent"),
    [
        ("<script>alert(1)</script>", "<script"),
        ('<img src=x onerror="alert(1)">', "onerror"),
        ("[x](javascript:alert(1))", "javascript:"),
        ('<iframe src="https://evil.example"></iframe>', "<iframe"),
    ],
)
def test_model_card_markdown_is_sanitised(source, absent):
    assert absent not in render_markdown(source)


def test_model_card_markdown_keeps_formatting():
    html = render_markdown("## Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[link](https://example.org)")
    assert "<h2>Title</h2>" in html and "<table>" in html and 'href="https://example.org"' in html
