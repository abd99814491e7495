from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "accessgate.audit"
    label = "audit"
