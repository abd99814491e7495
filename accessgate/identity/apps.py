from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "accessgate.identity"
    label = "identity"

    def ready(self):
        from . import checks  # noqa: F401
