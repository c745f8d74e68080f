from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupsConfig(AppConfig):
    name = "aftersales.followups"
    label = "followups"
    verbose_name = _("Follow-ups")

    def ready(self) -> None:
        from . import subscribers  # noqa: F401
