import re

import pytest
from django.core import mail
from django.urls import reverse

from accessgate.accounts.models import Profile, User
from accessgate.audit.models import AuditEvent

from .. import factories

pytestmark = pytest.mark.django_db


def test_signup_requires_email_verification_before_login(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("account_signup"),
            {"email": "new@example.org", "password1": "a-long-passphrase-1", "password2": "a-long-passphrase-1"},
        )
    assert response.status_code == 302
    assert User.objects.filter(email="new@example.org").exists()
    assert AuditEvent.objects.filter(action="account.signed_up", actor_label="new@example.org").exists()

    # Not verified yet: logging in sends to the "verify your e-mail" page, not the portal.
    client.logout()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("account_login"), {"login": "new@example.org", "password": "a-long-passphrase-1"}
        )
    assert response["Location"] == reverse("account_email_verification_sent")
    assert client.get(reverse("access:my_access")).status_code == 302

    link = re.search(r"http://testserver(/accounts/confirm-email/\S+/)", mail.outbox[0].body).group(1)
    client.post(link)
    assert client.get(reverse("access:my_access")).status_code == 200


def test_login_failures_are_rate_limited(client):
    user = factories.UserFactory()
    for _ in range(5):
        client.post(reverse("account_login"), {"login": user.email, "password": "wrong"})
    # Even the right password is refused now, so guessing gains nothing.
    response = client.post(reverse("account_login"), {"login": user.email, "password": factories.PASSWORD})
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_requests_per_ip_are_rate_limited(client):
    statuses = {
        client.post(reverse("account_login"), {"login": f"u{i}@example.org", "password": "x"}).status_code
        for i in range(31)
    }
    assert 429 in statuses


def test_login_is_audited(client):
    user = factories.UserFactory()
    client.post(reverse("account_login"), {"login": user.email, "password": factories.PASSWORD})
    assert AuditEvent.objects.filter(action="account.logged_in", actor=user).exists()


def test_profile_edit_and_redirect_back(client):
    user = factories.UserFactory(profile=None)
    client.force_login(user)
    url = reverse("accounts:profile") + "?next=/models/acme/m/apply/"
    response = client.post(
        url,
        {"full_name": "Ada Lovelace", "affiliation": "Analytical Society", "position": "Analyst", "country": "GB"},
    )
    assert response["Location"] == "/models/acme/m/apply/"
    assert Profile.objects.get(user=user).is_complete


def test_profile_refuses_bad_input_and_open_redirects(client):
    user = factories.UserFactory(profile=None)
    client.force_login(user)
    response = client.post(reverse("accounts:profile"), {"full_name": "Ada", "country": "XX", "orcid": "nope"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "This field is required" in page and "Enter an ORCID iD like" in page
    assert not Profile.objects.filter(user=user).exists()

    response = client.post(
        reverse("accounts:profile") + "?next=https://evil.example/",
        {"full_name": "Ada L", "affiliation": "A", "position": "P", "country": "GB"},
    )
    assert response["Location"] == reverse("accounts:profile")


def test_allauth_account_changes_are_audited(client, django_capture_on_commit_callbacks, events):
    user = factories.UserFactory(email="ada@example.org")
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_email"), {"action_add": "", "email": "ada@ox.ac.uk"})
    link = re.search(r"http://testserver(/accounts/confirm-email/\S+/)", mail.outbox[-1].body).group(1)
    client.post(link)
    client.post(
        reverse("account_change_password"),
        {
            "oldpassword": factories.PASSWORD,
            "password1": "another long passphrase 2",
            "password2": "another long passphrase 2",
        },
    )
    client.post(reverse("account_email"), {"action_remove": "", "email": "ada@ox.ac.uk"})
    recorded = [a for a in events() if a.startswith("account.") and a != "account.logged_in"]
    assert recorded == [
        "account.email.added",
        "account.email.confirmed",
        "account.password.changed",
        "account.email.removed",
    ]
    assert AuditEvent.objects.filter(action="account.email.added").get().details == {"email": "ada@ox.ac.uk"}
