"""E-mails are written in the portal's language, whoever's request sends them."""

import pytest
from django.utils import translation

from accessgate.notifications import services

pytestmark = pytest.mark.django_db


def test_an_email_is_rendered_in_the_portal_language_not_the_senders(monkeypatch, settings):
    settings.LANGUAGE_CODE = "en"
    monkeypatch.setattr(services, "render_to_string", lambda name, context: f"{name}:{translation.get_language()}")
    with translation.override("de"):
        email = services.email_queue(to=["ada@example.org"], template="grant_revoked", context={})
        assert translation.get_language() == "de"
    assert email.subject == "[accessgate] notifications/email/grant_revoked_subject.txt:en"
    assert email.body_text.endswith(".txt:en") and email.body_html.endswith(".html:en")
