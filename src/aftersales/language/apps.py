from django.apps import AppConfig


class LanguageConfig(AppConfig):
    name = "aftersales.language"
    label = "language"
    verbose_name = "Language engine"

    def ready(self) -> None:
        from . import subscribers  # noqa: F401  (registers event handlers)
