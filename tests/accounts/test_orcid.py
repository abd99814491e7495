"""ORCID is switched on by its credentials: allauth's provider is installed, its login URL
exists, and the profile offers to link an iD. (The OAuth exchange itself is allauth's.)"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from allauth.socialaccount.models import SocialAccount
from django.urls import reverse

from accessgate.accounts.adapters import SocialAccountAdapter

from .. import factories

ROOT = Path(__file__).resolve().parents[2]


def run(env_extra, code):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCESSGATE_ORCID")}
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env={**env, **env_extra},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_orcid_appears_only_when_configured():
    code = (
        "from django.urls import reverse; from django.conf import settings;"
        "print(reverse('orcid_login'), settings.SOCIALACCOUNT_PROVIDERS['orcid']['BASE_DOMAIN'])"
    )
    configured = run(
        {"ACCESSGATE_ORCID_CLIENT_ID": "APP-123", "ACCESSGATE_ORCID_SECRET": "s", "ACCESSGATE_ORCID_SANDBOX": "1"}, code
    )
    assert configured.returncode == 0, configured.stderr
    assert configured.stdout.strip().endswith("/accounts/orcid/login/ sandbox.orcid.org")
    assert run({}, code).returncode != 0  # no provider, no URL


@pytest.mark.django_db
def test_profile_shows_a_linked_orcid_as_verified_distinct_from_a_typed_one(client):
    user = factories.UserFactory(profile__orcid="0000-0002-9079-593X")
    client.force_login(user)
    page = client.get(reverse("accounts:profile")).content.decode()
    assert "not linked" in page and "Link your ORCID iD" not in page
    SocialAccount.objects.create(user=user, provider="orcid", uid="0000-0002-1825-0097")
    page = client.get(reverse("accounts:profile")).content.decode()
    assert "0000-0002-1825-0097 (verified via ORCID)" in page


@pytest.mark.django_db
def test_orcid_never_creates_accounts():
    assert SocialAccountAdapter().is_open_for_signup(None, None) is False
