from django.apps import AppConfig


class DownloadsConfig(AppConfig):
    name = "accessgate.downloads"
    label = "downloads"

    def ready(self):
        # Registering system checks and signal receivers at start-up is what ready() is for.
        from . import checks  # noqa: F401
