from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "accessgate.notifications"
    label = "notifications"

    def ready(self):
        from accessgate.audit.signals import event_recorded

        from .webhooks import on_event_recorded

        event_recorded.connect(on_event_recorded, dispatch_uid="notifications.webhooks")
