"""The console's import page in Chromium: the script keeps the bar and the text current from
the status endpoint while the import runs, shows the outcome when it ends, and axe-core
finds no serious or critical violation on the page (desktop and phone widths)."""

import pytest

from accessgate.core.jobs import JobStatus
from accessgate.downloads.models import ReleaseImport
from tests.support.browser import AXE_RUN, log_in, needs_axe

from .. import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@needs_axe
@pytest.mark.parametrize("width", [1280, 390])
def test_the_import_page_follows_a_running_import(sized_page, model, publisher, width):
    model.publishers.add(publisher)
    job = ReleaseImport.objects.create(
        model=model,
        version="2.0",
        source="/weights",
        status=JobStatus.RUNNING,
        files_total=9,
        bytes_total=4_000_000_000,
        current_file="model-00001.safetensors",
    )
    page = sized_page(width)
    log_in(page, publisher.email, factories.PASSWORD, publisher.totp_secret)
    page.goto(f"/publish/{model.namespace}/{model.name}/releases/imports/{job.pk}/")
    bar = page.get_by_label("Import progress")
    assert bar.evaluate("e => e.tagName") == "PROGRESS"
    assert page.evaluate(AXE_RUN) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    ReleaseImport.objects.filter(pk=job.pk).update(
        files_done=3, bytes_done=1_200_000_000, rate=85_000_000, current_file="model-00004.safetensors"
    )
    text = page.locator("#import-progress-text")
    text.filter(has_text="3 of 9 files · 1.2 GB of 4.0 GB · 85 MB/s · about 33 s left").wait_for()
    assert bar.evaluate("e => e.value") == 1_200_000_000
    assert page.locator("#import-progress-file").inner_text().endswith("model-00004.safetensors")

    ReleaseImport.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, error="The store refused part 4.")
    page.locator("#import-status", has_text="Failed").wait_for()
    page.get_by_text("The store refused part 4.").wait_for()  # the page reloaded with the outcome
