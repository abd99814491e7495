from django.apps import AppConfig


class PublishingConfig(AppConfig):
    """The publisher's console: one page per model for the people who release it."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "accessgate.publishing"
    label = "publishing"
