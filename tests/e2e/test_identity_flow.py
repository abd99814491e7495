"""The demo's identity path in a real browser: a researcher applying to a model that needs a
verified identity and two-factor sees the checklist, sets up TOTP, verifies with the dev
provider, and is approved automatically."""

import pytest

from accessgate.access.models import Grant
from accessgate.audit.models import AuditEvent
from tests.support.applications import make_policy
from tests.support.browser import confirm_password_if_asked, log_in

from .. import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_checklist_totp_dev_identity_then_auto_approval(new_page, licence, settings):
    settings.DEBUG = True  # the dev identity provider exists only in development
    settings.ACCESSGATE_IDENTITY_PROVIDER = "dev"
    model = factories.ModelFactory(name="secure-13b")
    make_policy(model, licence, gating="auto", require_identity=True, require_mfa=True)
    factories.make_release(model)
    user = factories.UserFactory(email="ada@example.org", profile__full_name="Ada Lovelace", profile__country="GB")

    page = new_page()
    log_in(page, user.email, factories.PASSWORD)
    page.goto(f"/models/{model.full_name}/apply/")
    checklist = page.locator(".checklist")
    assert checklist.locator(".unmet").count() == 2
    assert "A verified identity" in checklist.inner_text() and "Two-factor authentication" in checklist.inner_text()

    # Two-factor: the "fix this" link leads to allauth's set-up page.
    checklist.locator(".unmet").filter(has_text="Two-factor").get_by_role("link", name="fix this").click()
    page.goto("/accounts/2fa/totp/activate/")
    confirm_password_if_asked(page, factories.PASSWORD)
    secret = page.get_by_label("Authenticator secret").input_value()
    page.get_by_label("Authenticator code").fill(factories.totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    page.wait_for_url(lambda url: "/totp/activate/" not in url)
    assert AuditEvent.objects.filter(action="account.mfa.added", actor=user, details__type="totp").exists()

    # Identity, through the development provider's page.
    page.goto("/identity/")
    page.get_by_role("button", name="Verify my identity").click()
    page.get_by_role("button", name="Simulate verified").click()
    assert page.get_by_text("Your identity is verified until").is_visible()

    page.goto(f"/models/{model.full_name}/apply/")
    assert page.locator(".checklist .unmet").count() == 0
    page.get_by_label("Intended use").fill("Evaluating refusal robustness for a university safety study.")
    for box in page.locator("fieldset input[type=checkbox]").all():
        box.check()
    page.get_by_label("Type your full name to sign").fill("Ada Lovelace")
    page.get_by_role("button", name="Sign and submit").click()
    assert page.get_by_text(f"Access to {model.full_name} is granted.").is_visible()
    assert Grant.objects.active().filter(user=user, model=model).exists()
