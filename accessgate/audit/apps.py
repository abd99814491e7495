from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "accessgate.audit"
    label = "audit"

    def ready(self) -> None:
        # Registering system checks and signal receivers at start-up is what ready() is for.
        from . import checks  # noqa: F401
