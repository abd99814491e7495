"""A publisher who is not an admin releases a model end to end in a
real browser, with the weights going to s3rver by multipart upload straight from the page."""

import csv
import io
import re

import pytest

from accessgate.access import services
from accessgate.access.models import Grant
from accessgate.audit.models import AuditEvent
from accessgate.catalog.models import Model, ModelStatus
from accessgate.downloads.models import UPLOAD_PART_SIZE
from accessgate.downloads.services import download_url_issue
from accessgate.notifications.models import Email
from tests.support.applications import application
from tests.support.browser import log_in

from .. import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

USE = "Red-teaming refusal behaviour for a university safety study, with results shared with the lab first."
BIG = 4 * UPLOAD_PART_SIZE + 1024 * 1024  # 65 MiB: five parts


def test_a_publisher_releases_a_model(new_page, settings, s3rver, tmp_path):  # noqa: F811
    settings.ACCESSGATE_STORAGE_BACKEND = "s3"
    settings.ACCESSGATE_S3 = s3rver
    publisher = factories.UserFactory(role="publisher", email="release-manager@example.org")
    researcher = factories.UserFactory(email="holder@example.org", profile__full_name="Grace Holder")
    big = tmp_path / "model.safetensors"
    with open(big, "wb") as handle:
        handle.truncate(BIG)
    small = tmp_path / "config.json"
    small.write_text('{"architectures": ["Demo"]}')

    page = new_page()
    log_in(page, publisher.email, factories.PASSWORD, publisher.totp_secret)

    # A draft with a card, previewed before saving.
    page.goto("/publish/new/")
    page.locator("#id_namespace").fill("acme-lab")
    page.locator("#id_name").fill("release-7b")
    page.locator("#id_display_name").fill("Release 7B")
    page.get_by_role("button", name="Create draft").click()
    page.get_by_label("Model card (Markdown)").fill("# Release 7B\nA **careful** model.")
    page.get_by_role("button", name="Preview").click()
    assert page.locator("#card-preview strong").inner_text() == "careful"
    page.get_by_role("button", name="Save card").click()
    assert page.get_by_text("Card saved.").is_visible()
    model = Model.objects.get(name="release-7b")
    assert model.status == ModelStatus.DRAFT and list(model.publishers.all()) == [publisher]

    # A licence, then a policy whose three bad values are refused beside their fields.
    page.get_by_role("link", name="Licence", exact=True).click()
    page.locator("#id_name").fill("Acme Research Licence")
    page.locator("#id_version").fill("1.0")
    page.locator("#id_text").fill("Research use only.\nDo not redistribute.")
    page.get_by_role("button", name="Review the new version").click()
    assert page.get_by_text("can never change").is_visible()
    page.get_by_role("button", name="Publish Acme Research Licence 1.0").click()
    page.get_by_role("link", name="Policy", exact=True).click()
    page.get_by_label("Licence version").select_option(label="Acme Research Licence 1.0")
    page.get_by_label("Download URLs per file per grant").fill("0")
    page.get_by_label("Download URL lifetime (seconds)").fill(str(8 * 24 * 3600))
    page.get_by_label("Blocked countries").fill("KP, NARNIA")
    page.get_by_role("button", name="Create policy").click()
    errors = page.locator(".field-error")
    assert errors.all_inner_texts() == [
        "A download URL lives between 1 second and 7 days.",
        "Allow at least one download per file, or leave it empty.",
        "Unknown country codes: NARNIA.",
    ]
    assert "Constraint" not in page.content()
    page.get_by_label("Download URLs per file per grant").fill("5")
    page.get_by_label("Download URL lifetime (seconds)").fill("600")
    page.get_by_label("Blocked countries").fill("KP")
    page.get_by_role("button", name="Create policy").click()
    assert page.get_by_text("Policy created.").is_visible()

    # A release uploaded from the browser: the big file goes to s3rver in parts.
    page.get_by_role("link", name="Releases", exact=True).click()
    page.locator("#upload-version").fill("1.0")
    page.locator("#upload-files").set_input_files([str(small), str(big)])
    page.get_by_role("button", name="Upload", exact=True).click()
    page.wait_for_url(re.compile(r"/releases/imports/\d+/$"), timeout=120_000)
    page.locator("#import-status", has_text="Done").wait_for(timeout=120_000)
    assert publisher.email in page.locator("dl").inner_text()
    release = model.releases.get()
    assert sorted(release.files.values_list("path", "size")) == [
        ("config.json", small.stat().st_size),
        ("model.safetensors", BIG),
    ]
    assert AuditEvent.objects.get(action="catalog.release.created").actor == publisher

    # Publish; the researcher applies; the publisher accepts from the pending list.
    page.get_by_role("link", name="Overview").click()
    page.get_by_role("button", name="Publish acme-lab/release-7b").click()
    assert page.get_by_text("is published").is_visible()
    model.refresh_from_db()
    assert model.status == ModelStatus.PUBLISHED
    request = services.access_request_submit(
        actor=researcher, **application(model, typed_name="Grace Holder", intended_use=USE)
    )
    page.get_by_role("link", name="Access", exact=True).click()
    assert page.get_by_role("cell", name=re.compile(researcher.email)).is_visible()
    page.get_by_role("button", name=f"Accept request #{request.pk}").click()
    grant = Grant.objects.active().get(user=researcher, model=model)
    for path in ("config.json", "model.safetensors", "config.json"):
        download_url_issue(
            user=researcher, release=release, weight_file=release.files.get(path=path), mfa_verified=False
        )

    # A new licence version: the diff, immutability, the holder count.
    page.get_by_role("link", name="Licence", exact=True).click()
    page.locator("#id_version").fill("2.0")
    page.locator("#id_text").fill("Research use only.\nDo not redistribute.\nCite the model card.")
    page.get_by_role("button", name="Review the new version").click()
    assert page.locator(".diff").inner_text().count("+Cite the model card.") == 1
    assert page.locator("#holder-count").inner_text() == "1 holder"
    page.get_by_role("button", name="Publish Acme Research Licence 2.0").click()
    assert page.get_by_text("1 holder(s) were e-mailed").is_visible()

    # The access report, as a CSV whose rows match the audit trail.
    page.get_by_role("link", name="Reports").click()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download the access report (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(open(info.value.path(), encoding="utf-8").read())))
    issued = AuditEvent.objects.filter(action="download.url_issued", details__grant_id=grant.pk)
    assert [(r["email"], r["grant_id"], r["licence_signed"]) for r in rows] == [
        (researcher.email, str(grant.pk), "Acme Research Licence 1.0")
    ]
    assert int(rows[0]["download_urls_issued"]) == issued.count() == 3
    assert int(rows[0]["files_downloaded"]) == len({e.details["path"] for e in issued}) == 2
    assert int(rows[0]["bytes_downloaded"]) == sum(e.details["size"] for e in issued)

    # The holder is told, and My access asks them to accept the new licence.
    email = Email.objects.get(to=[researcher.email], subject__contains="Accept the new licence")
    assert f"/access/grants/{grant.pk}/accept-licence/" in email.body_text
    holder_page = new_page()
    log_in(holder_page, researcher.email, factories.PASSWORD)
    holder_page.goto("/access/")
    assert holder_page.get_by_text("Licence to accept").is_visible()
    assert not holder_page.get_by_text("Active", exact=True).is_visible()
