"""Every account has a stable, unique handle derived from its e-mail; log-in stays e-mail based."""

import importlib

import pytest
from django.apps import apps as global_apps
from django.core.exceptions import ValidationError
from django.urls import reverse

from accessgate.accounts.models import User, username_base, validate_username
from accessgate.accounts.services import user_create

from .. import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("email", "expected"),
    [("Ada.Lovelace@example.org", "ada.lovelace"), ("r+ai@x.org", "r-ai"), ("---@x.org", "user"), ("é@x.org", "user")],
)
def test_base_from_email(email, expected):
    assert username_base(email) == expected
    validate_username(expected)


def test_collision_gets_numeric_suffix_and_never_changes():
    first = user_create(actor=None, email="sam@one.org", password="x")
    second = user_create(actor=None, email="Sam@two.org", password="x")
    third = user_create(actor=None, email="sam@three.org", password="x")
    assert [first.username, second.username, third.username] == ["sam", "sam-2", "sam-3"]
    third.email = "other@three.org"
    third.save()
    third.refresh_from_db()
    assert third.username == "sam-3"


@pytest.mark.parametrize("bad", ["with space", "semi;colon", "ü", ""])
def test_validator_refuses_other_characters(bad):
    with pytest.raises(ValidationError):
        validate_username(bad)


def test_signup_by_email_gets_a_username_and_login_stays_email(client):
    response = client.post(
        reverse("account_signup"),
        {"email": "new.person@uni.example", "password1": "a-long-Passw0rd!", "password2": "a-long-Passw0rd!"},
    )
    assert response.status_code == 302
    user = User.objects.get(email="new.person@uni.example")
    assert user.username == "new.person"
    assert "username" not in client.get(reverse("account_login")).content.decode().lower().split("<form")[1][:2000]


def test_profile_shows_the_username(client):
    user = factories.UserFactory(email="shown@example.org")
    client.force_login(user)
    page = client.get(reverse("accounts:profile")).content.decode()
    assert f'<code id="username">{user.username}</code>' in page


def test_data_migration_fills_existing_users_oldest_first():
    migration = importlib.import_module("accessgate.accounts.migrations.0004_user_username")
    a = factories.UserFactory(email="dup@a.org")
    b = factories.UserFactory(email="dup@b.org")
    User.objects.filter(pk=a.pk).update(username="tmp-a")  # unique column: replace them one at a time
    User.objects.filter(pk=b.pk).update(username="tmp-b")
    migration.fill_usernames(global_apps, None)
    a.refresh_from_db(), b.refresh_from_db()
    assert (a.username, b.username) == ("dup", "dup-2")
