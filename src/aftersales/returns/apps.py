from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "aftersales.returns"
    label = "returns"
    verbose_name = "Returns"

    def ready(self) -> None:
        from . import (
            bulk_subscribers,  # noqa: F401  (registers event handlers)
            notify_subscribers,  # noqa: F401  (buyer told of delivery and of a paid refund)
            refund_subscribers,  # noqa: F401  (refund execution after approval)
            rma_subscribers,  # noqa: F401  (RMA write-backs, notifications, tracking)
        )
