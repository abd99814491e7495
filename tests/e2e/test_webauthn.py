"""A security key as the second factor, with Chromium's virtual authenticator: the researcher
adds the key, signs in with it, and a model that requires two-factor then lets them download."""

import pytest

from accessgate.access import services
from accessgate.accounts.selectors import has_mfa
from accessgate.audit.models import AuditEvent
from tests.support.applications import application, make_policy
from tests.support.browser import confirm_password_if_asked, log_in

from .. import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_security_key_counts_as_two_factor_for_downloads(new_page, licence, reviewer, settings):
    settings.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True  # http://localhost in the test server
    model = factories.ModelFactory(reviewers=[reviewer])
    make_policy(model, licence, require_mfa=True, requirements_timing="after")  # approved first, the key comes later
    release = factories.make_release(model)
    user = factories.UserFactory(email="ada@example.org", profile__full_name="Ada Lovelace")
    request = services.access_request_submit(actor=user, **application(model, typed_name="Ada Lovelace"))
    services.access_request_approve(actor=reviewer, access_request=request)
    file_url = f"/models/{model.full_name}/{release.version}/files/config.json"

    page = new_page()
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    log_in(page, user.email, factories.PASSWORD)
    assert page.request.get(file_url, max_redirects=0).status == 403  # no second factor yet

    page.goto("/accounts/2fa/webauthn/add/")
    confirm_password_if_asked(page, factories.PASSWORD)
    page.get_by_label("Name").fill("Virtual key")
    page.get_by_role("button", name="Add").click()
    page.wait_for_url(lambda url: "/webauthn/add/" not in url)
    assert has_mfa(user)
    assert AuditEvent.objects.filter(action="account.mfa.added", actor=user, details__type="webauthn").exists()

    page.get_by_role("button", name="Sign out").click()
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.locator("#mfa_webauthn_authenticate").click()
    page.wait_for_url(lambda url: "/2fa/authenticate" not in url)
    response = page.request.get(file_url, max_redirects=0)
    assert response.status == 302, response.text()[:500]
