import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accessgate.accounts.models import Profile
from accessgate.accounts.roles import Role, roles_of
from accessgate.accounts.services import profile_update, role_grant, role_remove, user_create
from accessgate.audit.models import AuditEvent
from accessgate.core.errors import ValidationFailed

from .. import factories

pytestmark = pytest.mark.django_db


def test_profile_update_creates_then_records_changed_fields(events):
    user = factories.UserFactory(profile=None)
    profile = profile_update(
        actor=user, user=user, full_name="Grace Hopper", affiliation="Navy", position="Admiral", country="US"
    )
    assert profile.is_complete
    profile_update(actor=user, user=user, affiliation="Navy")  # unchanged: no event
    profile_update(actor=user, user=user, orcid="0000-0002-1825-0097")
    assert events() == ["account.profile.updated", "account.profile.updated"]
    assert AuditEvent.objects.filter(action="account.profile.updated").first().details == {"fields": ["orcid"]}


@pytest.mark.parametrize("orcid", ["0000-0002-1825-0098", "1234", "0000-0002-1825-009"])
def test_bad_orcid_is_refused_and_nothing_changes(orcid):
    user = factories.UserFactory()
    with pytest.raises(Exception, match="ORCID"):
        profile_update(actor=user, user=user, orcid=orcid)
    assert Profile.objects.get(user=user).orcid == ""
    assert not AuditEvent.objects.filter(action="account.profile.updated").exists()


def test_orcid_with_x_check_digit_is_accepted():
    user = factories.UserFactory()
    assert profile_update(actor=user, user=user, orcid="0000-0002-9079-593X").orcid == "0000-0002-9079-593X"


def test_only_the_owner_edits_a_profile():
    owner, other = factories.UserFactory(), factories.UserFactory()
    with pytest.raises(ValidationFailed):
        profile_update(actor=other, user=owner, full_name="Hijack")


def test_role_grant_and_remove(events):
    user = factories.UserFactory()
    assert roles_of(user) == {Role.RESEARCHER}
    assert role_grant(actor=None, user=user, role=Role.REVIEWER) is True
    assert role_grant(actor=None, user=user, role=Role.REVIEWER) is False
    assert Role.REVIEWER in roles_of(user)
    assert role_remove(actor=None, user=user, role=Role.REVIEWER) is True
    assert role_remove(actor=None, user=user, role=Role.REVIEWER) is False
    assert events() == ["account.role.granted", "account.role.removed"]


def test_admin_role_opens_the_django_admin_flags():
    user = factories.UserFactory()
    role_grant(actor=None, user=user, role=Role.ADMIN)
    user.refresh_from_db()
    assert user.is_staff and user.is_superuser
    role_remove(actor=None, user=user, role=Role.ADMIN)
    user.refresh_from_db()
    assert not user.is_staff and not user.is_superuser


def test_researcher_role_is_not_grantable():
    with pytest.raises(ValidationFailed, match="every user is already a researcher"):
        role_grant(actor=None, user=factories.UserFactory(), role=Role.RESEARCHER)


def test_roles_command(capsys):
    user = factories.UserFactory(email="rev@example.org")
    call_command("roles", "grant", "REV@example.org", "auditor")
    call_command("roles", "list", "rev@example.org")
    assert "auditor, researcher" in capsys.readouterr().out
    call_command("roles", "remove", "rev@example.org", "auditor")
    assert roles_of(type(user).objects.get(pk=user.pk)) == {Role.RESEARCHER}
    with pytest.raises(CommandError, match="No user"):
        call_command("roles", "grant", "nobody@example.org", "reviewer")


def test_user_create_refuses_duplicates(events):
    user_create(actor=None, email="New@Example.org", password="x" * 12, email_verified=True)
    with pytest.raises(ValidationFailed, match="already exists"):
        user_create(actor=None, email="new@example.org", password="x" * 12)
    assert events() == ["account.signed_up"]
