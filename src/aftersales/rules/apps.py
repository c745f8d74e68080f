from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RulesConfig(AppConfig):
    name = "aftersales.rules"
    label = "rules"
    verbose_name = _("Rules")

    def ready(self) -> None:
        from . import subscribers  # noqa: F401
