import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from accessgate.accounts.roles import Role
from accessgate.accounts.services import role_grant

from .. import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "url"),
    [("reviewer", "/review/"), ("auditor", "/audit/"), ("admin", "/admin/"), ("admin", "/audit/exports/")],
)
def test_staff_without_mfa_are_sent_to_set_it_up(client, role, url):
    user = factories.UserFactory()
    role_grant(actor=None, user=user, role=Role(role))
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp")
    factories.add_totp(user)
    assert client.get(url).status_code == 200


def test_researchers_and_public_pages_are_not_affected(client):
    client.force_login(factories.UserFactory())
    assert client.get(reverse("access:my_access")).status_code == 200
    assert client.get(reverse("audit:public_key")).status_code == 200


def test_totp_code_command_prints_the_current_code(settings, capsys):
    user = factories.UserFactory(email="staff@example.org")
    secret = factories.add_totp(user)
    settings.DEBUG = True
    call_command("totp_code", "staff@example.org")
    assert capsys.readouterr().out.splitlines()[0] == factories.totp_code(secret)
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("totp_code", "staff@example.org")
