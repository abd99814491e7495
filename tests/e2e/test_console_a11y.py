"""The publisher's console at a desktop and a phone width: every
section page, a failed policy save and an import page are no wider than the viewport and
axe-core finds no serious or critical violation; so are the admin's pages reached from the
console (staff roles, publishers of a model, the Django admin's import page). Screenshots and
widths land in var/screenshots/ (gitignored) as console-*.png and console-widths-<width>.json."""

import pytest

from accessgate.access import services
from accessgate.core.jobs import JobStatus
from accessgate.downloads.models import ReleaseImport
from accessgate.downloads.services import download_url_issue
from tests.support.applications import application
from tests.support.browser import WIDTHS, Inspector, log_in, needs_axe

from .. import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Long unbroken strings are what push a phone page wide: an e-mail, a path, a source prefix.
LONG_EMAIL = "grace.holder-with-a-rather-long-address@research-institute-of-example.org"
LONG_PATH = "checkpoints/step-0001000/model-00001-of-00004-with-a-long-name.safetensors"
SOURCE = "s3://accessgate-weights-bucket/acme-lab/release-7b/checkpoints/step-0001000/final/"


def console_with_traffic(model, publisher, reviewer, auditor):
    """A model its publisher runs, with a holder who downloaded, a pending request and a
    failed import whose error and source are long."""
    model.publishers.add(publisher)
    holder = factories.UserFactory(email=LONG_EMAIL, profile__full_name="Grace Holder")
    granted = services.access_request_submit(actor=holder, **application(model, typed_name="Grace Holder"))
    services.access_request_approve(actor=reviewer, access_request=granted)
    release = factories.make_release(model, version="2.0", files={LONG_PATH: b"weights" * 100, "config.json": b"{}"})
    for weight_file in release.files.all():
        download_url_issue(user=holder, release=release, weight_file=weight_file, mfa_verified=False)
    applicant = factories.UserFactory(email="applicant@example.org", profile__full_name="Ada Applicant")
    services.access_request_submit(actor=applicant, **application(model, typed_name="Ada Applicant"))
    return ReleaseImport.objects.create(
        model=model,
        version="3.0",
        source=SOURCE,
        status=JobStatus.FAILED,
        files_total=4,
        files_done=1,
        bytes_total=20_000_000_000,
        bytes_done=5_000_000_000,
        current_file=LONG_PATH,
        error=f"The store refused part 4 of {LONG_PATH}.",
        requested_by=publisher,
    )


@needs_axe
@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_the_console_at_desktop_and_phone_width(sized_page, width, model, publisher, reviewer, auditor, admin_user):
    job = console_with_traffic(model, publisher, reviewer, auditor)
    base = f"/publish/{model.namespace}/{model.name}/"
    inspector = Inspector(width)

    page = sized_page(width)
    log_in(page, publisher.email, factories.PASSWORD, publisher.totp_secret)
    page.goto("/publish/")
    inspector.check(page, "console-list")
    page.goto("/publish/new/")
    inspector.check(page, "console-new")
    for section, path in [
        ("overview", ""),
        ("card", "card/"),
        ("policy", "policy/"),
        ("licence", "licence/"),
        ("reviewers", "reviewers/"),
        ("releases", "releases/"),
        ("access-pending", "access/"),
        ("access-accepted", "access/?list=accepted"),
        ("reports", "reports/"),
        ("import", f"releases/imports/{job.pk}/"),
    ]:
        page.goto(base + path)
        inspector.check(page, f"console-{section}")

    # The import page belongs to the Releases section.
    menu = page.get_by_role("navigation", name="Console sections")
    current = menu.get_by_role("link", name="Releases")
    assert current.get_attribute("aria-current") == "page"
    # On the phone the menu scrolls inside its own box, with the current section in view and
    # room for its focus ring (3 px, #0b4f9c: 8:1 on white) inside the box.
    inside = current.evaluate(
        """e => { const l = e.getBoundingClientRect(), b = e.closest("ul").getBoundingClientRect();
        return [l.left >= b.left && l.right <= b.right, l.top - 5 >= b.top && l.bottom + 5 <= b.bottom,
                b.right <= window.innerWidth]; }"""
    )
    assert inside == [True, True, True]
    menu.get_by_role("link", name="Reviewers").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Releases"
    assert current.evaluate("e => getComputedStyle(e).outline") == "rgb(11, 79, 156) solid 3px"

    # A failed policy save: focus moves to the error summary, whose links name the fields.
    page.goto(base + "policy/")
    page.get_by_label("Download URL lifetime (seconds)").fill(str(8 * 24 * 3600))
    page.get_by_role("button", name="Save policy").click()
    page.wait_for_load_state("load")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert page.locator("#error-summary a").count() >= 1
    described = page.get_by_label("Download URL lifetime (seconds)").get_attribute("aria-describedby")
    assert described and all(page.locator(f"#{i}").count() == 1 for i in described.split())
    inspector.check(page, "console-policy-errors")

    # The admin: staff roles, the publishers of a model, and the admin's import page.
    admin = sized_page(width)
    log_in(admin, admin_user.email, factories.PASSWORD, admin_user.totp_secret)
    admin.goto("/publish/")
    inspector.check(admin, "console-admin-list")
    admin.goto("/publish/roles/")
    inspector.check(admin, "console-admin-roles")
    admin.goto(base + "reviewers/")
    assert admin.get_by_text("Publishers (admins only)").is_visible()
    inspector.check(admin, "console-admin-reviewers")
    admin.goto(f"/admin/downloads/releaseimport/{job.pk}/change/")
    inspector.check(admin, "console-admin-import")

    inspector.save_widths("console-widths")
    assert not inspector.problems, "\n".join(inspector.problems)
