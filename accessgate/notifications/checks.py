import ipaddress

from django.conf import settings
from django.core.checks import Error, register


@register()
def webhook_settings(app_configs, **kwargs):
    errors = []
    if settings.ACCESSGATE_WEBHOOK_ALLOW_HTTP and not settings.DEBUG:
        errors.append(
            Error(
                "ACCESSGATE_WEBHOOK_ALLOW_HTTP is on with DEBUG off: webhook bodies and signatures "
                "would cross the network in clear.",
                hint="Use https receivers and unset ACCESSGATE_WEBHOOK_ALLOW_HTTP.",
                id="accessgate.E050",
            )
        )
    for entry in settings.ACCESSGATE_WEBHOOK_ALLOWED_NETWORKS:
        try:
            network = ipaddress.ip_network(entry.strip(), strict=False)
        except ValueError:
            errors.append(
                Error(
                    f"ACCESSGATE_WEBHOOK_ALLOWED_NETWORKS has {entry!r}, which is not an address or CIDR network.",
                    hint="List networks like 10.20.0.0/16 or fd00:1::/64, comma-separated.",
                    id="accessgate.E051",
                )
            )
            continue
        if network.prefixlen == 0:
            errors.append(
                Error(
                    f"ACCESSGATE_WEBHOOK_ALLOWED_NETWORKS has {entry!r}, which allows every address "
                    "(the metadata service and the loopback included).",
                    hint="List only the internal receivers' networks.",
                    id="accessgate.E052",
                )
            )
    if settings.ACCESSGATE_WEBHOOK_TIMEOUT <= 0:
        errors.append(Error("ACCESSGATE_WEBHOOK_TIMEOUT must be a positive number of seconds.", id="accessgate.E053"))
    return errors
