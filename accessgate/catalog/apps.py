from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "accessgate.catalog"
    label = "catalog"
