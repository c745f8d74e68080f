from django.apps import AppConfig


class WarrantyConfig(AppConfig):
    name = "aftersales.warranty"
    label = "warranty"
    verbose_name = "Warranty and repair"
