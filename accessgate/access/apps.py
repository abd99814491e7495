from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "accessgate.access"
    label = "access"

    def ready(self):
        # Importing the module connects its receivers (Django's documented place for it).
        from . import receivers  # noqa: F401
