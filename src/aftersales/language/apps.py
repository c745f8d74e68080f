from django.apps import AppConfig


class LanguageConfig(AppConfig):
    name = "aftersales.language"
    label = "language"
    verbose_name = "Language engine"
