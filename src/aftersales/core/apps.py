from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "aftersales.core"
    label = "core"
