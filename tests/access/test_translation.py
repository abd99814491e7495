"""Messages follow the active language when they are built; what is stored and audited does not.

No catalogue is compiled in the repository yet, so a few German entries are put into Django's
German translation for the length of a test (`german`)."""

from datetime import date

import pytest
from django.utils import translation
from django.utils.translation import trans_real

from accessgate.access import services
from accessgate.access.models import REQUEST_TRANSITIONS, GrantStatus, RequestStatus
from accessgate.access.rules.requirements import Facts, evaluate, waiting_label
from accessgate.audit.models import AuditEvent
from accessgate.core.errors import AccessDenied, InvalidTransition
from accessgate.core.i18n import local_date
from tests.support.applications import application, make_policy

from .. import factories

pytestmark = pytest.mark.django_db

GERMAN = {
    "A verified identity (document and selfie)": "Ein bestätigter Ausweis (Dokument und Selfie)",
    "Two-factor authentication": "Zwei-Faktor-Anmeldung",
    "approved, waiting for: %(labels)s": "genehmigt, wartet auf: %(labels)s",
    "Nobody can review their own request.": "Niemand prüft den eigenen Antrag.",
    "This {noun} is {state}; it cannot be {verb}.": "Dieser {noun} ist {state}; er kann nicht {verb} werden.",
    "request": "Antrag",
    "Withdrawn": "Zurückgezogen",
    "approved": "genehmigt",
}


@pytest.fixture
def german():
    catalogue = trans_real.translation("de")._catalog
    for msgid, msgstr in GERMAN.items():
        catalogue[msgid] = msgstr
    yield
    trans_real._translations.pop("de", None)  # the next use loads Django's own German again


def apply(model, user):
    return services.access_request_submit(actor=user, **application(model, typed_name=user.profile.full_name))


def test_a_grant_stores_and_audits_its_missing_requirements_in_the_source_language(german, licence, reviewer):
    model = factories.ModelFactory(reviewers=[reviewer])
    make_policy(model, licence, require_identity=True, require_mfa=True, requirements_timing="after")
    factories.make_release(model)
    request = apply(model, factories.UserFactory(profile__full_name="Grete Wartend"))
    english = ["A verified identity (document and selfie)", "Two-factor authentication"]

    with translation.override("de"):
        grant = services.access_request_approve(actor=reviewer, access_request=request)
        checklist = [r.label for r in evaluate(model.policy, Facts(request.user)) if not r.met]
        shown = waiting_label(grant.waiting_for)

    assert grant.status == GrantStatus.PENDING and grant.waiting_for == english
    assert AuditEvent.objects.get(action="grant.created").details["waiting_for"] == english
    # Shown to a German reader: the checklist and the stored labels, both translated.
    assert checklist == ["Ein bestätigter Ausweis (Dokument und Selfie)", "Zwei-Faktor-Anmeldung"]
    assert shown == "genehmigt, wartet auf: Ein bestätigter Ausweis (Dokument und Selfie), Zwei-Faktor-Anmeldung"
    assert waiting_label(grant.waiting_for) == f"approved, waiting for: {', '.join(english)}"


def test_a_refusal_is_written_in_the_language_active_when_it_is_raised(german, model, reviewer):
    request = apply(model, reviewer)
    with translation.override("de"), pytest.raises(AccessDenied) as refused:
        services.access_request_approve(actor=reviewer, access_request=request)
    assert refused.value.message == "Niemand prüft den eigenen Antrag."
    with pytest.raises(AccessDenied, match=r"^Nobody can review their own request\.$"):
        services.access_request_approve(actor=reviewer, access_request=request)


def test_a_refused_status_move_is_put_together_at_refusal_time(german):
    # The table is built at import; its noun, verbs and message are translated only when used.
    withdrawn = RequestStatus.WITHDRAWN.label
    with translation.override("de"), pytest.raises(InvalidTransition) as refused:
        REQUEST_TRANSITIONS.check(RequestStatus.WITHDRAWN, RequestStatus.APPROVED, state=str(withdrawn).lower())
    assert refused.value.message == "Dieser Antrag ist zurückgezogen; er kann nicht genehmigt werden."
    with pytest.raises(InvalidTransition, match=r"^This request is withdrawn; it cannot be approved\.$"):
        REQUEST_TRANSITIONS.check(RequestStatus.WITHDRAWN, RequestStatus.APPROVED, state=str(withdrawn).lower())


def test_dates_in_messages_follow_the_locale():
    day = date(2026, 11, 29)
    # English keeps the portal's ISO-style dates (accessgate/core/formats/en/formats.py).
    assert local_date(day) == "2026-11-29"
    with translation.override("de"):
        assert local_date(day) == "29. November 2026"
