from django.apps import AppConfig


class WarrantyConfig(AppConfig):
    name = "aftersales.warranty"
    label = "warranty"
    verbose_name = "Warranty and repair"

    def ready(self) -> None:
        from . import subscribers  # noqa: F401  (a requested replacement reserves its stock)
