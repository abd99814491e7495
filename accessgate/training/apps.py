from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "accessgate.training"
    label = "training"
