from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "accessgate.identity"
    label = "identity"

    def ready(self):
        # Registering system checks and signal receivers at start-up is what ready() is for.
        from . import checks  # noqa: F401
