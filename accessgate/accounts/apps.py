from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accessgate.accounts"
    label = "accounts"

    def ready(self):
        # Registering system checks and signal receivers at start-up is what ready() is for.
        from . import signals  # noqa: F401
