import pytest
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
