import pytest

from ..support.fake_stripe import API_KEY, WEBHOOK_SECRET, FakeStripe


@pytest.fixture
def fake_stripe(settings):
    """Stripe settings pointed at a local server; the product's real stripe client code runs."""
    server = FakeStripe().start()
    settings.ACCESSGATE_IDENTITY_PROVIDER = "stripe"
    settings.ACCESSGATE_STRIPE_SECRET_KEY = API_KEY
    settings.ACCESSGATE_STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.ACCESSGATE_STRIPE_API_BASE = server.url
    yield server
    server.stop()
