from django.conf import settings
from django.core.checks import Error, Warning, register


@register()
def identity_settings(app_configs, **kwargs):
    provider = settings.ACCESSGATE_IDENTITY_PROVIDER
    errors = []
    if provider not in ("stripe", "dev", "none"):
        errors.append(
            Error(f"ACCESSGATE_IDENTITY_PROVIDER is {provider!r}; use stripe, dev or none.", id="accessgate.E020")
        )
    if provider == "dev" and not settings.DEBUG:
        errors.append(
            Error(
                "The dev identity provider marks anyone as verified; it is refused with DEBUG off.",
                hint="Set ACCESSGATE_IDENTITY_PROVIDER=stripe (or none).",
                id="accessgate.E021",
            )
        )
    if provider == "stripe" and not (
        settings.ACCESSGATE_STRIPE_SECRET_KEY and settings.ACCESSGATE_STRIPE_WEBHOOK_SECRET
    ):
        errors.append(
            Error(
                "Stripe Identity needs ACCESSGATE_STRIPE_SECRET_KEY and ACCESSGATE_STRIPE_WEBHOOK_SECRET.",
                id="accessgate.E022",
            )
        )
    if provider == "none" and not settings.DEBUG:
        errors.append(
            Warning(
                "No identity provider: policies that require a verified identity cannot be satisfied.",
                id="accessgate.W020",
            )
        )
    return errors
