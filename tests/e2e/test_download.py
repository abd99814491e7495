"""A grant holder downloads a file from the download page in a real browser."""

import hashlib

import pytest

from accessgate.access import services
from accessgate.audit.models import AuditEvent
from tests.support.applications import application
from tests.support.browser import log_in

from .. import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_browser_download(new_page, model, reviewer, tmp_path):
    holder = factories.UserFactory(email="holder@example.org", profile__full_name="Grace Holder")
    request = services.access_request_submit(actor=holder, **application(model, typed_name="Grace Holder"))
    services.access_request_approve(actor=reviewer, access_request=request)
    release = model.releases.get()
    weight_file = release.files.get(path="model.safetensors")

    page = new_page()
    log_in(page, holder.email, factories.PASSWORD)
    page.goto(f"/models/{model.full_name}/")
    page.get_by_role("button", name=f"Download {release.version}").click()
    assert page.get_by_text(weight_file.sha256).is_visible()
    assert "aria2c" in page.content() and "sha256sum -c SHA256SUMS" in page.content()

    row = page.get_by_role("row").filter(has_text="model.safetensors")
    with page.expect_download() as info:
        row.get_by_role("button", name="Download").click()
    download = info.value
    assert download.suggested_filename == "model.safetensors"
    saved = tmp_path / "model.safetensors"
    download.save_as(saved)
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == weight_file.sha256
    assert AuditEvent.objects.filter(action="download.url_issued", actor=holder).count() == 1
