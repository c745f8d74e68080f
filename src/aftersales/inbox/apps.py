from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "aftersales.inbox"
    label = "inbox"
    verbose_name = "Inbox"

    def ready(self) -> None:
        from . import subscribers  # noqa: F401  (registers event handlers)
