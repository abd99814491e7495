from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "accessgate.notifications"
    label = "notifications"

    def ready(self):
        from accessgate.audit.signals import connect_for

        from .webhooks import WEBHOOK_EVENTS, on_event_recorded

        connect_for(on_event_recorded, actions=WEBHOOK_EVENTS, dispatch_uid="notifications.webhooks")
