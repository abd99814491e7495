from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "accessgate.notifications"
    label = "notifications"
