from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "accessgate.notifications"
    label = "notifications"

    def ready(self):
        # Registering system checks and signal receivers at start-up is what ready() is for.
        from accessgate.audit.signals import connect_for

        from . import checks  # noqa: F401
        from .webhooks import WEBHOOK_EVENTS, on_event_recorded

        connect_for(on_event_recorded, actions=WEBHOOK_EVENTS, dispatch_uid="notifications.webhooks")
