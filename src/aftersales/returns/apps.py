from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "aftersales.returns"
    label = "returns"
    verbose_name = "Returns"

    def ready(self) -> None:
        from . import refund_subscribers  # noqa: F401  (refund execution after approval)
