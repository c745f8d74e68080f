from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RulesConfig(AppConfig):
    name = "aftersales.rules"
    label = "rules"
    verbose_name = _("Rules")

    def ready(self) -> None:
        from aftersales.notifications.outbox import signing_keys_register

        from . import subscribers  # noqa: F401
        from .webhook_secrets import KEY_PREFIX, signing_secret_lookup

        signing_keys_register(KEY_PREFIX, signing_secret_lookup)

        from aftersales.core.events import subscribe_task

        from .events import RuleSimulationQueued

        subscribe_task(RuleSimulationQueued, "aftersales.rules.tasks.rule_simulation_run", lambda e: (e.run_id,))
