from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "aftersales.notifications"
    label = "notifications"

    def ready(self) -> None:
        from . import subscribers  # noqa: F401
