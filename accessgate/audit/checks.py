from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, register


@register(deploy=True)
def audit_signing_key(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    if settings.DEBUG or settings.ACCESSGATE_AUDIT_SIGNING_KEY or settings.ACCESSGATE_AUDIT_SIGNING_KEY_FILE:
        return []
    return [
        Error(
            "Audit exports cannot be signed: set ACCESSGATE_AUDIT_SIGNING_KEY (PEM) "
            "or ACCESSGATE_AUDIT_SIGNING_KEY_FILE.",
            hint="python -c 'from accessgate.audit.signing import generate_private_key_pem as g; print(g().decode())'",
            id="accessgate.E010",
        )
    ]
