from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "accessgate.audit"
    label = "audit"

    def ready(self):
        from . import checks  # noqa: F401
