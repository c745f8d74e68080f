from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "aftersales.returns"
    label = "returns"
    verbose_name = "Returns"

    def ready(self) -> None:
        from . import (
            bulk_subscribers,  # noqa: F401  (registers event handlers)
            refund_subscribers,  # noqa: F401  (refund execution after approval)
            rma_subscribers,  # noqa: F401  (RMA write-backs, notifications, tracking)
        )
