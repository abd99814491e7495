from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "accessgate.access"
    label = "access"
