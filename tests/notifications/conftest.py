import pytest
from django.db import transaction

from accessgate.notifications.services import webhook_endpoint_create
from accessgate.notifications.webhooks import WEBHOOK_EVENTS

from .webhook_receiver import start_receiver, stop_receiver

ALL_EVENTS = None  # webhook_endpoint() default: every webhook event


@pytest.fixture
def receiver():
    server = start_receiver()
    yield server.receiver
    stop_receiver(server)


@pytest.fixture
def webhook_endpoint(db, receiver, admin_user):
    """A factory: register an endpoint at the test receiver through the audited service."""

    def make(*, events=ALL_EVENTS, model=None, url=None):
        with transaction.atomic():
            return webhook_endpoint_create(
                actor=admin_user,
                url=url or receiver.url,
                events=events if events is not None else [a.value for a in WEBHOOK_EVENTS],
                model=model,
            )

    return make
