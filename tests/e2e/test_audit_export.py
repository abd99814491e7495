"""An auditor filters the trail to a researcher's downloads, exports it, downloads the file and
its manifest in the browser, and the standalone script verifies them; one changed character
makes it fail."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from accessgate.access import services
from accessgate.accounts.services import token_create
from accessgate.audit.models import AuditExport
from tests.support.applications import application
from tests.support.browser import log_in

from .. import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "verify_audit_export.py"


def verify(*paths):
    args = [sys.executable, str(SCRIPT), str(paths[0]), str(paths[1]), "--public-key", str(paths[2])]
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


def test_auditor_exports_and_verifies_downloads(new_page, model, reviewer, auditor, tmp_path, live_server):
    holder = factories.UserFactory(email="holder@example.org", profile__full_name="Grace Holder")
    request = services.access_request_submit(actor=holder, **application(model, typed_name="Grace Holder"))
    services.access_request_approve(actor=reviewer, access_request=request)
    _, secret = token_create(actor=holder, name="cli")
    api = Client()
    for path in ("config.json", "model.safetensors", "config.json"):
        url = f"/models/{model.full_name}/1.0/files/{path}"
        assert api.get(url, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 302

    page = new_page()
    log_in(page, auditor.email, factories.PASSWORD, auditor.totp_secret)
    page.get_by_role("link", name="Audit trail").click()
    page.get_by_text("Filters").click()
    page.get_by_label("Actor e-mail contains").fill("holder@example.org")
    page.get_by_label("Action starts with").fill("download.")
    page.get_by_role("button", name="Filter").click()
    assert page.locator("tbody tr").count() == 3

    page.get_by_role("button", name="Exports").click()
    page.get_by_label("Actor e-mail contains").fill("holder@example.org")
    page.get_by_label("Action starts with").fill("download.")
    page.get_by_role("button", name="Export").click()
    page.get_by_text("100%").wait_for()
    export = AuditExport.objects.get()
    assert export.manifest["row_count"] == 3

    with page.expect_download() as file_info:
        page.get_by_role("button", name=f"Download {export.file_name}").click()
    with page.expect_download() as manifest_info:
        page.get_by_role("button", name="Download the signed manifest").click()
    export_path, manifest_path = tmp_path / export.file_name, tmp_path / "manifest.json"
    file_info.value.save_as(export_path)
    manifest_info.value.save_as(manifest_path)
    key_path = tmp_path / "public-key.pem"
    key_path.write_bytes(page.request.get(f"{live_server.url}/audit/public-key.pem").body())

    result = verify(export_path, manifest_path, key_path)
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("OK: ") and "3 events" in result.stdout

    export_path.write_text(export_path.read_text().replace("holder@example.org", "h0lder@example.org", 1))
    result = verify(export_path, manifest_path, key_path)
    assert result.returncode == 1 and result.stdout.startswith("FAILED")
