from django.apps import AppConfig


class DownloadsConfig(AppConfig):
    name = "accessgate.downloads"
    label = "downloads"

    def ready(self):
        from . import checks  # noqa: F401
