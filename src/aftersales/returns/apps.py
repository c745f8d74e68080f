from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "aftersales.returns"
    label = "returns"
    verbose_name = "Returns"
