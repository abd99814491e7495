import pytest
from django.urls import reverse

from accessgate.accounts.models import ApiToken
from accessgate.accounts.services import token_create, token_revoke
from accessgate.audit.models import AuditEvent
from accessgate.core.errors import ValidationFailed

from .. import factories

pytestmark = pytest.mark.django_db


def test_secret_is_shown_once_and_kept_as_a_hash(client, events):
    user = factories.UserFactory()
    client.force_login(user)
    page = client.post(reverse("accounts:tokens"), {"name": "cluster-a", "days": 30}).content.decode()
    token = ApiToken.objects.get(user=user)
    secret = page.split('id="new-token">')[1].split("<")[0]
    assert secret.startswith("agt_") and secret.startswith(token.prefix)
    assert secret not in str(list(ApiToken.objects.values()))
    assert secret not in client.get(reverse("accounts:tokens")).content.decode()
    assert token.prefix in client.get(reverse("accounts:tokens")).content.decode()
    assert events() == ["account.logged_in", "account.token.created"]
    assert secret not in str(list(AuditEvent.objects.values_list("details", flat=True)))


@pytest.mark.parametrize(
    ("data", "message"), [({"name": "", "days": 30}, "required"), ({"name": "x", "days": 400}, "365")]
)
def test_bad_token_input(client, data, message):
    client.force_login(factories.UserFactory())
    response = client.post(reverse("accounts:tokens"), data)
    assert message in response.content.decode()
    assert not ApiToken.objects.exists()


def test_token_lifetime_limits():
    user = factories.UserFactory()
    with pytest.raises(ValidationFailed):
        token_create(actor=user, name="x", days=0)
    with pytest.raises(ValidationFailed):
        token_create(actor=user, name="x", days=366)
    token, _ = token_create(actor=user, name="default")
    assert 89 <= (token.expires_at - token.created_at).days <= 90


def test_revoke_asks_first_and_only_the_owner(client):
    owner, other = factories.UserFactory(), factories.UserFactory()
    token, _ = token_create(actor=owner, name="laptop")
    url = reverse("accounts:token_revoke", args=[token.pk])
    client.force_login(other)
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    client.force_login(owner)
    assert "Revoke “laptop”?" in client.get(url).content.decode()
    client.post(url)
    token.refresh_from_db()
    assert token.revoked_at is not None
    with pytest.raises(ValidationFailed):
        token_revoke(actor=owner, token=token)
